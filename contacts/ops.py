"""Is the system working? The checks behind /healthz, and the worker heartbeat.

Each check reads shared state (the database, the Huey storage), never this process's
memory, so every web process gives the same answer. A check never raises: it reports
what it could not reach, by part name, and the error type (the details go to the log,
not to an unauthenticated caller).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Max, Min
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from contacts.models import AttemptStatus, ContactAttempt, WorkerHeartbeat

log = logging.getLogger(__name__)

DATABASE, QUEUE, HEARTBEAT, QUEUED = "database", "queue", "worker_heartbeat", "oldest_queued_attempt"


def worker_process_name() -> str:
    """One heartbeat row per worker process, whatever its threads."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


# A worker process that has not beaten for this long has gone (restarted under a new pid).
FORGET_WORKER_AFTER = timedelta(days=1)
HEARTBEAT_INTERVAL_S = 30.0


def record_heartbeat() -> None:
    WorkerHeartbeat.beat(worker_process_name())
    WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - FORGET_WORKER_AFTER).delete()


class Heartbeat:
    """A thread in each worker process that records it alive every HEARTBEAT_INTERVAL_S.

    A thread rather than a periodic task: a task would wait in the queue behind a big
    batch and call a busy, healthy worker dead. Whether work moves is what the oldest
    queued attempt tells.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
        """Start beating (once per process; every worker thread's startup hook calls this)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop, interval_s), name="heartbeat", daemon=True
            )
            self._thread.start()

    def stop(self, wait_s: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait_s)

    @staticmethod
    def _run(stop: threading.Event, interval_s: float) -> None:
        from django.db import connection

        while not stop.is_set():
            try:
                record_heartbeat()
            except DatabaseError as exc:  # the database is down: /healthz says so; keep trying
                log.warning("worker heartbeat not recorded: %s", exc)
            finally:
                connection.close()
            stop.wait(interval_s)


heartbeat = Heartbeat()


@dataclass
class Check:
    ok: bool
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.details}


def _failed(part: str, exc: BaseException) -> Check:
    log.warning("health check %s failed: %s: %s", part, type(exc).__name__, exc)
    return Check(False, {"error": f"unreachable ({type(exc).__name__})"})


def queue_backend(huey=None) -> str:
    huey = huey or HUEY
    return "redis" if "redis" in type(huey.storage).__name__.lower() else "sqlite"


def check_database(alias: str = "default") -> Check:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not reachable" to a health check
        return _failed(DATABASE, exc)
    return Check(True, {"vendor": connections[alias].vendor})


def check_queue(huey=None) -> Check:
    huey = huey or HUEY
    try:
        pending = huey.pending_count()
    except Exception as exc:  # redis.ConnectionError, sqlite3.OperationalError, …
        return _failed(QUEUE, exc)
    return Check(True, {"backend": queue_backend(huey), "pending_tasks": pending})


def _age_s(when: datetime | None, now: datetime) -> float | None:
    return None if when is None else round(max(0.0, (now - when).total_seconds()), 1)


def check_heartbeat(now: datetime) -> Check:
    limit = settings.HEALTH_HEARTBEAT_MAX_AGE_S
    try:
        newest = WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"]
        alive = WorkerHeartbeat.objects.filter(last_seen__gte=now - timedelta(seconds=limit)).count()
    except DatabaseError as exc:
        return _failed(HEARTBEAT, exc)
    age = _age_s(newest, now)
    details = {"age_s": age, "max_age_s": limit, "workers_alive": alive}
    if newest is None:
        details["error"] = "no worker has ever reported"
    elif age > limit:
        details["error"] = "no worker heartbeat within the limit"
    return Check(newest is not None and age <= limit, details)


def check_oldest_queued(now: datetime) -> Check:
    limit = settings.HEALTH_QUEUED_MAX_AGE_S
    try:
        row = ContactAttempt.objects.filter(status=AttemptStatus.QUEUED).aggregate(oldest=Min("created"))
    except DatabaseError as exc:
        return _failed(QUEUED, exc)
    age = _age_s(row["oldest"], now)
    details: dict[str, Any] = {"age_s": age, "max_age_s": limit}
    ok = age is None or age <= limit
    if not ok:
        details["error"] = "an attempt has waited in the queue past the limit"
    return Check(ok, details)


def health_report(now: datetime | None = None, huey=None) -> tuple[bool, dict[str, Any]]:
    """(healthy, JSON-ready report naming every part and the unhealthy ones)."""
    now = now or timezone.now()
    checks = {DATABASE: check_database()}
    checks[QUEUE] = check_queue(huey)
    if checks[DATABASE].ok:
        checks[HEARTBEAT] = check_heartbeat(now)
        checks[QUEUED] = check_oldest_queued(now)
    else:
        # Both live in the database: unknown, and so not healthy.
        for part in (HEARTBEAT, QUEUED):
            checks[part] = Check(False, {"error": "unknown: the database is unreachable"})
    unhealthy = [name for name, check in checks.items() if not check.ok]
    report = {
        "status": "ok" if not unhealthy else "unhealthy",
        "unhealthy": unhealthy,
        "checked_at": now.isoformat(),
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }
    return not unhealthy, report
