"""The admin staff use for manual follow-ups: filter, change view, screenshots, actions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from contacts.models import AttemptStatus, ContactAttempt, Event, SandboxSubmission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_queue")]

CHANGELIST = reverse("admin:contacts_contactattempt_changelist")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32




@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser("sam", "sam@example.org", "password")


def attempt_for(owner, profile, dealer, status=AttemptStatus.FAILED, **extra) -> ContactAttempt:
    return ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealer, status=status, **extra)


def screenshot_url(attempt: ContactAttempt, which: str = "form") -> str:
    return reverse("admin:contacts_contactattempt_screenshot", args=[attempt.pk, which])


# --- access ---------------------------------------------------------------------------------


def test_it_redirects_non_staff_to_the_admin_login(client, owner):
    client.force_login(owner)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_lists_attempts_with_their_columns(client, staff, owner, profile, dealers):
    attempt_for(owner, profile, dealers[0])
    client.force_login(staff)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("Dealer", "Customer", "Owner", "Status", "Phase", "Created", "Followed up"):
        assert heading in html
    assert "Beverly Hills Toyota" in html


# --- the needs-follow-up filter ------------------------------------------------------------


def test_it_filters_attempts_needing_follow_up(client, staff, owner, profile, dealers, search):
    captcha = attempt_for(owner, profile, dealers[0], AttemptStatus.CAPTCHA)
    unconfirmed = attempt_for(owner, profile, dealers[1], AttemptStatus.UNCONFIRMED)
    done = attempt_for(owner, profile, dealers[2], AttemptStatus.FAILED, followed_up=True)
    submitted = attempt_for(owner, profile, dealers[2], AttemptStatus.SUBMITTED)
    client.force_login(staff)

    needed = client.get(CHANGELIST, {"follow_up": "needed"}).context["cl"].queryset
    assert set(needed) == {captcha, unconfirmed}
    not_needed = client.get(CHANGELIST, {"follow_up": "not_needed"}).context["cl"].queryset
    assert set(not_needed) == {done, submitted}
    everything = client.get(CHANGELIST).context["cl"].queryset
    assert everything.count() == 4


def test_it_searches_by_dealer_and_customer(client, staff, owner, profile, dealers):
    toyota = attempt_for(owner, profile, dealers[0])
    ford = attempt_for(owner, profile, dealers[1])
    client.force_login(staff)
    assert list(client.get(CHANGELIST, {"q": "Santa Monica"}).context["cl"].queryset) == [ford]
    assert list(client.get(CHANGELIST, {"q": "127.0.0.1:9/bh"}).context["cl"].queryset) == [toyota]
    assert client.get(CHANGELIST, {"q": "Buyer"}).context["cl"].queryset.count() == 2


# --- change view ----------------------------------------------------------------------------


def test_it_shows_the_attempt_for_follow_up(client, staff, owner, profile, dealers):
    attempt = attempt_for(
        owner, profile, dealers[0], AttemptStatus.CAPTCHA,
        error="A reCAPTCHA guards the form.",
        filled_fields=[{"kind": "email", "label": "Your e-mail", "value": "alice.buyer@example.org"}],
        phase_timings={"opening": 1.2, "finding_form": 0.4},
    )
    attempt.screenshot_form.save("form.png", ContentFile(PNG))
    client.force_login(staff)
    response = client.get(reverse("admin:contacts_contactattempt_change", args=[attempt.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="http://127.0.0.1:9/bh/" target="_blank" rel="noopener noreferrer">' in html
    assert "<td>Your e-mail</td><td>email</td><td>alice.buyer@example.org</td>" in html
    assert "<td>Opening site</td><td>1.2 s</td>" in html
    assert "A reCAPTCHA guards the form." in html
    assert f'<img src="{screenshot_url(attempt)}"' in html
    assert screenshot_url(attempt, "result") not in html
    assert 'name="follow_up_notes"' in html
    # The worker's record is shown, not editable.
    assert 'name="error"' not in html
    assert 'name="status"' not in html


def test_it_saves_follow_up_notes_and_stamps_the_time(client, staff, owner, profile, dealers):
    attempt = attempt_for(owner, profile, dealers[0], AttemptStatus.FAILED)
    client.force_login(staff)
    url = reverse("admin:contacts_contactattempt_change", args=[attempt.pk])
    response = client.post(url, {"followed_up": "on", "follow_up_notes": "Called the sales desk."})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.follow_up_notes == "Called the sales desk."
    assert attempt.followed_up
    assert attempt.followed_up_at is not None
    assert attempt.status == AttemptStatus.FAILED


def test_it_offers_no_add_button_for_attempts(client, staff):
    client.force_login(staff)
    assert client.get(reverse("admin:contacts_contactattempt_add")).status_code == 403


# --- screenshots ----------------------------------------------------------------------------


def test_it_serves_screenshots_to_staff(client, staff, owner, profile, dealers):
    attempt = attempt_for(owner, profile, dealers[0])
    attempt.screenshot_result.save("result.png", ContentFile(PNG))
    client.force_login(staff)
    response = client.get(screenshot_url(attempt, "result"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == PNG


def test_it_keeps_screenshots_from_non_staff(client, owner, profile, dealers):
    attempt = attempt_for(owner, profile, dealers[0])
    attempt.screenshot_form.save("form.png", ContentFile(PNG))
    # Not logged in, and logged in as the attempt's own (non-staff) owner: both go to the admin login.
    for login in (None, owner):
        if login:
            client.force_login(login)
        response = client.get(screenshot_url(attempt))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_it_refuses_staff_without_view_permission(client, owner, profile, dealers):
    attempt = attempt_for(owner, profile, dealers[0])
    attempt.screenshot_form.save("form.png", ContentFile(PNG))
    clerk = User.objects.create_user("clerk", password="password", is_staff=True)
    client.force_login(clerk)
    assert client.get(screenshot_url(attempt)).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_contactattempt"))
    client.force_login(User.objects.get(pk=clerk.pk))
    assert client.get(screenshot_url(attempt)).status_code == 200


def test_it_returns_404_for_missing_screenshots(client, staff, owner, profile, dealers):
    attempt = attempt_for(owner, profile, dealers[0])
    client.force_login(staff)
    assert client.get(screenshot_url(attempt, "form")).status_code == 404
    assert client.get(screenshot_url(attempt, "secrets")).status_code == 404
    assert client.get(reverse("admin:contacts_contactattempt_screenshot", args=[999, "form"])).status_code == 404
    # A file recorded on the row but gone from disk.
    attempt.screenshot_form.save("form.png", ContentFile(PNG))
    attempt.screenshot_form.storage.delete(attempt.screenshot_form.name)
    assert client.get(screenshot_url(attempt, "form")).status_code == 404


# --- actions ---------------------------------------------------------------------------------


def run_action(client, action: str, attempts: list[ContactAttempt]):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [a.pk for a in attempts]}, follow=True)


def test_it_marks_attempts_followed_up(client, staff, owner, profile, dealers):
    first = attempt_for(owner, profile, dealers[0], AttemptStatus.CAPTCHA)
    second = attempt_for(owner, profile, dealers[1], AttemptStatus.FAILED)
    untouched = attempt_for(owner, profile, dealers[2], AttemptStatus.UNCONFIRMED)
    client.force_login(staff)
    response = run_action(client, "mark_followed_up", [first, second])
    assert "Marked 2 attempts followed up." in response.content.decode()
    assert set(ContactAttempt.objects.needs_follow_up()) == {untouched}
    first.refresh_from_db()
    assert first.followed_up_at is not None


def test_it_retries_attempts_by_queueing_new_ones(client, staff, owner, profile, dealers, search,
                                                  django_capture_on_commit_callbacks):
    failed = attempt_for(owner, profile, dealers[0], AttemptStatus.FAILED, search=search)
    client.force_login(staff)
    # The task is enqueued when the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, "retry", [failed])
    assert "Queued 1 attempt." in response.content.decode()
    retry = ContactAttempt.objects.exclude(pk=failed.pk).get()
    assert retry.status == AttemptStatus.QUEUED
    assert (retry.owner, retry.customer, retry.dealer, retry.search) == (owner, profile, dealers[0], search)
    assert Event.objects.filter(attempt=retry, kind="queued").exists()
    assert HUEY.pending_count() == 1


def test_it_skips_retries_already_in_progress(client, staff, owner, profile, dealers):
    failed = attempt_for(owner, profile, dealers[0], AttemptStatus.FAILED)
    attempt_for(owner, profile, dealers[0], AttemptStatus.RUNNING)
    other = attempt_for(owner, profile, dealers[1], AttemptStatus.CAPTCHA)
    client.force_login(staff)
    response = run_action(client, "retry", [failed, other])
    assert "Queued 1 attempt; skipped Beverly Hills Toyota for Alice Buyer: already in progress." in (
        response.content.decode()
    )
    assert ContactAttempt.objects.filter(status=AttemptStatus.QUEUED).get().dealer == dealers[1]
    assert ContactAttempt.objects.filter(dealer=dealers[0]).count() == 2


# --- the other models ------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["customerprofile", "search", "event", "sandboxsubmission"])
def test_it_lists_the_other_models(client, staff, profile, search, model):
    client.force_login(staff)
    assert client.get(reverse(f"admin:contacts_{model}_changelist")).status_code == 200


def test_it_keeps_the_logs_read_only(client, staff, owner, search):
    event = Event.objects.create(owner=owner, search=search, kind="queued")
    submission = SandboxSubmission.objects.create(site="acme", fields={"email": "a@example.org"})
    client.force_login(staff)
    assert client.get(reverse("admin:contacts_event_add")).status_code == 403
    response = client.post(reverse("admin:contacts_event_change", args=[event.pk]), {"kind": "finished"})
    assert response.status_code == 403
    assert Event.objects.get(pk=event.pk).kind == "queued"
    assert client.post(reverse("admin:contacts_sandboxsubmission_delete", args=[submission.pk]),
                       {"post": "yes"}).status_code == 403
    page = client.get(reverse("admin:contacts_sandboxsubmission_change", args=[submission.pk])).content.decode()
    assert "<tr><th>email</th><td>a@example.org</td></tr>" in page


def test_it_validates_profiles_edited_in_the_admin(client, staff, profile):
    client.force_login(staff)
    url = reverse("admin:contacts_customerprofile_change", args=[profile.pk])
    data = {
        "owner": profile.owner_id, "first_name": "Alice", "last_name": "Buyer", "email": "alice@example.org",
        "phone": "310 555 0188", "zip_code": "90210", "preferred_contact": "phone", "vehicle_year": "2024",
        "vehicle_make": "Toyota", "vehicle_model": "RAV4", "vehicle_trim": "", "message_template": "Hi {dealer_name}",
    }
    response = client.post(url, {**data, "zip_code": "00000"})
    assert response.status_code == 200
    assert "ZIP code: 00000 does not exist" in response.content.decode()
    assert client.post(url, data).status_code == 302
    profile.refresh_from_db()
    assert profile.phone == "+13105550188"
    assert profile.preferred_contact == "phone"
