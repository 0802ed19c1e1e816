"""Huey tasks: thin wrappers that call plain code in contacts.worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, on_commit_task

from contacts import ops, worker


@on_commit_task(retries=0)
def run_attempt(attempt_id: int) -> None:
    # No retries: the attempt row decides what runs, and a submission is never repeated.
    worker.execute_attempt(attempt_id)


def enqueue_attempt(attempt_id: int) -> None:
    """Enqueue after the surrounding transaction commits, since the task reads that row."""
    run_attempt(attempt_id)


@db_periodic_task(crontab(minute="*"))
def reap_stale_attempts() -> None:
    worker.reap_stale_attempts()


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    # Run as a task, so a fresh heartbeat means this consumer is taking work off the queue.
    ops.record_heartbeat()


@HUEY.on_startup()
def heartbeat_on_start() -> None:
    # Each worker thread runs this; a fresh consumer shows alive before its first minute.
    from django.db import close_old_connections

    ops.record_heartbeat()
    close_old_connections()


@HUEY.on_shutdown()
def close_browser() -> None:
    # The worker process's threads share one browser; the first to stop closes it (the
    # others find it closed), rather than leave Chromium behind.
    worker.shutdown_engine()
