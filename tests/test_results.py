"""Working through a search's results: the snapshot and its refresh, counts per dealer,
filtering, sorting and paging, bulk actions, CSV exports, manual follow-up, the
customer's page and times in the user's zone."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone as dt_timezone

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from contacts.exports import neutralise
from contacts.geo import lookup_zip
from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Dealer, Preferences, Search, SearchResult
from contacts.results import ROWS_PER_PAGE, refresh_snapshot
from contacts.time_zones import COOKIE
from tests.conftest import make_dealer

pytestmark = pytest.mark.usefixtures("empty_queue")


@pytest.fixture
def owner_client(client, owner) -> Client:
    client.force_login(owner)
    return client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attempt(search, dealer, status=AttemptStatus.SUBMITTED, **fields) -> ContactAttempt:
    created = ContactAttempt.objects.create(
        owner=search.owner, customer=search.customer, dealer=dealer, search=search, status=status, **fields
    )
    created.record_event("finished" if created.is_final else "queued")
    return created


def detail(search, **params) -> str:
    url = reverse("search_detail", args=[search.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def rows_of(response) -> list[str]:
    return [row.dealer.name for row in response.context["rows"]]


def new_search(owner, customer=None, radius=25, make="") -> Search:
    place = lookup_zip("90210")
    search = Search.objects.create(owner=owner, customer=customer, zip_code="90210", radius_miles=radius, make=make,
                                   latitude=place.latitude, longitude=place.longitude)
    refresh_snapshot(search)
    return search


# --- The snapshot ------------------------------------------------------------------------


def test_it_keeps_the_dealers_a_search_found(owner_client, profile, dealers):
    response = owner_client.post(reverse("search_create"), {"zip_code": "90210", "radius_miles": 25,
                                                            "customer": profile.pk})
    search = Search.objects.get()
    assert response.status_code == 302 and search.results_taken is not None
    assert set(search.results.values_list("dealer_id", flat=True)) == {d.pk for d in dealers}
    make_dealer("Imported Later Kia", 34.07, -118.40, "http://127.0.0.1:9/kia/")
    page = owner_client.get(detail(search))
    assert "Imported Later Kia" not in rows_of(page) and len(rows_of(page)) == 3
    assert "3 dealers" in page.content.decode()


def test_it_refreshes_a_search_and_says_what_changed(owner_client, search, dealers):
    assert owner_client.get(detail(search)).status_code == 200  # the snapshot: 3 dealers
    attempt(search, dealers[1], AttemptStatus.FAILED)
    make_dealer("Imported Later Kia", 34.07, -118.40, "http://127.0.0.1:9/kia/")
    # Two dealers move out of the area: the one contacted from this search stays in it.
    Dealer.objects.filter(pk__in=[dealers[0].pk, dealers[1].pk]).update(latitude=40.7, longitude=-74.0)
    response = owner_client.post(reverse("search_refresh", args=[search.pk]), follow=True)
    message = [str(m) for m in response.context["messages"]]
    assert message == ["Refreshed: 1 new dealer (Imported Later Kia); 1 dealer no longer matches and was removed "
                       "(Beverly Hills Toyota); 2 unchanged."]
    assert set(search.results.values_list("dealer__name", flat=True)) == {
        "Santa Monica Ford", "Pasadena Honda", "Imported Later Kia"}


def test_it_says_when_a_refresh_changed_nothing(owner_client, search, dealers):
    response = owner_client.post(reverse("search_refresh", args=[search.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Refreshed: the same 3 dealers as before, nothing changed."]


def test_it_does_not_let_others_refresh_my_search(search, dealers, teammate, outsider):
    search_results_before = SearchResult.objects.count()
    make_dealer("Imported Later Kia", 34.07, -118.40, "http://127.0.0.1:9/kia/")
    for user in (teammate, outsider):
        assert login(user).post(reverse("search_refresh", args=[search.pk])).status_code == 404
    assert SearchResult.objects.count() == search_results_before


def test_it_rejects_get_on_refresh(owner_client, search):
    assert owner_client.get(reverse("search_refresh", args=[search.pk])).status_code == 405


def test_it_rejects_a_refresh_without_a_csrf_token(owner, search):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(reverse("search_refresh", args=[search.pk])).status_code == 403


# --- Counts per dealer -------------------------------------------------------------------


def test_it_counts_each_dealer_once_by_its_latest_attempt(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.CANCELLED)
    attempt(search, dealers[0], AttemptStatus.CANCELLED)
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    attempt(search, dealers[1], AttemptStatus.FAILED)
    summary = owner_client.get(detail(search)).context["summary"]
    assert (summary.dealers, summary.contacted, summary.finished, summary.active) == (3, 2, 2, 0)
    assert {c.key: c.count for c in summary.counts} == {"submitted": 1, "failed": 1, "not_contacted": 1}
    assert summary.done and summary.needs_follow_up == 1


def test_it_says_the_batch_is_finished_only_when_nothing_is_running(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    running = attempt(search, dealers[1], AttemptStatus.RUNNING, started=timezone.now())
    text = owner_client.get(detail(search)).content.decode()
    assert "1 of 2 finished" in text and "<title>1/2 finished · " in text and 'data-done="0"' in text
    running.finish(AttemptStatus.NO_FORM)
    text = owner_client.get(detail(search)).content.decode()
    assert "Batch finished:</strong> all 2 finished" in text and "<title>✓ All finished · " in text
    assert 'data-done="1"' in text and "compact" in text and "Cancel all" not in text


# --- Filter, sort, page ----------------------------------------------------------------------


def test_it_filters_by_the_outcome_chip(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.FAILED, error="HTTP 500")
    attempt(search, dealers[2], AttemptStatus.CAPTCHA)
    response = owner_client.get(detail(search))
    text = response.content.decode()
    assert 'href="?outcome=failed"' in text and 'href="?outcome=not_contacted"' in text
    assert rows_of(owner_client.get(detail(search, outcome="failed"))) == ["Beverly Hills Toyota"]
    assert rows_of(owner_client.get(detail(search, outcome="not_contacted"))) == ["Santa Monica Ford"]
    chosen = owner_client.get(detail(search, outcome="captcha")).content.decode()
    assert 'href="?outcome=captcha" aria-current="true"' in chosen


def test_it_ignores_a_filter_or_sort_it_does_not_know(owner_client, search, dealers):
    response = owner_client.get(detail(search, outcome="bogus", sort="bogus", page="x"))
    assert response.status_code == 200 and len(rows_of(response)) == 3


def test_it_says_when_a_filter_matches_nobody(owner_client, search, dealers):
    text = owner_client.get(detail(search, outcome="submitted")).content.decode()
    assert "No dealer here is “Submitted” now." in text


def test_it_sorts_by_distance_name_outcome_and_time(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.FAILED, finished=datetime(2026, 1, 1, tzinfo=dt_timezone.utc))
    attempt(search, dealers[2], AttemptStatus.SUBMITTED, finished=datetime(2026, 2, 1, tzinfo=dt_timezone.utc))
    assert rows_of(owner_client.get(detail(search))) == ["Beverly Hills Toyota", "Santa Monica Ford",
                                                         "Pasadena Honda"]
    assert rows_of(owner_client.get(detail(search, sort="name"))) == ["Beverly Hills Toyota", "Pasadena Honda",
                                                                      "Santa Monica Ford"]
    assert rows_of(owner_client.get(detail(search, sort="outcome"))) == ["Pasadena Honda", "Beverly Hills Toyota",
                                                                         "Santa Monica Ford"]
    assert rows_of(owner_client.get(detail(search, sort="time"))) == ["Pasadena Honda", "Beverly Hills Toyota",
                                                                      "Santa Monica Ford"]


def test_it_pages_a_large_search_keeping_filter_and_sort(owner_client, owner, profile):
    for i in range(ROWS_PER_PAGE + 20):
        make_dealer(f"Dealer {i:03d}", 34.07, -118.40 + i / 10_000, f"http://127.0.0.1:9/d{i}/")
    search = new_search(owner, profile)
    first = owner_client.get(detail(search, sort="name"))
    assert len(first.context["rows"]) == ROWS_PER_PAGE and rows_of(first)[0] == "Dealer 000"
    text = first.content.decode()
    assert 'href="?sort=name&amp;page=2" rel="next"' in text
    assert f"Dealers 1–{ROWS_PER_PAGE} of {ROWS_PER_PAGE + 20} · page 1 of 2" in text
    second = owner_client.get(detail(search, sort="name", page=2))
    assert rows_of(second) == [f"Dealer {i:03d}" for i in range(ROWS_PER_PAGE, ROWS_PER_PAGE + 20)]
    # Live updates still reach every row shown: each carries its own sse-swap name.
    assert second.content.decode().count('sse-swap="dealer-') == 20
    # Past the end: the last page.
    assert rows_of(owner_client.get(detail(search, sort="name", page=99))) == rows_of(second)


def test_it_offers_no_contact_button_when_nothing_was_found(owner_client, search):
    text = owner_client.get(detail(search)).content.decode()
    assert "No dealers within 25 miles of 90210" in text
    assert "Contact selected" not in text and "Download CSV" not in text


# --- Bulk actions ------------------------------------------------------------------------------


def bulk(client, search, action):
    return client.post(reverse("search_bulk", args=[search.pk]), {"action": action}, follow=True)


def test_it_retries_the_failed_dealers(owner_client, search, dealers, django_capture_on_commit_callbacks):
    failed = attempt(search, dealers[0], AttemptStatus.FAILED)
    attempt(search, dealers[1], AttemptStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(owner_client, search, "retry_failed")
    queued = ContactAttempt.objects.filter(status=AttemptStatus.QUEUED)
    assert [a.dealer_id for a in queued] == [dealers[0].pk] and queued[0].pk != failed.pk
    assert HUEY.pending_count() == 1
    assert "Contacting 1 dealer for Alice Buyer." in response.content.decode()


def test_it_contacts_the_rest(owner_client, search, dealers, django_capture_on_commit_callbacks):
    walk_in = make_dealer("Walk-in Motors", 34.06, -118.40, "")
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    attempt(search, dealers[1], AttemptStatus.CANCELLED)
    refresh_snapshot(search)
    with django_capture_on_commit_callbacks(execute=True):
        bulk(owner_client, search, "contact_rest")
    queued = set(ContactAttempt.objects.filter(status=AttemptStatus.QUEUED).values_list("dealer_id", flat=True))
    # Never contacted or only cancelled, and with a website: not the submitted one, not the walk-in.
    assert queued == {dealers[1].pk, dealers[2].pk} and walk_in.pk not in queued
    assert HUEY.pending_count() == 2


def test_it_says_when_there_is_nothing_to_retry(owner_client, search, dealers):
    response = bulk(owner_client, search, "retry_failed")
    assert "No dealer failed." in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_it_asks_for_a_customer_before_a_bulk_action(owner_client, owner, dealers):
    search = new_search(owner, None)
    response = bulk(owner_client, search, "contact_rest")
    assert "choose whose enquiry to send" in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_it_refuses_an_unknown_bulk_action(owner_client, search, dealers):
    response = bulk(owner_client, search, "contact_everyone_twice")
    assert "Choose “Retry failed” or “Contact the rest”." in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_it_does_not_let_others_act_on_my_search(search, dealers, teammate, outsider):
    attempt(search, dealers[0], AttemptStatus.FAILED)
    for user in (teammate, outsider):
        response = login(user).post(reverse("search_bulk", args=[search.pk]), {"action": "retry_failed"})
        assert response.status_code == 404
    assert ContactAttempt.objects.count() == 1


def test_it_rejects_get_on_bulk_actions(owner_client, search):
    assert owner_client.get(reverse("search_bulk", args=[search.pk])).status_code == 405


def test_it_rejects_a_bulk_action_without_a_csrf_token(owner, search, dealers):
    attempt(search, dealers[0], AttemptStatus.FAILED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(reverse("search_bulk", args=[search.pk]), {"action": "retry_failed"}).status_code == 403
    assert ContactAttempt.objects.count() == 1


# --- CSV exports ---------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    body = response.content.decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize("value, shown", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1", "'+1"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("Plain", "Plain"), ("", ""), (None, ""), (3.5, "3.5"),
])
def test_it_neutralises_formula_cells(value, shown):
    assert neutralise(value) == shown


def test_it_exports_a_search_one_row_per_dealer(owner_client, search, dealers):
    evil = make_dealer("=cmd|' /C calc'!A0", 34.071, -118.39, "http://127.0.0.1:9/evil/")
    refresh_snapshot(search)
    attempt(search, dealers[0], AttemptStatus.CANCELLED)
    attempt(search, dealers[0], AttemptStatus.CAPTCHA, error="-reCAPTCHA guards the form",
            final_url="http://127.0.0.1:9/bh/contact", finished=datetime(2026, 12, 1, 20, 0, tzinfo=dt_timezone.utc))
    attempt(search, evil, AttemptStatus.SUBMITTED, followed_up=False)
    owner_client.cookies[COOKIE] = "America/Los_Angeles"
    response = owner_client.get(reverse("search_export", args=[search.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="dealers-90210-25mi-')
    rows = read_csv(response)
    assert len(rows) == 4  # each dealer once, whatever its history
    by_name = {row["dealer"]: row for row in rows}
    captcha = by_name["Beverly Hills Toyota"]
    assert captcha["outcome"] == "CAPTCHA" and captcha["reason"] == "'-reCAPTCHA guards the form"
    assert captcha["form_url"] == "http://127.0.0.1:9/bh/contact" and captcha["follow_up"] == "needs follow-up"
    assert captcha["finished_at"] == "2026-12-01T12:00:00-08:00"  # the user's zone, offset stated
    assert "'=cmd|' /C calc'!A0" in by_name
    assert by_name["Pasadena Honda"]["outcome"] == "Not contacted"


def test_it_exports_every_attempt_of_mine_and_nobody_elses(owner_client, owner, search, dealers, teammate):
    attempt(search, dealers[0], AttemptStatus.FAILED)
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    theirs = CustomerProfile.objects.create(owner=teammate, first_name="T", last_name="M", email="t@example.org",
                                            phone="+13105550199", zip_code="90210", vehicle_year=2024,
                                            vehicle_make="Kia", vehicle_model="EV9")
    ContactAttempt.objects.create(owner=teammate, customer=theirs, dealer=dealers[1], status="submitted")
    rows = read_csv(owner_client.get(reverse("attempts_export")))
    assert [(row["dealer"], row["outcome"]) for row in rows] == [("Beverly Hills Toyota", "Failed"),
                                                                 ("Beverly Hills Toyota", "Submitted")]


def test_it_hides_a_search_export_from_teammates_and_outsiders(search, dealers, teammate, outsider):
    for user in (teammate, outsider):
        assert login(user).get(reverse("search_export", args=[search.pk])).status_code == 404


def test_it_rejects_post_on_exports(owner_client, search):
    assert owner_client.post(reverse("search_export", args=[search.pk])).status_code == 405
    assert owner_client.post(reverse("attempts_export")).status_code == 405


def test_it_sends_anonymous_visitors_of_an_export_to_login(client, search):
    assert client.get(reverse("attempts_export")).status_code == 302
    assert client.get(reverse("search_export", args=[search.pk])).status_code == 302


# --- Manual follow-up, as the user sees it ------------------------------------------------------


def test_it_shows_a_captcha_row_needs_follow_up_with_the_contact_page(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.CAPTCHA, error="A CAPTCHA guards the form.",
            final_url="http://127.0.0.1:9/bh/contact-us", screenshot_form="shots/f.jpg")
    text = owner_client.get(detail(search)).content.decode()
    assert "Needs follow-up" in text and 'href="http://127.0.0.1:9/bh/contact-us"' in text
    assert "Dealer's contact page" in text
    # The screenshot says what it shows: nothing was filled in.
    assert "The form as found, not filled in: a CAPTCHA guards it" in text
    assert "filled in, before submitting" not in text
    assert "Follow up CAPTCHAs (1)" in text


def test_it_shows_a_follow_up_done_by_staff_with_the_note(owner_client, search, dealers, settings):
    done = attempt(search, dealers[0], AttemptStatus.CAPTCHA)
    done.mark_followed_up("Called the sales desk; quote sent by email.")
    ContactAttempt.objects.filter(pk=done.pk).update(followed_up_at=datetime(2026, 12, 2, 17, 5, tzinfo=dt_timezone.utc))
    text = owner_client.get(detail(search)).content.decode()
    assert "Followed up by staff on Dec 2, 17:05 UTC" in text
    assert "Staff note: Called the sales desk; quote sent by email." in text
    assert "Needs follow-up" not in text


def test_it_lists_the_dealers_to_follow_up_with_the_message_to_copy(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.CAPTCHA, message="Hello Beverly Hills Toyota, ...",
            final_url="http://127.0.0.1:9/bh/contact-us")
    attempt(search, dealers[1], AttemptStatus.SUBMITTED)
    response = owner_client.get(reverse("search_follow_up", args=[search.pk]))
    text = response.content.decode()
    assert [row.dealer.name for row in response.context["rows"]] == ["Beverly Hills Toyota"]
    assert "Hello Beverly Hills Toyota, ..." in text and "alice.buyer@example.org" in text
    assert 'href="http://127.0.0.1:9/bh/contact-us"' in text


def test_it_hides_the_follow_up_page_from_teammates_and_outsiders(search, teammate, outsider):
    for user in (teammate, outsider):
        assert login(user).get(reverse("search_follow_up", args=[search.pk])).status_code == 404


def test_it_rejects_post_on_the_follow_up_page(owner_client, search):
    assert owner_client.post(reverse("search_follow_up", args=[search.pk])).status_code == 405


# --- Attempt history -----------------------------------------------------------------------------


def test_it_shows_every_attempt_with_the_dealer_on_the_attempt_page(owner_client, search, dealers):
    first = attempt(search, dealers[0], AttemptStatus.FAILED, error="HTTP 503")
    latest = attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    response = owner_client.get(reverse("attempt_detail", args=[latest.pk]))
    assert [a.pk for a in response.context["history"]] == [latest.pk, first.pk]
    assert "HTTP 503" in response.content.decode()


# --- The customer's page -------------------------------------------------------------------------


def test_it_lists_every_dealer_contacted_for_a_customer(owner_client, owner, profile, search, dealers):
    attempt(search, dealers[0], AttemptStatus.FAILED)
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    attempt(new_search(owner, profile), dealers[2], AttemptStatus.CAPTCHA)
    response = owner_client.get(reverse("profile_contacted", args=[profile.pk]))
    shown = [(a.dealer.name, a.status, a.attempt_count) for a in response.context["page"].object_list]
    assert shown == [("Pasadena Honda", "captcha", 1), ("Beverly Hills Toyota", "submitted", 2)]
    assert reverse("profile_contacted", args=[profile.pk]) in owner_client.get(reverse("profile_list")).content.decode()


def test_it_hides_a_customers_page_from_teammates_and_outsiders(profile, teammate, outsider):
    for user in (teammate, outsider):
        assert login(user).get(reverse("profile_contacted", args=[profile.pk])).status_code == 404


def test_it_rejects_post_on_the_customers_page(owner_client, profile):
    assert owner_client.post(reverse("profile_contacted", args=[profile.pk])).status_code == 405


# --- Times in the user's zone ------------------------------------------------------------------


def test_it_stores_the_browsers_time_zone_for_the_user(owner_client, owner):
    response = owner_client.post(reverse("set_time_zone"), {"time_zone": "America/Los_Angeles"})
    assert response.status_code == 204 and response.cookies[COOKIE].value == "America/Los_Angeles"
    assert Preferences.objects.get(user=owner).time_zone == "America/Los_Angeles"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "x" * 100])
def test_it_refuses_an_unknown_time_zone(owner_client, owner, zone):
    response = owner_client.post(reverse("set_time_zone"), {"time_zone": zone})
    assert response.status_code == 400
    assert not Preferences.objects.filter(user=owner).exists()


def test_it_rejects_get_on_the_time_zone(owner_client):
    assert owner_client.get(reverse("set_time_zone")).status_code == 405


def test_it_shows_times_in_the_users_zone_with_the_zone(owner, search, dealers):
    attempt(search, dealers[0], AttemptStatus.SUBMITTED, finished=datetime(2026, 12, 1, 20, 0, tzinfo=dt_timezone.utc))
    Preferences.objects.create(user=owner, time_zone="America/New_York")
    text = login(owner).get(detail(search)).content.decode()  # no cookie yet: the stored zone
    assert "Dec 1, 15:00 EST" in text
    client = login(owner)
    client.cookies[COOKIE] = "America/Los_Angeles"
    assert "Dec 1, 12:00 PST" in client.get(detail(search)).content.decode()


def test_it_shows_the_default_zone_by_name(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.SUBMITTED, finished=datetime(2026, 12, 1, 20, 0, tzinfo=dt_timezone.utc))
    assert "Dec 1, 20:00 UTC" in owner_client.get(detail(search)).content.decode()


# --- The small ones ----------------------------------------------------------------------------


def test_it_previews_a_new_profiles_message_without_none(owner_client):
    text = owner_client.get(reverse("profile_create")).content.decode()
    assert "None" not in text.split('id="message-preview"')[1].split("</pre>")[0]
    assert "the [vehicle]" in text


def test_it_labels_the_counts_on_the_searches_list(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    response = owner_client.get(reverse("search_list"))
    listed = response.context["page"].object_list[0]
    assert (listed.dealer_count, listed.attempt_count, listed.submitted_count) == (3, 1, 1)
    assert 'data-label="Needs follow-up"' in response.content.decode()


# --- The admin's follow-up page ------------------------------------------------------------------


def test_it_gives_staff_the_customers_details_and_message_to_follow_up(client, search, dealers):
    staff = User.objects.create_superuser("sam", "sam@example.org", "password")
    captcha = attempt(search, dealers[0], AttemptStatus.CAPTCHA, message="Hello Beverly Hills Toyota, <b>hi</b>",
                      final_url="http://127.0.0.1:9/bh/contact-us")
    client.force_login(staff)
    text = client.get(reverse("admin:contacts_contactattempt_change", args=[captcha.pk])).content.decode()
    assert "alice.buyer@example.org" in text and "(310) 555-0123" in text and "2024 Toyota RAV4 XLE" in text
    assert "<textarea readonly" in text and "Hello Beverly Hills Toyota, &lt;b&gt;hi&lt;/b&gt;" in text
    assert 'href="http://127.0.0.1:9/bh/contact-us"' in text


def test_it_keeps_the_filter_and_sort_after_contacting(owner_client, search, dealers,
                                                     django_capture_on_commit_callbacks):
    attempt(search, dealers[0], AttemptStatus.FAILED)
    form = {"customer": search.customer_id, "only": dealers[1].pk, "outcome": "not_contacted", "sort": "name"}
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("search_contact", args=[search.pk]), form)
    assert response["Location"] == detail(search) + "?outcome=not_contacted&sort=name"
    fragment = owner_client.post(reverse("search_contact", args=[search.pk]), {**form, "only": dealers[2].pk},
                                 headers={"HX-Request": "true"})
    text = fragment.content.decode()
    # The rows answered are still the "not contacted" ones: none left now, the failed one not shown.
    assert "No dealer here is “Not contacted” now." in text and f'id="dealer-{dealers[0].pk}"' not in text


def test_it_counts_the_rest_without_dealers_it_cannot_contact(owner_client, search, dealers):
    make_dealer("Walk-in Motors", 34.06, -118.40, "")
    refresh_snapshot(search)
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    attempt(search, dealers[1], AttemptStatus.CANCELLED)
    response = owner_client.get(detail(search))
    assert response.context["summary"].rest == 2 and "Contact the rest (2)" in response.content.decode()


def test_it_counts_a_search_by_each_dealers_latest_attempt_on_the_list(owner_client, search, dealers):
    attempt(search, dealers[0], AttemptStatus.FAILED)
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)  # the failure is history now
    attempt(search, dealers[1], AttemptStatus.CAPTCHA)
    listed = owner_client.get(reverse("search_list")).context["page"].object_list[0]
    assert (listed.attempt_count, listed.submitted_count, listed.follow_up_count) == (2, 1, 1)


def test_it_builds_many_live_rows_in_a_fixed_number_of_queries(search, dealers, django_assert_num_queries):
    from contacts.results import dealer_row, dealer_rows_for

    attempt(search, dealers[0], AttemptStatus.CANCELLED)
    attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    refresh_snapshot(search)
    ids = [dealers[2].pk, dealers[0].pk]
    # Distances, dealers, latest attempts, and the do-not-contact list.
    with django_assert_num_queries(4):
        rows = dealer_rows_for(search, ids)
    assert [row.cells for row in rows] == [dealer_row(search, dealers[2]).cells, dealer_row(search, dealers[0]).cells]


def test_it_tells_the_live_page_when_staff_follow_up(client, search, dealers):
    from contacts.models import Event

    staff = User.objects.create_superuser("sam", "sam@example.org", "password")
    captcha = attempt(search, dealers[0], AttemptStatus.CAPTCHA)
    client.force_login(staff)
    client.post(reverse("admin:contacts_contactattempt_changelist"),
                {"action": "mark_followed_up", "_selected_action": [captcha.pk]})
    captcha.refresh_from_db()
    assert captcha.followed_up
    assert Event.objects.filter(attempt=captcha, kind="followed_up", search=search).count() == 1
