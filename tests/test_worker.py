"""The attempt lifecycle: claiming, the Huey task path on real storage, the reaper."""

from __future__ import annotations

import time
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
    assert services.cancel_attempts([attempt]) == {attempt: "cancelled"}
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
    assert services.cancel_attempts([attempt]) == {attempt: "stopping"}
    attempt.refresh_from_db()
    assert attempt.status == "running" and attempt.cancel_requested
    # The click is then refused: nothing is recorded as sent.
    assert attempt.mark_submit_pressed("w") is False
    attempt.refresh_from_db()
    assert attempt.submit_pressed_at is None


def test_a_cancel_after_the_click_is_refused_as_already_sent(owner, profile, dealers):
    attempt = queue_attempt(owner, profile, dealers[0])
    ContactAttempt.claim(attempt.pk, "w")
    attempt.refresh_from_db()
    assert attempt.mark_submit_pressed("w") is True

    assert services.cancel_attempts([attempt]) == {attempt: "already_sent"}
    attempt.refresh_from_db()
    assert attempt.status == "running" and not attempt.cancel_requested and attempt.submit_pressed_at
    assert not Event.objects.filter(attempt=attempt, kind="cancel_requested").exists()


def test_only_the_claiming_worker_may_click(owner, profile, dealers):
    attempt = queue_attempt(owner, profile, dealers[0])
    ContactAttempt.claim(attempt.pk, "worker-a")
    attempt.refresh_from_db()
    assert attempt.mark_submit_pressed("worker-b") is False
    assert attempt.mark_submit_pressed("worker-a") is True
    assert attempt.mark_submit_pressed("worker-a") is False  # one click, ever


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
    not_pressed = queue_attempt(owner, profile, dealers[0], status="running", started=long_ago, phase="filling",
                                claimed_by="elsewhere:1:w")
    pressed = queue_attempt(owner, profile, dealers[1], status="running", started=long_ago, phase="verifying",
                            submit_pressed_at=long_ago)
    fresh = queue_attempt(owner, profile, dealers[2], status="running", started=timezone.now())

    reaped = worker.reap_stale_attempts()

    assert {a.pk for a in reaped} == {not_pressed.pk, pressed.pk}
    not_pressed.refresh_from_db(), pressed.refresh_from_db(), fresh.refresh_from_db()
    # Nothing was sent, so running it again is safe: back in the queue, once.
    assert not_pressed.status == "queued" and not_pressed.retries == 1 and not not_pressed.claimed_by
    assert not_pressed.started is None and not_pressed.phase == ""
    assert "queued again" in not_pressed.error
    # It had pressed submit: never "failed", never run again.
    assert pressed.status == "unconfirmed"
    assert fresh.status == "running"
    assert Event.objects.filter(kind="finished").count() == 1
    assert Event.objects.filter(kind="requeued", attempt=not_pressed).count() == 1

    # Its second worker dies too: now it ends failed, saying so.
    ContactAttempt.claim(not_pressed.pk, "elsewhere:2:w")
    ContactAttempt.objects.filter(pk=not_pressed.pk).update(started=long_ago)
    worker.reap_stale_attempts()
    not_pressed.refresh_from_db()
    assert not_pressed.status == "failed" and not_pressed.retries == 1
    assert "2 times" in not_pressed.error and "nothing was sent" in not_pressed.error


def test_a_dead_local_worker_is_taken_back_at_once(owner, profile, dealers, settings):
    import socket
    import subprocess
    import sys

    settings.CONTACT_TIMEOUT_S, settings.CONTACT_GRACE_S = 90, 30
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    now = timezone.now()
    dead = queue_attempt(owner, profile, dealers[0], status="running", started=now,
                         claimed_by=f"{socket.gethostname()}:{dead_pid}:Worker-1")
    alive = queue_attempt(owner, profile, dealers[1], status="running", started=now,
                          claimed_by=worker.worker_name())

    worker.reap_stale_attempts()

    dead.refresh_from_db(), alive.refresh_from_db()
    assert dead.status == "queued" and dead.retries == 1
    assert alive.status == "running"


