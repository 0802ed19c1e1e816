"""Huey tasks: thin wrappers that call plain code in contacts.worker."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from contacts import ops, worker

log = logging.getLogger(__name__)


@db_task(retries=0)
def run_attempt(attempt_id: int) -> None:
    # No retries: the attempt row decides what runs, and a submission is never repeated.
    worker.execute_attempt(attempt_id)


def enqueue_attempt(attempt_id: int, eta=None) -> bool:
    """Hand the attempt's task to the queue once the surrounding transaction commits (the
    task reads that row), at `eta` when it waits for its dealer's slot. False when the
    queue cannot be reached: the row stays queued, and the reaper enqueues it again once
    the queue is back."""
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _enqueue_now(attempt_id, eta))
        return True
    return _enqueue_now(attempt_id, eta)


def _enqueue_now(attempt_id: int, eta=None) -> bool:
    try:
        if eta is None:
            run_attempt(attempt_id)
        else:
            run_attempt.schedule((attempt_id,), eta=eta)  # waits for its dealer's slot
    except Exception as exc:  # Redis down, the queue file unwritable, …: never lose the row
        log.warning("attempt %s: could not enqueue its task (%s: %s); the reaper will retry",
                    attempt_id, type(exc).__name__, exc)
        return False
    from contacts.models import ContactAttempt

    ContactAttempt.objects.filter(pk=attempt_id).update(enqueued_at=timezone.now())
    return True


@HUEY.on_startup()
def start_reaper() -> None:
    # The reaper is a thread of the consumer process, not a task behind the attempts in
    # the queue: it runs at start and every REAPER_INTERVAL_S however deep the queue is.
    worker.start_reaper()


@HUEY.on_startup()
def start_heartbeat() -> None:
    # Every worker thread runs this; the process gets one heartbeat thread (contacts.ops).
    ops.heartbeat.start()


@HUEY.on_shutdown()
def close_browser() -> None:
    # The worker process's threads share one browser; the first to stop closes it (the
    # others find it closed), rather than leave Chromium behind.
    worker.stop_reaper()
    worker.shutdown_engine()


@HUEY.on_shutdown()
def stop_heartbeat() -> None:
    ops.heartbeat.stop()


@db_periodic_task(crontab(minute="17", hour="*"))
def purge_old_screenshots() -> None:
    from contacts.lifecycle import purge_old_screenshots as purge

    purge()


@db_periodic_task(crontab(minute="23", hour="*"))
def prune_rate_limits() -> None:
    from contacts.throttle import prune_buckets

    prune_buckets()


@db_task(retries=0)
def run_live_view_task(live_id: int) -> None:
    # No retries: a live view that did not run is opened again by the person, never by the queue.
    from contacts import liveview

    liveview.run_live_view(live_id)
