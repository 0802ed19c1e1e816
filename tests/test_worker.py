"""The attempt lifecycle: claiming, the Huey task path on real storage, the reaper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from contacts import services, worker
from contacts.models import AttemptStatus, ContactAttempt, Event


pytestmark = pytest.mark.usefixtures("empty_queue")


def queue_attempt(owner, profile, dealer, search=None, **kw) -> ContactAttempt:
    attempt = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealer, search=search, **kw)
    attempt.record_event("queued")
    return attempt


def test_it_enqueues_one_task_per_attempt_after_commit(owner, profile, dealers, search,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.start_attempts(owner, profile, dealers, search=search)
    # Nothing is in the queue until the rows are committed: the task reads them.
    assert HUEY.pending_count() == 0
    for callback in callbacks:
        callback()
    assert len(result.created) == 3
    assert HUEY.pending_count() == 3
    assert set(ContactAttempt.objects.values_list("status", flat=True)) == {"queued"}
    assert Event.objects.filter(kind="queued", search=search).count() == 3


def test_it_does_not_queue_a_dealer_twice(owner, profile, dealers, search, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.start_attempts(owner, profile, dealers[:1], search=search)
        again = services.start_attempts(owner, profile, dealers[:1], search=search, contact_again=True)
    assert again.created == [] and again.in_progress == [dealers[0]]
    assert ContactAttempt.objects.count() == 1
    assert HUEY.pending_count() == 1


def test_it_asks_before_contacting_again(owner, profile, dealers, search, django_capture_on_commit_callbacks):
    # Long enough ago to be past the re-contact cooldown (tests/test_limits.py covers it).
    queue_attempt(owner, profile, dealers[0], search, status=AttemptStatus.SUBMITTED,
                  created=timezone.now() - timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.start_attempts(owner, profile, dealers[:1], search=search)
        assert first.already_contacted == [dealers[0]] and first.created == []
        confirmed = services.start_attempts(owner, profile, dealers[:1], search=search, contact_again=True)
    assert len(confirmed.created) == 1
    assert ContactAttempt.objects.filter(dealer=dealers[0]).count() == 2


def test_claim_is_won_once(owner, profile, dealers):
    attempt = queue_attempt(owner, profile, dealers[0])
    assert ContactAttempt.claim(attempt.pk, "worker-a") is True
    assert ContactAttempt.claim(attempt.pk, "worker-b") is False
    attempt.refresh_from_db()
    assert attempt.status == "running" and attempt.claimed_by == "worker-a" and attempt.started


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_attempt_is_never_run(owner, profile, dealers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = services.start_attempts(owner, profile, dealers[:1])
    attempt = result.created[0]
    assert services.cancel_attempts([attempt]) == 1
    attempt.refresh_from_db()
    assert attempt.status == "cancelled" and attempt.finished

    # The task is still in real Huey storage; executing it must not touch the row.
    task = HUEY.dequeue()
    HUEY.execute(task)
    attempt.refresh_from_db()
    assert attempt.status == "cancelled" and attempt.started is None


def test_cancel_of_a_running_attempt_only_asks_it_to_stop(owner, profile, dealers):
    attempt = queue_attempt(owner, profile, dealers[0])
    ContactAttempt.claim(attempt.pk, "w")
    attempt.refresh_from_db()
    assert services.cancel_attempts([attempt]) == 1
    attempt.refresh_from_db()
    assert attempt.status == "running" and attempt.cancel_requested


def test_a_final_outcome_is_never_overwritten(owner, profile, dealers):
    attempt = queue_attempt(owner, profile, dealers[0])
    ContactAttempt.claim(attempt.pk, "w")
    attempt.refresh_from_db()
    assert attempt.finish("submitted") is True
    assert attempt.finish("failed", error="late") is False
    attempt.refresh_from_db()
    assert attempt.status == "submitted" and attempt.error == ""


def test_the_reaper_ends_stale_attempts_honestly(owner, profile, dealers, settings):
    settings.CONTACT_TIMEOUT_S, settings.CONTACT_GRACE_S = 90, 30
    long_ago = timezone.now() - timedelta(seconds=200)
    not_pressed = queue_attempt(owner, profile, dealers[0], status="running", started=long_ago, phase="filling")
    pressed = queue_attempt(owner, profile, dealers[1], status="running", started=long_ago, phase="verifying",
                            submit_pressed_at=long_ago)
    fresh = queue_attempt(owner, profile, dealers[2], status="running", started=timezone.now())

    reaped = worker.reap_stale_attempts()

    assert {a.pk for a in reaped} == {not_pressed.pk, pressed.pk}
    not_pressed.refresh_from_db(), pressed.refresh_from_db(), fresh.refresh_from_db()
    assert not_pressed.status == "failed" and "Timed out" in not_pressed.error
    # It had pressed submit: never "failed", never run again.
    assert pressed.status == "unconfirmed"
    assert fresh.status == "running"
    assert Event.objects.filter(kind="finished").count() == 2


def test_the_reaper_runs_as_a_periodic_task():
    from contacts.tasks import reap_stale_attempts

    periodic = {task.name for task in HUEY._registry.periodic_tasks}
    assert reap_stale_attempts.task_class().name in periodic
