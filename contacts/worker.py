"""Running one contact attempt: claim the row, drive the engine, record the outcome.

The engine runs on the process's one engine loop (contacts.engine.runtime), where every
attempt of the process shares one Playwright driver and one Chromium. Django refuses ORM
calls from a thread running an event loop, so every database read or write, including
the ones the engine asks for through its hooks while it runs, happens on the calling
(Huey worker) thread, which pumps those requests until its attempt is done.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import socket
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from contacts import attempt_log
from contacts.engine import outcomes
from contacts.engine.types import ContactResult, EngineOptions, Hooks
from contacts.models import AttemptStatus, ContactAttempt

log = logging.getLogger(__name__)

# How long the engine may wait for the worker thread to answer one hook call.
HOOK_TIMEOUT_S = 60
# After the hard deadline the engine is cancelled; if its loop cannot answer within this
# long, it is blocked and abandoned for a fresh one.
CANCEL_WAIT_S = 15


def engine_options(**overrides: Any) -> EngineOptions:
    values: dict[str, Any] = {
        "timeout_s": float(settings.CONTACT_TIMEOUT_S),
        "allowed_private_hosts": tuple(settings.ALLOWED_PRIVATE_HOSTS),
        "browser_user": settings.BROWSER_USER,
        "headless": settings.BROWSER_HEADLESS,
        "browser_executable": settings.BROWSER_EXECUTABLE,
        "recycle_after": settings.BROWSER_RECYCLE_AFTER,
        "min_dwell_s": float(settings.CONTACT_MIN_DWELL_S),
    }
    values.update(overrides)
    return EngineOptions(**values)


_session = None
_session_lock = threading.Lock()
_running = 0  # attempts of this process between claim and record
_close_when_idle = False


def engine_session():
    """The process's handle on the engine, shared by every worker thread."""
    global _session
    with _session_lock:
        if _session is None:
            from contacts.engine import BrowserSession

            _session = BrowserSession(engine_options())
        return _session


def shutdown_engine() -> None:
    """Close the process's browser (worker shutdown, tests). Idempotent.

    Huey runs shutdown hooks on each worker thread as it stops, and an idle thread stops
    before a busy one: the browser closes when the process's last attempt is recorded.
    """
    global _session, _close_when_idle
    with _session_lock:
        if _running:
            _close_when_idle = True
            return
        session, _session, _close_when_idle = _session, None, False
    if session is not None:
        session.close()


def _attempt_started() -> None:
    global _running
    with _session_lock:
        _running += 1


def _attempt_ended() -> None:
    global _running
    with _session_lock:
        _running -= 1
        close_now = _running == 0 and _close_when_idle
    if close_now:
        shutdown_engine()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


_DONE = object()


def execute_attempt(attempt_id: int) -> str | None:
    """Run one queued attempt to a final outcome; returns the outcome, or None if not ours."""
    from contacts.services import hold_back

    if hold_back(attempt_id):  # do-not-contact, or not yet its dealer's turn
        return None
    if not ContactAttempt.claim(attempt_id, worker_name()):
        log.info("attempt %s was not queued (cancelled or claimed elsewhere); skipping", attempt_id)
        return None
    _attempt_started()
    try:
        return _execute_claimed(attempt_id)
    finally:
        _attempt_ended()