def test_a_worker_whose_attempt_was_taken_back_cannot_record_or_click(owner, profile, dealers, settings):
    settings.CONTACT_TIMEOUT_S, settings.CONTACT_GRACE_S = 90, 30
    attempt = queue_attempt(owner, profile, dealers[0])
    ContactAttempt.claim(attempt.pk, "elsewhere:1:w")
    ContactAttempt.objects.filter(pk=attempt.pk).update(started=timezone.now() - timedelta(seconds=200))
    attempt.refresh_from_db()
    old_run = ContactAttempt.objects.get(pk=attempt.pk)
    worker.reap_stale_attempts()  # re-queued

    assert old_run.mark_submit_pressed("elsewhere:1:w") is False
    assert old_run.finish("failed", only_from=("running",),
                          expect={"claimed_by": "elsewhere:1:w", "started": old_run.started}) is False
    attempt.refresh_from_db()
    assert attempt.status == "queued" and attempt.submit_pressed_at is None


# --- the attempt row is the outbox --------------------------------------------------------


def queue_unreachable(monkeypatch) -> None:
    """The queue's storage refuses every write, with the error its backend really raises."""
    from contacts.tasks import run_attempt  # noqa: F401  (the task is registered)

    if HUEY.__class__.__name__.startswith("Redis"):
        import redis

        error = redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    else:
        import sqlite3

        error = sqlite3.OperationalError("unable to open database file")

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(HUEY.storage, "enqueue", refuse)


def pending_attempt_ids() -> list[int]:
    return sorted(task.args[0] for task in HUEY.pending() if task.name.endswith("run_attempt"))


@pytest.mark.django_db(transaction=True)
def test_contact_saves_the_rows_and_says_so_when_the_queue_is_down(client, owner, search, dealers, monkeypatch,
                                                                   settings):
    from django.urls import reverse

    client.force_login(owner)
    with monkeypatch.context() as down:
        queue_unreachable(down)
        response = client.post(
            reverse("search_contact", args=[search.pk]),
            {"customer": search.customer_id, "dealer": [dealers[0].pk, dealers[1].pk]},
            follow=True,
        )

    assert response.status_code == 200
    text = response.content.decode()
    assert "The worker queue cannot be reached right now. 2 attempts are saved and will start by themselves" in text
    attempts = list(ContactAttempt.objects.order_by("pk"))
    assert [(a.dealer_id, a.status, a.enqueued_at) for a in attempts] == [
        (dealers[0].pk, "queued", None), (dealers[1].pk, "queued", None)
    ]
    assert Event.objects.filter(kind="queued").count() == 2
    assert HUEY.pending_count() == 0

    # The queue is back: the reaper hands both to it, once.
    settings.QUEUE_REENQUEUE_AFTER_S = 0
    worker.reap_stale_attempts()
    assert pending_attempt_ids() == [a.pk for a in attempts]
    worker.reap_stale_attempts()
    assert pending_attempt_ids() == [a.pk for a in attempts]
    assert all(a.enqueued_at for a in ContactAttempt.objects.all())


@pytest.mark.django_db(transaction=True)
def test_attempts_lost_with_the_queue_storage_are_enqueued_again(owner, profile, dealers, settings):
    result = services.start_attempts(owner, profile, dealers)
    assert HUEY.pending_count() == 3
    HUEY.flush()  # Redis restarted empty, or the queue file was lost

    # Not yet: a fresh enqueue is given time to be claimed.
    settings.QUEUE_REENQUEUE_AFTER_S = 3600
    assert worker.requeue_lost_attempts() == 0
    settings.QUEUE_REENQUEUE_AFTER_S = 0
    assert worker.requeue_lost_attempts() == 3
    assert pending_attempt_ids() == sorted(a.pk for a in result.created)
    # Still waiting in the queue: not enqueued twice.
    assert worker.requeue_lost_attempts() == 0
    assert HUEY.pending_count() == 3
    # A cancelled one is never enqueued again.
    HUEY.flush()
    services.cancel_attempts([result.created[0]])
    assert worker.requeue_lost_attempts() == 2


