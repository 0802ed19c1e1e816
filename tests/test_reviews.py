"""Review before sending: the results page's choice, Send / Edit and send / Skip, Send all
reviewed, the attempt page, and who may do any of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from contacts import review, services
from contacts.models import AttemptStatus, CancelAnswer, ContactAttempt, Event
from contacts.results import take_snapshot

pytestmark = pytest.mark.usefixtures("empty_queue")

FIELDS = [
    {"key": "first_name", "label": "First Name", "kind": "first_name", "type": "text", "value": "Alice", "options": []},
    {"key": "email", "label": "Email", "kind": "email", "type": "text", "value": "alice.buyer@example.org",
     "options": []},
    {"key": "department", "label": "Department", "kind": "department", "type": "select", "value": "Sales",
     "options": ["Sales", "Finance"]},
    {"key": "reach", "label": "Best way to reach you?", "kind": "contact_method", "type": "radio", "value": "Email",
     "options": ["Email", "Phone"]},
    {"key": "consent", "label": "I agree to be contacted", "kind": "consent", "type": "checkbox", "value": "I agree",
     "options": []},
]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def waiting(search, dealers) -> ContactAttempt:
    take_snapshot(search)
    return ContactAttempt.objects.create(
        owner=search.owner, customer=search.customer, dealer=dealers[0], search=search,
        status=AttemptStatus.AWAITING_REVIEW, review_first=True, review_fields=FIELDS, review_fingerprint="f" * 64,
        review_ready=timezone.now(), started=timezone.now(),
    )


def send_url(attempt, edit=False) -> str:
    return reverse("attempt_review_edit" if edit else "attempt_review_send", args=[attempt.pk])


def name(attempt, key) -> str:
    return review.input_name(attempt, next(i for i, f in enumerate(FIELDS) if f["key"] == key))


def test_it_queues_reviewed_attempts_from_contact_selected(owner, search, dealers, django_capture_on_commit_callbacks):
    take_snapshot(search)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post(reverse("search_contact", args=[search.pk]),
                                     {"customer": search.customer_id, "dealer": [dealers[0].pk], "mode": "review"})
    assert response.status_code == 302
    attempt = ContactAttempt.objects.get()
    assert attempt.review_first and attempt.status == AttemptStatus.QUEUED
    assert HUEY.pending_count() == 1


def test_it_sends_at_once_by_default(owner, search, dealers):
    take_snapshot(search)
    login(owner).post(reverse("search_contact", args=[search.pk]),
                      {"customer": search.customer_id, "dealer": [dealers[0].pk]})
    assert ContactAttempt.objects.get().review_first is False


def test_it_shows_the_filled_form_on_the_results_page_and_attempt_page(owner, search, waiting):
    page = login(owner).get(reverse("search_detail", args=[search.pk])).content.decode()
    assert "Awaiting review" in page and "Edit and send" in page and "Skip" in page
    assert "Send all reviewed (1)" in page
    assert reverse("attempt_review_skip", args=[waiting.pk]) in page
    detail = login(owner).get(reverse("attempt_detail", args=[waiting.pk])).content.decode()
    assert "Review before sending" in detail and "alice.buyer@example.org" in detail
    assert '<option selected>Sales</option>' in detail and "<option>Finance</option>" in detail


def test_it_sends_as_reviewed(owner, search, waiting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post(send_url(waiting), {name(waiting, "department"): "Finance"})
    assert response.status_code == 302 and response.url == reverse("attempt_detail", args=[waiting.pk])
    waiting.refresh_from_db()
    # Plain "Send" ignores edits: what was reviewed is what goes.
    assert waiting.status == AttemptStatus.QUEUED and waiting.approved_values["department"] == "Sales"
    assert "consent" not in waiting.approved_values  # a box keeps the engine's answer
    assert HUEY.pending_count() == 1
    assert Event.objects.filter(attempt=waiting, kind="queued").exists()


def test_it_edits_and_sends(owner, search, waiting):
    response = login(owner).post(send_url(waiting, edit=True), {
        name(waiting, "department"): "Finance", name(waiting, "reach"): "Phone",
        name(waiting, "first_name"): " Alicia ", "search": search.pk,
    })
    assert response.status_code == 302 and response.url == reverse("search_detail", args=[search.pk])
    waiting.refresh_from_db()
    assert waiting.status == AttemptStatus.QUEUED
    assert waiting.approved_values == {"first_name": "Alicia", "email": "alice.buyer@example.org",
                                       "department": "Finance", "reach": "Phone"}


@pytest.mark.parametrize("key, value, error", [
    ("department", "Parts", "Choose one of the form"),
    ("reach", "Carrier pigeon", "Choose one of the form"),
    ("email", "not an address", "is not an email address"),
    ("first_name", "   ", "cannot be left empty"),
])
def test_it_refuses_a_value_the_form_does_not_offer(owner, search, waiting, key, value, error):
    response = login(owner).post(send_url(waiting, edit=True), {name(waiting, key): value})
    assert response.status_code == 200 and error in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == AttemptStatus.AWAITING_REVIEW and waiting.approved_values == {}
    assert HUEY.pending_count() == 0


def test_it_shows_edit_errors_in_the_row_over_htmx(owner, search, waiting):
    response = login(owner).post(send_url(waiting, edit=True), {name(waiting, "department"): "Parts",
                                                                "search": search.pk}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and f'id="dealer-{waiting.dealer_id}"' in body
    assert "Choose one of the form" in body and "<details class=\"review-edit\" open>" in body
    waiting.refresh_from_db()
    assert waiting.status == AttemptStatus.AWAITING_REVIEW


def test_it_skips(owner, search, waiting):
    response = login(owner).post(reverse("attempt_review_skip", args=[waiting.pk]), {"search": search.pk},
                                 HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    waiting.refresh_from_db()
    assert waiting.status == AttemptStatus.CANCELLED and waiting.error == review.SKIPPED
    assert HUEY.pending_count() == 0


def test_it_sends_all_reviewed(owner, search, dealers, waiting):
    other = ContactAttempt.objects.create(
        owner=owner, customer=search.customer, dealer=dealers[1], search=search, status=AttemptStatus.AWAITING_REVIEW,
        review_first=True, review_fields=FIELDS, review_fingerprint="e" * 64, review_ready=timezone.now())
    running = ContactAttempt.objects.create(owner=owner, customer=search.customer, dealer=dealers[2], search=search,
                                            status=AttemptStatus.RUNNING)
    response = login(owner).post(reverse("search_send_reviewed", args=[search.pk]))
    assert response.status_code == 302
    assert set(ContactAttempt.objects.filter(status=AttemptStatus.QUEUED)) == {waiting, other}
    running.refresh_from_db()
    assert running.status == AttemptStatus.RUNNING


def test_it_says_so_when_the_review_is_over(owner, search, waiting):
    waiting.finish(AttemptStatus.CANCELLED, only_from=(AttemptStatus.AWAITING_REVIEW,))
    response = login(owner).post(send_url(waiting), follow=True)
    assert "no longer waiting for review" in response.content.decode()
    assert ContactAttempt.objects.get(pk=waiting.pk).status == AttemptStatus.CANCELLED


@pytest.mark.parametrize("user", ["teammate", "outsider"])
def test_it_is_a_404_for_another_user(request, search, waiting, user):
    client = login(request.getfixturevalue(user))
    for url in (send_url(waiting), send_url(waiting, edit=True), reverse("attempt_review_skip", args=[waiting.pk]),
                reverse("search_send_reviewed", args=[search.pk])):
        assert client.post(url).status_code == 404, url
    assert client.get(reverse("attempt_detail", args=[waiting.pk])).status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == AttemptStatus.AWAITING_REVIEW


def test_it_allows_only_post(owner, search, waiting):
    client = login(owner)
    for url in (send_url(waiting), reverse("attempt_review_skip", args=[waiting.pk]),
                reverse("search_send_reviewed", args=[search.pk])):
        assert client.get(url).status_code == 405, url
    assert ContactAttempt.objects.get(pk=waiting.pk).status == AttemptStatus.AWAITING_REVIEW


def test_it_rejects_a_review_action_without_a_csrf_token(owner, search, waiting):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for url in (send_url(waiting), reverse("attempt_review_skip", args=[waiting.pk]),
                reverse("search_send_reviewed", args=[search.pk])):
        assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403, url
    assert ContactAttempt.objects.get(pk=waiting.pk).status == AttemptStatus.AWAITING_REVIEW


def test_it_redirects_anonymous_users(client, waiting):
    response = client.post(send_url(waiting))
    assert response.status_code == 302 and "login" in response.url


# --- The rules around the state ------------------------------------------------------


def test_it_is_the_one_live_attempt_for_its_customer_and_dealer(owner, search, waiting, dealers):
    result = services.start_attempts(owner, search.customer, [dealers[0]], search=search, contact_again=True,
                                     override_cooldown=True)
    assert result.created == [] and result.in_progress == [dealers[0]]


def test_cancelling_ends_it_at_once(waiting):
    assert services.cancel_attempts([waiting]) == {waiting: CancelAnswer.CANCELLED}
    waiting.refresh_from_db()
    assert waiting.status == AttemptStatus.CANCELLED and "at review" in waiting.error


def test_the_reaper_leaves_a_fresh_review_alone_and_expires_an_old_one(waiting, settings):
    settings.REVIEW_EXPIRY_H = 24
    ContactAttempt.objects.filter(pk=waiting.pk).update(started=timezone.now() - timedelta(hours=5))
    assert ContactAttempt.reap_stale() == [] and ContactAttempt.expire_reviews() == []
    assert ContactAttempt.expire_reviews(now=timezone.now() + timedelta(hours=25)) == [waiting]
    waiting.refresh_from_db()
    assert waiting.status == AttemptStatus.CANCELLED and "Review expired" in waiting.error


def test_metrics_count_forms_awaiting_review(client, waiting, settings):
    settings.METRICS_TOKEN = "scrape-me"
    body = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer scrape-me").content.decode()
    assert "dealercontact_attempts_awaiting_review 1.0" in body


def test_the_summary_counts_reviews_apart_and_asks_for_them(search, waiting):
    from contacts.results import Results

    summary = Results(search).summary()
    assert summary.by_key["awaiting_review"] == 1 and summary.active == 0
    # Nothing was sent: the batch is not finished while a form waits.
    assert summary.finished == 0 and not summary.done and summary.title == "0/1 finished"
    assert "waiting for your review" in summary.sentence
    assert [c.key for c in summary.outcome_counts] == ["awaiting_review"]


def test_sending_respects_the_limit_of_attempts_at_once(owner, search, dealers, waiting, settings):
    settings.ACTIVE_ATTEMPTS_PER_USER = 1
    ContactAttempt.objects.create(owner=owner, customer=search.customer, dealer=dealers[2], search=search,
                                  status=AttemptStatus.RUNNING)
    other = ContactAttempt.objects.create(
        owner=owner, customer=search.customer, dealer=dealers[1], search=search, status=AttemptStatus.AWAITING_REVIEW,
        review_first=True, review_fields=FIELDS, review_fingerprint="e" * 64, review_ready=timezone.now())

    response = login(owner).post(send_url(waiting), follow=True)
    assert "Not sent yet" in response.content.decode()
    response = login(owner).post(reverse("search_send_reviewed", args=[search.pk]), follow=True)
    assert "2 reviewed forms still waiting" in response.content.decode()
    assert ContactAttempt.objects.filter(status=AttemptStatus.AWAITING_REVIEW).count() == 2

    settings.ACTIVE_ATTEMPTS_PER_USER = 2
    login(owner).post(reverse("search_send_reviewed", args=[search.pk]))
    assert ContactAttempt.objects.filter(status=AttemptStatus.QUEUED).count() == 1
    assert {waiting.pk, other.pk} & set(ContactAttempt.objects.filter(status="queued").values_list("pk", flat=True))


def test_the_database_refuses_a_second_live_attempt_beside_a_review(search, waiting):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ContactAttempt.objects.create(owner=search.owner, customer=search.customer, dealer=waiting.dealer,
                                      search=search, status=AttemptStatus.QUEUED)


def test_the_dashboard_counts_forms_waiting_for_review(owner, waiting):
    body = login(owner).get(reverse("dashboard")).content.decode()
    assert "1 filled form is waiting for review." in body
    detail = login(owner).get(reverse("attempt_detail", args=[waiting.pk])).content.decode()
    assert "Fields filled" in detail


def test_contact_again_keeps_the_review_choice(owner, search, dealers, settings):
    settings.RECONTACT_COOLDOWN_H = 0
    take_snapshot(search)
    ContactAttempt.objects.create(owner=owner, customer=search.customer, dealer=dealers[0], search=search,
                                  status=AttemptStatus.SUBMITTED)
    url = reverse("search_contact", args=[search.pk])
    response = login(owner).post(url, {"customer": search.customer_id, "dealer": [dealers[0].pk], "mode": "review"})
    assert '<input type="hidden" name="mode" value="review">' in response.content.decode()

    login(owner).post(url, {"customer": search.customer_id, "dealer": [dealers[0].pk], "mode": "review",
                            "contact_again": "1"})
    assert ContactAttempt.objects.get(status=AttemptStatus.QUEUED).review_first


def test_it_refuses_an_unknown_contact_mode(owner, search, dealers):
    take_snapshot(search)
    response = login(owner).post(reverse("search_contact", args=[search.pk]),
                                 {"customer": search.customer_id, "dealer": [dealers[0].pk], "mode": "sometimes"})
    assert response.status_code == 200 and "Review each form first" in response.content.decode()
    assert not ContactAttempt.objects.exists()


def test_the_attempt_page_posts_plainly_and_the_row_over_htmx(owner, search, waiting):
    detail = login(owner).get(reverse("attempt_detail", args=[waiting.pk])).content.decode()
    assert f'formaction="{send_url(waiting)}"' in detail and "hx-post" not in detail.split("review-panel")[1]
    page = login(owner).get(reverse("search_detail", args=[search.pk])).content.decode()
    assert f'hx-post="{send_url(waiting)}"' in page


def test_it_says_nothing_is_sent_before_review(owner, search, dealers):
    take_snapshot(search)
    response = login(owner).post(reverse("search_contact", args=[search.pk]),
                                 {"customer": search.customer_id, "dealer": [dealers[0].pk], "mode": "review"},
                                 follow=True)
    assert "Nothing is sent until you review each one" in response.content.decode()


def test_a_review_run_cancelled_while_it_filled_ends_cancelled(search, dealers):
    from contacts.engine.types import ContactResult, FilledField

    attempt = ContactAttempt.objects.create(owner=search.owner, customer=search.customer, dealer=dealers[0],
                                            search=search, status=AttemptStatus.RUNNING, review_first=True,
                                            cancel_requested=True, started=timezone.now())
    result = ContactResult(status="awaiting_review", fields=[FilledField("email", "Email", "a@example.org",
                                                                         key="email", type="text")],
                           fingerprint="a" * 64)
    assert review.hold_for_review(attempt, result, {}) == AttemptStatus.CANCELLED
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.CANCELLED and attempt.review_fields == []


def test_a_review_run_records_the_fields_and_frees_its_worker(search, dealers):
    from contacts.engine.types import ContactResult, FilledField

    attempt = ContactAttempt.objects.create(owner=search.owner, customer=search.customer, dealer=dealers[0],
                                            search=search, status=AttemptStatus.RUNNING, review_first=True,
                                            claimed_by="host:1:w", phase="filling", started=timezone.now())
    assert review.engine_review(attempt).sending is False
    result = ContactResult(status="awaiting_review", error="Filled and waiting for your review; nothing was sent.",
                           fields=[FilledField("department", "Department", "Sales", key="dept", type="select",
                                               options=("Sales", "Finance"))], fingerprint="a" * 64)
    assert review.hold_for_review(attempt, result, {}) == AttemptStatus.AWAITING_REVIEW
    attempt.refresh_from_db()
    assert (attempt.status, attempt.claimed_by, attempt.phase, attempt.error) == ("awaiting_review", "", "", "")
    assert attempt.review_fields == [{"key": "dept", "label": "Department", "kind": "department", "type": "select",
                                      "value": "Sales", "options": ["Sales", "Finance"]}]
    assert Event.objects.filter(attempt=attempt, kind="finished").exists()
    assert review.send(attempt, {"dept": "Finance"})
    attempt.refresh_from_db()
    sending = review.engine_review(attempt)
    assert sending.sending and sending.approved == {"dept": "Finance"} and sending.fingerprint == "a" * 64