def _execute_claimed(attempt_id: int) -> str:
    me = worker_name()
    attempt = ContactAttempt.objects.select_related("customer", "dealer").get(pk=attempt_id)
    attempt.record_event("started")
    customer = attempt.customer.to_engine_customer(attempt.dealer.name)
    session = engine_session()
    options = session.options

    requests: queue.Queue[tuple[Any, Any]] = queue.Queue()
    phase_started: dict[str, float] = {}
    timings: dict[str, float] = {}

    async def in_worker(fn: Callable[[], Any]) -> Any:
        # Runs on the engine loop: hand fn to this attempt's worker thread and wait for
        # its answer without holding up the other attempts on the loop.
        answer: Future = Future()
        requests.put((fn, answer))
        return await asyncio.wait_for(asyncio.wrap_future(answer), HOOK_TIMEOUT_S)

    def enter_phase(phase: str) -> None:
        now = time.monotonic()
        for previous, started in phase_started.items():
            timings.setdefault(previous, round(now - started, 2))
        if phase_started and (ended := next(reversed(phase_started))) != phase:
            attempt_log.phase_ended(attempt, ended, timings[ended])
        phase_started[phase] = now
        if attempt.set_phase(phase, dict(timings)):
            attempt.record_event("phase")

    hooks = Hooks(
        on_phase=lambda phase: in_worker(lambda: enter_phase(phase)),
        # True lets the click proceed: recorded only if no cancel came first (and the
        # attempt is still this worker's); False ends the attempt cancelled, nothing sent.
        on_submit_pressed=lambda: in_worker(lambda: attempt.mark_submit_pressed(me)),
        # Stop when cancelled, or when the attempt is gone (its customer or account was
        # deleted): nothing is sent for data that no longer exists.
        should_stop=lambda: in_worker(
            lambda: not ContactAttempt.objects.filter(pk=attempt_id, cancel_requested=False).exists()
        ),
    )

    from contacts.engine import attempt_contact
    from contacts.review import engine_review

    running = session.submit(
        attempt_contact(attempt.dealer.website, customer, session=session, options=options, hooks=hooks,
                        review=engine_review(attempt))
    )
    running.add_done_callback(lambda done: requests.put((_DONE, done)))
    # The engine cuts itself off at the timeout; this is the backstop if it cannot.
    deadline = time.monotonic() + options.timeout_s + settings.CONTACT_GRACE_S
    result: ContactResult | BaseException | None = None
    while True:
        try:
            fn, payload = requests.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            log.error("attempt %s: the engine did not finish by its deadline; cancelling it", attempt_id)
            running.cancel()
            session.abandon_engine_if_blocked(CANCEL_WAIT_S)
            break
        if fn is _DONE:
            if not payload.cancelled():
                result = payload.exception() or payload.result()
            break
        try:
            payload.set_result(fn())
        except Exception as exc:  # a hook failed: let the engine see it
            payload.set_exception(exc)

    status = _record_result(attempt, result, timings, me)
    attempt_log.attempt_finished(attempt, next(reversed(phase_started), ""))
    return status


def _record_result(
    attempt: ContactAttempt,
    result: ContactResult | BaseException | None,
    timings: dict[str, float],
    me: str | None = None,
) -> str:
    attempt.refresh_from_db(fields=["submit_pressed_at"])
    pressed = attempt.submit_pressed_at is not None
    if result is None or isinstance(result, BaseException):
        if result is not None:
            log.error("engine crashed on attempt %s", attempt.pk, exc_info=result)
        reason = (
            f"Timed out: no result within {settings.CONTACT_TIMEOUT_S} seconds."
            if result is None
            else f"Internal error in the contact engine: {type(result).__name__}: {result}"
        )
        status = outcomes.UNCONFIRMED if pressed else outcomes.FAILED
        if pressed:
            reason += " The form had already been submitted; check for the dealer's reply."
        result = ContactResult(status=status, error=reason)
    elif pressed and result.status in (outcomes.FAILED, outcomes.CANCELLED) and not result.error:
        result.error = "Submitted, but the outcome could not be confirmed."
    elif result.status == outcomes.CANCELLED and not pressed:
        result.error = "Stopped before sending: cancelled by the user; nothing was submitted."

    fields: dict[str, Any] = {
        "phase_timings": result.phase_timings or timings,
        "filled_fields": [
            {"kind": f.kind, "label": f.label, "value": f.value} for f in result.fields
        ],
        "final_url": result.final_url[:1000],
        "site_platform": result.platform[:40],
    }
    replaced = []  # a reviewed attempt's earlier screenshot, which this run's supersedes
    for which, field_name in (("form", "screenshot_form"), ("result", "screenshot_result")):
        data = result.screenshots.get(which)
        if data:
            file_field = getattr(attempt, field_name)
            replaced.append(file_field.name)
            file_field.save(f"{which}.jpg", ContentFile(data), save=False)
            fields[field_name] = file_field.name
    if result.status == outcomes.AWAITING_REVIEW:  # a reviewed attempt stopped at its filled form
        from contacts.review import hold_for_review

        return hold_for_review(attempt, result, fields, replaced)
    # Only while the row is still this worker's claim: if the reaper took the attempt
    # back (this worker looked dead), its new run owns the outcome.
    expect = {"claimed_by": me[:100], "started": attempt.started} if me else None
    if attempt.finish(result.status, error=result.error, only_from=(AttemptStatus.RUNNING,), expect=expect,
                      **fields):
        attempt.record_event("finished")
        if any(replaced):
            from contacts.lifecycle import delete_files

            delete_files([name for name in replaced if name])
    elif not ContactAttempt.objects.filter(pk=attempt.pk).exists():
        # Deleted while it ran (its customer or account went): keep no files for it.
        from contacts.lifecycle import delete_files

        delete_files([fields[name] for name in ("screenshot_form", "screenshot_result") if name in fields])
    else:
        log.warning("attempt %s already had a final outcome; engine said %s", attempt.pk, result.status)
    return result.status


