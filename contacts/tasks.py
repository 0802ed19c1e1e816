"""Huey tasks: thin wrappers that call plain code in contacts.worker."""

from __future__ import annotations

from huey import crontab
from django.db import transaction
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, on_commit_task

from contacts import ops, worker


@on_commit_task(retries=0)
def run_attempt(attempt_id: int) -> None:
    # No retries: the attempt row decides what runs, and a submission is never repeated.
    worker.execute_attempt(attempt_id)


# The same work, for an attempt that waits for its dealer's slot (Huey's eta schedule).
run_attempt_later = db_task(retries=0, name="run_attempt_later")(worker.execute_attempt)


def enqueue_attempt(attempt_id: int, eta=None) -> None:
    """Enqueue after the surrounding transaction commits, since the task reads that row."""
    if eta is None:
        run_attempt(attempt_id)
    else:
        transaction.on_commit(lambda: run_attempt_later.schedule((attempt_id,), eta=eta))


@db_periodic_task(crontab(minute="*"))
def reap_stale_attempts() -> None:
    worker.reap_stale_attempts()


@HUEY.on_startup()
def start_heartbeat() -> None:
    # Every worker thread runs this; the process gets one heartbeat thread (contacts.ops).
    ops.heartbeat.start()


@HUEY.on_shutdown()
def close_browser() -> None:
    # The worker process's threads share one browser; the first to stop closes it (the
    # others find it closed), rather than leave Chromium behind.
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


@db_periodic_task(crontab(minute="*"))
def reap_stale_live_views() -> None:
    from contacts import liveview

    liveview.reap_stale_live_views()
