"""Running one contact attempt: claim the row, drive the engine, record the outcome.

Playwright's sync API keeps an event loop on the thread that uses it, and Django refuses
ORM calls from such a thread. So the browser lives on a dedicated engine thread, and
every database read or write, including the ones the engine asks for through its hooks
while it runs, happens on the calling (Huey worker) thread, which pumps those requests
until the engine is done.
"""

from __future__ import annotations

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

from contacts.engine import outcomes
from contacts.engine.types import ContactResult, EngineOptions, Hooks
from contacts.models import ContactAttempt

log = logging.getLogger(__name__)

# How long the engine may wait for the worker thread to answer one hook call.
HOOK_TIMEOUT_S = 60


def engine_options(**overrides: Any) -> EngineOptions:
    values: dict[str, Any] = {
        "timeout_s": float(settings.CONTACT_TIMEOUT_S),
        "allow_private_targets": settings.ALLOW_PRIVATE_TARGETS,
        "headless": settings.BROWSER_HEADLESS,
        "browser_executable": settings.BROWSER_EXECUTABLE,
        "recycle_after": settings.BROWSER_RECYCLE_AFTER,
    }
    values.update(overrides)
    return EngineOptions(**values)


class EngineThread:
    """A thread that owns one browser and runs jobs on it, one at a time."""

    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self._jobs: queue.Queue[Callable[[Any], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="contact-engine", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from contacts.engine import BrowserSession

        session = BrowserSession(self.options)
        try:
            while (job := self._jobs.get()) is not None:
                job(session)
        finally:
            session.close()

    def submit(self, job: Callable[[Any], None]) -> None:
        self._jobs.put(job)

    def stop(self, wait_s: float = 15) -> None:
        self._jobs.put(None)
        self._thread.join(wait_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


_local = threading.local()
_all_engines: list[EngineThread] = []
_engines_lock = threading.Lock()


def _engine_for_this_thread() -> EngineThread:
    engine = getattr(_local, "engine", None)
    if engine is None or not engine.alive:
        engine = EngineThread(engine_options())
        _local.engine = engine
        with _engines_lock:
            _all_engines.append(engine)
    return engine


def _abandon_engine_for_this_thread() -> None:
    # The engine thread is stuck past every timeout; it cannot be killed, so a fresh one
    # (with a fresh browser) takes its place and the old one exits when it unblocks.
    engine = getattr(_local, "engine", None)
    if engine is not None:
        engine.stop(wait_s=0)
        _local.engine = None


def close_engine_for_this_thread() -> None:
    engine = getattr(_local, "engine", None)
    if engine is not None:
        engine.stop()
        _local.engine = None


def shutdown_engines() -> None:
    """Close every engine thread's browser (worker shutdown, tests)."""
    with _engines_lock:
        engines, _all_engines[:] = list(_all_engines), []
    for engine in engines:
        engine.stop()
    _local.engine = None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


_DONE = object()


def execute_attempt(attempt_id: int) -> str | None:
    """Run one queued attempt to a final outcome; returns the outcome, or None if not ours."""
    if not ContactAttempt.claim(attempt_id, worker_name()):
        log.info("attempt %s was not queued (cancelled or claimed elsewhere); skipping", attempt_id)
        return None
    attempt = ContactAttempt.objects.select_related("customer", "dealer").get(pk=attempt_id)
    attempt.record_event("started")
    customer = attempt.customer.to_engine_customer(attempt.dealer.name)
    engine = _engine_for_this_thread()
    options = engine.options

    requests: queue.Queue[tuple[Any, Any]] = queue.Queue()
    phase_started: dict[str, float] = {}
    timings: dict[str, float] = {}

    def call_in_worker(fn: Callable[[], Any]) -> Any:
        answer: Future = Future()
        requests.put((fn, answer))
        return answer.result(timeout=HOOK_TIMEOUT_S)

    def enter_phase(phase: str) -> None:
        now = time.monotonic()
        for previous, started in phase_started.items():
            timings.setdefault(previous, round(now - started, 2))
        phase_started[phase] = now
        if attempt.set_phase(phase, dict(timings)):
            attempt.record_event("phase")

    hooks = Hooks(
        on_phase=lambda phase: call_in_worker(lambda: enter_phase(phase)),
        on_submit_pressed=lambda: call_in_worker(attempt.mark_submit_pressed),
        should_stop=lambda: call_in_worker(
            lambda: ContactAttempt.objects.filter(pk=attempt_id, cancel_requested=True).exists()
        ),
    )

    def job(session: Any) -> None:
        from contacts.engine import contact_dealer

        try:
            outcome: Any = contact_dealer(
                attempt.dealer.website, customer, session=session, options=options, hooks=hooks
            )
        except BaseException as exc:  # the engine promises not to raise; record it if it does
            outcome = exc
        requests.put((_DONE, outcome))

    engine.submit(job)
    deadline = time.monotonic() + options.timeout_s + settings.CONTACT_GRACE_S
    result: ContactResult | BaseException | None = None
    while True:
        try:
            fn, payload = requests.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            _abandon_engine_for_this_thread()
            break
        if fn is _DONE:
            result = payload
            break
        try:
            payload.set_result(fn())
        except Exception as exc:  # a hook failed: let the engine see it
            payload.set_exception(exc)

    return _record_result(attempt, result, timings)


def _record_result(
    attempt: ContactAttempt, result: ContactResult | BaseException | None, timings: dict[str, float]
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

    fields: dict[str, Any] = {
        "phase_timings": result.phase_timings or timings,
        "filled_fields": [
            {"kind": f.kind, "label": f.label, "value": f.value} for f in result.fields
        ],
        "final_url": result.final_url[:1000],
    }
    for which, field_name in (("form", "screenshot_form"), ("result", "screenshot_result")):
        data = result.screenshots.get(which)
        if data:
            file_field = getattr(attempt, field_name)
            file_field.save(f"{which}.jpg", ContentFile(data), save=False)
            fields[field_name] = file_field.name
    if attempt.finish(result.status, error=result.error, **fields):
        attempt.record_event("finished")
    else:
        log.warning("attempt %s already had a final outcome; engine said %s", attempt.pk, result.status)
    return result.status


def reap_stale_attempts() -> list[ContactAttempt]:
    return ContactAttempt.reap_stale()