# --- the reaper ---------------------------------------------------------------------
# It runs on a thread of its own in every consumer process (started with the consumer, a
# pass at once and then every REAPER_INTERVAL_S), never as a task behind the queue, so
# no depth of queue delays it.


def reap_stale_attempts() -> list[ContactAttempt]:
    """One reaper pass: take back attempts whose worker died or went quiet, end reviews
    and live views left behind, and hand the queue again any queued attempt whose task
    went missing."""
    from contacts.liveview import reap_stale_live_views

    reaped = ContactAttempt.reap_stale(dead_workers=is_dead_worker)
    ContactAttempt.expire_reviews()  # reviews left waiting past REVIEW_EXPIRY_H
    reap_stale_live_views()  # views whose worker died
    for attempt in reaped:
        attempt_log.attempt_finished(attempt, attempt.phase)
    requeue_lost_attempts()
    return reaped


def is_dead_worker(claimed_by: str, started=None) -> bool:
    """True when a claim names a process of this machine that no longer runs (or a newer
    process that took its pid), so its attempt need not wait out the timeout."""
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    import psutil

    try:
        process = psutil.Process(int(pid_text))
        if started is not None and process.create_time() > started.timestamp() + 1:
            return True
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def requeue_lost_attempts(limit: int = 2000) -> int:
    """The attempt row is the outbox: a queued attempt whose task is not in the queue
    (the enqueue failed, or the queue's storage lost it) is enqueued again once it is
    QUEUE_REENQUEUE_AFTER_S old. The claim is exactly-once, so a duplicate is harmless."""
    from huey.contrib.djhuey import HUEY

    from contacts.tasks import enqueue_attempt, run_attempt

    lost = list(
        ContactAttempt.lost_from_queue(settings.QUEUE_REENQUEUE_AFTER_S).order_by("created", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not lost:
        return 0
    try:
        name = run_attempt.task_class.__name__
        waiting = {
            task.args[0] for task in [*HUEY.pending(), *HUEY.scheduled()] if task.name == name and task.args
        }
    except Exception as exc:  # the queue is down: nothing can be enqueued either
        log.warning("reaper: cannot read the queue (%s); %d queued attempts wait for it", exc, len(lost))
        return 0
    # Still in the queue (a deep one): look again only after another full age.
    ContactAttempt.objects.filter(pk__in=[pk for pk in lost if pk in waiting]).update(enqueued_at=timezone.now())
    requeued = 0
    for attempt_id in lost:
        if attempt_id in waiting:
            continue
        if not enqueue_attempt(attempt_id):
            break
        requeued += 1
    if requeued:
        log.warning("reaper: %d queued attempts were missing from the queue; enqueued them again", requeued)
    return requeued


class Reaper:
    """The consumer process's reaper thread."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.passes = 0
        self.thread = threading.Thread(target=self.run, name="dealercontact-reaper", daemon=True)

    def run(self) -> None:
        from django.db import close_old_connections, connections

        try:
            while not self.stopping.is_set():
                try:
                    close_old_connections()
                    reap_stale_attempts()
                except Exception:  # a database or queue outage: try again next period
                    log.exception("reaper pass failed; retrying in %s s", settings.REAPER_INTERVAL_S)
                self.passes += 1
                self.stopping.wait(settings.REAPER_INTERVAL_S)
        finally:
            connections.close_all()


_reaper: Reaper | None = None
_reaper_lock = threading.Lock()


def start_reaper() -> Reaper:
    """Start this process's reaper thread (once); its first pass runs at once."""
    global _reaper
    with _reaper_lock:
        if _reaper is None or not _reaper.thread.is_alive():
            _reaper = Reaper()
            _reaper.thread.start()
        return _reaper


def stop_reaper() -> None:
    global _reaper
    with _reaper_lock:
        reaper, _reaper = _reaper, None
    if reaper is not None:
        reaper.stopping.set()
        if reaper.thread is not threading.current_thread():
            reaper.thread.join(30)