@pytest.mark.django_db(transaction=True)
def test_the_reaper_runs_beside_a_full_queue_from_consumer_start(owner, profile, dealers, settings):
    """The consumer's only worker is busy and 250 tasks wait behind it: a dead worker's
    attempt is still taken back within one reaper period."""
    import threading

    from contacts.tasks import enqueue_attempt

    settings.REAPER_INTERVAL_S = 1
    settings.QUEUE_REENQUEUE_AFTER_S = 3600
    settings.CONTACT_TIMEOUT_S, settings.CONTACT_GRACE_S = 90, 30
    release = threading.Event()
    busy = threading.Event()

    @HUEY.task(name="tests.hold_the_worker")
    def hold_the_worker():
        busy.set()
        release.wait(30)

    hold_the_worker()
    waiting = [queue_attempt(owner, profile, dealers[0], status="cancelled") for _ in range(250)]
    for attempt in waiting:
        enqueue_attempt(attempt.pk)
    long_ago = timezone.now() - timedelta(seconds=200)
    abandoned = queue_attempt(owner, profile, dealers[1], status="running", started=long_ago,
                              claimed_by="elsewhere:1:w", phase="filling")

    consumer = HUEY.create_consumer(workers=1, worker_type="thread", periodic=False, initial_delay=0.05,
                                    max_delay=0.2, backoff=1.1)
    consumer._set_signal_handlers = lambda: None
    consumer.start()
    try:
        assert busy.wait(20)
        # The only worker stays busy, so the queue never moves: any pass at all is the
        # reaper's own (it is due at once, then every second; slack for a loaded machine).
        deadline = time.monotonic() + 30
        while ContactAttempt.objects.filter(pk=abandoned.pk, status="running").exists():
            assert time.monotonic() < deadline, "the reaper waited behind the queue"
            time.sleep(0.1)
        assert HUEY.pending_count() >= 250  # the queue had not moved
        abandoned.refresh_from_db()
        assert abandoned.status == "queued" and abandoned.retries == 1
        # Its task is handed to the queue right after the row changes (the reaper's own
        # thread, a moment later): wait for it there.
        while abandoned.pk not in pending_attempt_ids():
            assert time.monotonic() < deadline, "the re-queued attempt never reached the queue"
            time.sleep(0.1)
    finally:
        release.set()
        consumer.stop(graceful=True)
        worker.stop_reaper()
        HUEY._registry.unregister(hold_the_worker.task_class)


# --- cancel against the click, decided by the row ---------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["cancel", "click"])
def test_cancel_and_click_cannot_both_win(owner, profile, dealers, first):
    """The cancel and the click race on two connections; the one that commits first wins
    and the other is refused, however close they come."""
    import threading

    from django.db import connections, transaction

    attempt = queue_attempt(owner, profile, dealers[0])
    ContactAttempt.claim(attempt.pk, "w")
    attempt.refresh_from_db()
    inside = threading.Event()
    release = threading.Event()
    answers: dict[str, object] = {}

    def winner():
        try:
            with transaction.atomic():
                if first == "cancel":
                    answers["cancel"] = ContactAttempt.objects.get(pk=attempt.pk).request_cancel()
                else:
                    answers["click"] = ContactAttempt.objects.get(pk=attempt.pk).mark_submit_pressed("w")
                inside.set()
                release.wait(10)  # holds its write, uncommitted, while the other one arrives
        finally:
            connections.close_all()

    def loser():
        try:
            if first == "cancel":
                answers["click"] = ContactAttempt.objects.get(pk=attempt.pk).mark_submit_pressed("w")
            else:
                answers["cancel"] = ContactAttempt.objects.get(pk=attempt.pk).request_cancel()
        finally:
            connections.close_all()

    holder = threading.Thread(target=winner)
    holder.start()
    assert inside.wait(10)
    other = threading.Thread(target=loser)
    other.start()
    time.sleep(0.3)  # the loser is now waiting on the winner's row lock
    release.set()
    holder.join(20), other.join(20)

    attempt.refresh_from_db()
    if first == "cancel":
        assert answers == {"cancel": "stopping", "click": False}
        assert attempt.cancel_requested and attempt.submit_pressed_at is None
    else:
        assert answers == {"click": True, "cancel": "already_sent"}
        assert attempt.submit_pressed_at and not attempt.cancel_requested
