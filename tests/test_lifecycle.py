"""Screenshots leave the disk with their attempt, customer and user, and after the retention
period; a user can delete their account and everything in it."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from contacts import tasks
from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Event, Search

JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    # Ids repeat between tests (each rolls back), so another test's files could share a folder.
    settings.MEDIA_ROOT = tmp_path / "media"


def attempt_with_screenshots(owner, customer, dealer, *, finished=None, search=None) -> ContactAttempt:
    attempt = ContactAttempt.objects.create(owner=owner, customer=customer, dealer=dealer, search=search,
                                            status=AttemptStatus.SUBMITTED, finished=finished or timezone.now())
    attempt.screenshot_form.save("form.jpg", ContentFile(JPEG), save=False)
    attempt.screenshot_result.save("result.jpg", ContentFile(JPEG), save=False)
    attempt.save()
    return attempt


def files_of(attempt: ContactAttempt) -> list[Path]:
    paths = [Path(attempt.screenshot_form.path), Path(attempt.screenshot_result.path)]
    assert all(path.is_file() for path in paths)
    return paths


def test_deleting_an_attempt_deletes_its_screenshots_after_commit(owner, profile, dealers,
                                                                  django_capture_on_commit_callbacks):
    attempt = attempt_with_screenshots(owner, profile, dealers[0])
    paths = files_of(attempt)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attempt.delete()
    # Not before the delete commits: a rolled-back delete keeps its files.
    assert all(path.is_file() for path in paths)
    for callback in callbacks:
        callback()
    assert not any(path.exists() for path in paths)
    assert not paths[0].parent.exists()  # the attempt's folder goes too


def test_deleting_a_customer_deletes_their_screenshots(client, owner, profile, dealers, teammate,
                                                       django_capture_on_commit_callbacks):
    mine = files_of(attempt_with_screenshots(owner, profile, dealers[0]))
    other_customer = CustomerProfile.objects.create(
        owner=teammate, first_name="Bob", last_name="Buyer", email="bob.buyer@example.org", phone="+13105550124",
        zip_code="90210", vehicle_year=2024, vehicle_make="Ford", vehicle_model="F-150")
    theirs = files_of(attempt_with_screenshots(teammate, other_customer, dealers[0]))
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("profile_delete", args=[profile.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    assert not CustomerProfile.objects.filter(pk=profile.pk).exists()
    assert not any(path.exists() for path in mine)
    assert all(path.is_file() for path in theirs)


def test_deleting_an_account_deletes_everything_in_it(client, owner, profile, dealers, search, teammate,
                                                      django_capture_on_commit_callbacks):
    mine = files_of(attempt_with_screenshots(owner, profile, dealers[0], search=search))
    queued = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[1], search=search)
    teammate_customer = CustomerProfile.objects.create(
        owner=teammate, first_name="Bob", last_name="Buyer", email="bob.buyer@example.org", phone="+13105550124",
        zip_code="90210", vehicle_year=2024, vehicle_make="Ford", vehicle_model="F-150")
    theirs = files_of(attempt_with_screenshots(teammate, teammate_customer, dealers[0]))
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_delete"), {"confirm_username": owner.username})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not User.objects.filter(pk=owner.pk).exists()
    assert not CustomerProfile.objects.filter(owner_id=owner.pk).exists()
    assert not Search.objects.filter(owner_id=owner.pk).exists()
    assert not ContactAttempt.objects.filter(owner_id=owner.pk).exists()
    assert not Event.objects.filter(owner_id=owner.pk).exists()
    assert not ContactAttempt.objects.filter(pk=queued.pk).exists()
    assert not any(path.exists() for path in mine)
    assert not (Path(settings.MEDIA_ROOT) / "screenshots" / str(owner.pk)).exists()
    assert "_auth_user_id" not in client.session
    # Nobody else's data is touched.
    assert all(path.is_file() for path in theirs)
    assert User.objects.filter(pk=teammate.pk).exists()


def test_the_retention_purge_deletes_old_screenshots_only(owner, profile, dealers, settings,
                                                          django_capture_on_commit_callbacks):
    settings.SCREENSHOT_RETENTION_DAYS = 30
    old = attempt_with_screenshots(owner, profile, dealers[0], finished=timezone.now() - timedelta(days=31))
    recent = attempt_with_screenshots(owner, profile, dealers[1], finished=timezone.now() - timedelta(days=29))
    old_files, recent_files = files_of(old), files_of(recent)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.purge_old_screenshots.call_local()  # what the worker runs every hour
    assert not any(path.exists() for path in old_files)
    assert all(path.is_file() for path in recent_files)
    old.refresh_from_db()
    # The attempt and its outcome stay; only the images went.
    assert old.status == AttemptStatus.SUBMITTED and not old.screenshot_form and not old.screenshot_result


def test_the_purge_command(owner, profile, dealers, settings, django_capture_on_commit_callbacks):
    settings.SCREENSHOT_RETENTION_DAYS = 0  # keep forever, unless told otherwise
    old = attempt_with_screenshots(owner, profile, dealers[0], finished=timezone.now() - timedelta(days=10))
    paths = files_of(old)
    out = io.StringIO()
    call_command("purge_screenshots", stdout=out)
    assert "nothing deleted" in out.getvalue() and all(path.is_file() for path in paths)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_screenshots", "--days", "7", stdout=out)
    assert out.getvalue().strip() == "Deleted 2 screenshots older than 7 days."
    assert not any(path.exists() for path in paths)


def test_it_never_purges_a_running_attempt(owner, profile, dealers, settings, django_capture_on_commit_callbacks):
    attempt = attempt_with_screenshots(owner, profile, dealers[0])
    ContactAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.RUNNING, finished=None,
                                                        created=timezone.now() - timedelta(days=400))
    paths = files_of(attempt)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_screenshots", "--days", "1", stdout=io.StringIO())
    assert all(path.is_file() for path in paths)


def test_the_purge_is_a_periodic_task():
    from huey.contrib.djhuey import HUEY

    periodic = {task_class.__name__ for task_class in HUEY._registry._periodic_tasks}
    assert "purge_old_screenshots" in periodic


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_deleting_an_account_mid_attempt_sends_nothing_and_keeps_no_files(owner, profile, huey_consumer, settings):
    import threading

    from huey import signals
    from huey.contrib.djhuey import HUEY

    from contacts import services
    from contacts.lifecycle import delete_account
    from tests.conftest import make_dealer
    from tests.engine.conftest import THANKS, Reply, Site
    from tests.test_worker_browser import CONTACT_FORM, wait_for

    site = Site({"GET /": Reply(CONTACT_FORM, delay_s=4), "POST /send": THANKS})
    done = threading.Event()

    @HUEY.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)
    def attempt_task_ended(signal, task, *args):
        if task.name.endswith("run_attempt"):
            done.set()

    try:
        dealer = make_dealer("Slow Motors", 34.1, -118.4, site.url)
        attempt = services.start_attempts(owner, profile, [dealer]).created[0]
        wait_for(lambda: ContactAttempt.objects.filter(pk=attempt.pk, status="running").exists())
        delete_account(owner)
        assert done.wait(120), "the attempt's task did not end"
    finally:
        HUEY.disconnect_signal(attempt_task_ended)
        site.close()
    assert site.received == []  # the worker stopped before submitting for a deleted customer
    assert not (Path(settings.MEDIA_ROOT) / "screenshots" / str(owner.pk)).exists() or not any(
        (Path(settings.MEDIA_ROOT) / "screenshots" / str(owner.pk)).rglob("*.jpg"))
