"""The live view between the worker holding the page and the web process showing it.

`LiveChannel` is the one interface both sides use: the worker publishes the page's latest
frame and takes the viewer's input events; the web process reads frames, sends input
and notes that the viewer is still there. Two backends:

- `DatabaseChannel` (the defaults: one machine, SQLite): the LiveView row holds the
  latest frame (one row per view, overwritten, so the table never grows) and LiveInput
  rows queue the input events, deleted as the worker takes them.
- `RedisChannel` (REDIS_URL set: web processes and workers on different machines): a
  key with the latest frame and a counter, a list of input events, a heartbeat key; all
  expire on their own if a process dies.

Only the latest frame is ever kept: a slow viewer skips frames instead of queueing them.

`run_live_view` is the worker's side: it claims the LiveView, starts the engine's
`live_contact` on the engine loop and, on its own Huey thread, carries frames and input
between the channel and the engine, answers the engine's hooks (the database lives
here), closes the view when the viewer is gone, and records the outcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone

from contacts.engine import outcomes
from contacts.engine.types import ContactResult, Hooks
from contacts.live_models import OPEN_LIVE_STATES, LiveInput, LiveState, LiveView
from contacts.models import AttemptStatus, ContactAttempt

log = logging.getLogger(__name__)

PUMP_TICK_S = 0.03  # how often the worker moves frames and input
HEARTBEAT_CHECK_S = 1.0
REDIS_TTL_S = 600


class LiveChannel(Protocol):
    def publish_frame(self, live_id: int, jpeg: bytes) -> None: ...
    def latest_frame(self, live_id: int, after_seq: int) -> tuple[int, bytes] | None: ...
    def send_input(self, live_id: int, event: dict) -> None: ...
    def take_inputs(self, live_id: int) -> list[dict]: ...
    def viewer_seen(self, live_id: int) -> None: ...
    def viewer_last_seen(self, live_id: int) -> float | None: ...  # a time.time(), or None
    def discard(self, live_id: int) -> None: ...


class DatabaseChannel:
    """Frames and input through the database: right for one machine (SQLite in WAL mode)."""

    def publish_frame(self, live_id: int, jpeg: bytes) -> None:
        LiveView.objects.filter(pk=live_id).update(frame=jpeg, frame_seq=F("frame_seq") + 1)

    def latest_frame(self, live_id: int, after_seq: int) -> tuple[int, bytes] | None:
        row = LiveView.objects.filter(pk=live_id, frame_seq__gt=after_seq).values_list("frame_seq", "frame").first()
        return (row[0], bytes(row[1])) if row and row[1] else None

    def send_input(self, live_id: int, event: dict) -> None:
        LiveInput.objects.create(live_view_id=live_id, event=event)

    def take_inputs(self, live_id: int) -> list[dict]:
        rows = list(LiveInput.objects.filter(live_view_id=live_id).order_by("id").values_list("id", "event")[:50])
        if rows:
            LiveInput.objects.filter(live_view_id=live_id, id__lte=rows[-1][0]).delete()
        return [event for _id, event in rows]

    def viewer_seen(self, live_id: int) -> None:
        LiveView.objects.filter(pk=live_id).update(viewer_seen=timezone.now())

    def viewer_last_seen(self, live_id: int) -> float | None:
        seen = LiveView.objects.filter(pk=live_id).values_list("viewer_seen", flat=True).first()
        return seen.timestamp() if seen else None

    def discard(self, live_id: int) -> None:
        LiveInput.objects.filter(live_view_id=live_id).delete()
        LiveView.objects.filter(pk=live_id).update(frame=None)


class RedisChannel:
    """Frames and input through Redis, for web processes and workers on other machines."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)

    @staticmethod
    def _key(live_id: int, what: str) -> str:
        return f"dealercontact:live:{live_id}:{what}"

    def publish_frame(self, live_id: int, jpeg: bytes) -> None:
        seq = self.redis.incr(self._key(live_id, "seq"))
        with self.redis.pipeline() as pipe:
            pipe.set(self._key(live_id, "frame"), b"%d:" % seq + jpeg, ex=REDIS_TTL_S)
            pipe.expire(self._key(live_id, "seq"), REDIS_TTL_S)
            pipe.execute()

    def latest_frame(self, live_id: int, after_seq: int) -> tuple[int, bytes] | None:
        seq = int(self.redis.get(self._key(live_id, "seq")) or 0)
        if seq <= after_seq:
            return None
        value = self.redis.get(self._key(live_id, "frame"))
        if not value:
            return None
        head, _, jpeg = value.partition(b":")
        return int(head), jpeg

    def send_input(self, live_id: int, event: dict) -> None:
        key = self._key(live_id, "input")
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(event))
            pipe.expire(key, REDIS_TTL_S)
            pipe.execute()

    def take_inputs(self, live_id: int) -> list[dict]:
        raw = self.redis.lpop(self._key(live_id, "input"), 50) or []
        return [json.loads(item) for item in raw]

    def viewer_seen(self, live_id: int) -> None:
        self.redis.set(self._key(live_id, "seen"), str(time.time()), ex=REDIS_TTL_S)

    def viewer_last_seen(self, live_id: int) -> float | None:
        value = self.redis.get(self._key(live_id, "seen"))
        return float(value) if value else None

    def discard(self, live_id: int) -> None:
        self.redis.delete(*(self._key(live_id, what) for what in ("seq", "frame", "input", "seen")))


_channel: LiveChannel | None = None
_channel_url: str | None = None


def channel() -> LiveChannel:
    """The channel the deployment's settings call for (Redis when REDIS_URL is set)."""
    global _channel, _channel_url
    url = settings.REDIS_URL
    if _channel is None or _channel_url != url:
        _channel = RedisChannel(url) if url else DatabaseChannel()
        _channel_url = url
    return _channel


# --- who may see and drive a live view --------------------------------------------------


def may_use_any_live_view(user) -> bool:
    """Staff following up in the admin: whoever may change attempts there."""
    return bool(user.is_active and user.is_staff and user.has_perm("contacts.change_contactattempt"))


def attempts_for(user):
    """The attempts whose live view `user` may open and drive: their own; staff, any."""
    attempts = ContactAttempt.objects.select_related("dealer", "customer")
    return attempts if may_use_any_live_view(user) else attempts.filter(owner=user)


def live_view_refusal(attempt: ContactAttempt) -> str:
    """Why a live view cannot be opened for this attempt now, or ""."""
    if attempt.status != AttemptStatus.CAPTCHA:
        return "Only an attempt stopped by a CAPTCHA can be finished in a live view."
    if attempt.submit_pressed_at is not None:
        return "This attempt may already have been sent; it is never sent twice."
    if not attempt.dealer.website:
        return "The dealer has no website."
    return ""


# A requested view no worker took (none running, or its task lost) is given up after this.
UNCLAIMED_AFTER_S = 3600


def reap_stale_live_views(now=None) -> list[LiveView]:
    """Close live views whose worker went away (killed, machine lost) past every limit the
    worker itself keeps, so that none stays open for ever and blocks the next one. An
    attempt whose submit may have been pressed in it ends `unconfirmed`, as any attempt
    whose worker dies after pressing submit does; it is never sent again."""
    from datetime import timedelta

    now = now or timezone.now()
    held_limit = timedelta(seconds=settings.LIVE_VIEW_LIMIT_S + settings.CONTACT_TIMEOUT_S
                           + settings.CONTACT_GRACE_S + 60)
    stale = list(LiveView.objects.filter(state__in=[LiveState.OPENING, LiveState.LIVE, LiveState.SENDING],
                                         started__lt=now - held_limit).select_related("attempt"))
    stale += LiveView.objects.filter(state=LiveState.REQUESTED,
                                     created__lt=now - timedelta(seconds=UNCLAIMED_AFTER_S)).select_related("attempt")
    reaped = []
    for live in stale:
        attempt = live.attempt
        if attempt.submit_pressed_at is not None and attempt.finish(
            AttemptStatus.UNCONFIRMED, only_from=(AttemptStatus.CAPTCHA,),
            error="The worker stopped responding after the form may have been sent from the live view; "
                  "check for the dealer's reply.",
        ):
            attempt.record_event("finished")
        reason = ("No worker took up the live view." if live.state == LiveState.REQUESTED
                  else "The worker holding the live view stopped responding.")
        if live.close(reason, outcome=attempt.status):
            channel().discard(live.pk)
            reaped.append(live)
    return reaped


def open_live_view(attempt: ContactAttempt, user) -> tuple[LiveView | None, str]:
    """The attempt's open live view, or a new one queued for a worker; (None, why) if none may open."""
    from django.db import IntegrityError, transaction

    reap_stale_live_views()
    current = attempt.live_views.filter(state__in=OPEN_LIVE_STATES).first()
    if current is not None:
        return current, ""
    refusal = live_view_refusal(attempt)
    if refusal:
        return None, refusal
    try:
        with transaction.atomic():
            live = LiveView.objects.create(attempt=attempt, opened_by=user)
    except IntegrityError:  # opened by another request at the same moment
        return attempt.live_views.exclude(state=LiveState.CLOSED).first(), ""
    from contacts.tasks import run_live_view_task

    transaction.on_commit(lambda: run_live_view_task(live.pk))
    return live, ""


def solve_myself(attempt: ContactAttempt, user) -> LiveView:
    """A live view waiting for a new attempt: it opens if that attempt meets a CAPTCHA."""
    return LiveView.objects.create(attempt=attempt, opened_by=user, state=LiveState.WAITING)


def settle_waiting(live: LiveView) -> LiveView:
    """Move a waiting view on once its attempt has ended: a CAPTCHA opens it (queued for a
    worker, once, whichever web process sees it first); any other outcome closes it."""
    if live.state != LiveState.WAITING:
        return live
    attempt = ContactAttempt.objects.filter(pk=live.attempt_id).only("status", "submit_pressed_at").first()
    if attempt is None or not attempt.is_final:
        return live
    if attempt.status == AttemptStatus.CAPTCHA and attempt.submit_pressed_at is None:
        if LiveView.objects.filter(pk=live.pk, state=LiveState.WAITING).update(state=LiveState.REQUESTED):
            from contacts.tasks import run_live_view_task

            run_live_view_task(live.pk)
    else:
        label = dict(AttemptStatus.choices).get(attempt.status, attempt.status)
        live.close(f"No CAPTCHA stopped this attempt: it ended {label.lower()}.", outcome=attempt.status)
    live.refresh_from_db()
    return live


# --- the worker's side ------------------------------------------------------------------


_DONE = object()
HOOK_TIMEOUT_S = 60


def run_live_view(live_id: int) -> str | None:
    """Hold one live view from open to close, on this Huey worker thread; the attempt's
    outcome at the end, or None if the view was not ours to run."""
    from contacts import worker
    from contacts.engine.live import LiveLink, live_contact

    if not LiveView.claim(live_id, worker.worker_name()):
        return None
    live = LiveView.objects.select_related("attempt__dealer", "attempt__customer").get(pk=live_id)
    attempt = live.attempt
    if refusal := live_view_refusal(attempt):
        live.close(refusal)
        return None
    pipe = channel()
    limit_s = float(settings.LIVE_VIEW_LIMIT_S)
    idle_s = float(settings.LIVE_VIEW_IDLE_S)
    pipe.viewer_seen(live_id)  # the person who opened it is there now
    customer = attempt.customer.to_engine_customer(attempt.dealer.name)
    worker._attempt_started()
    try:
        session = worker.engine_session()
        link = LiveLink()
        requests: queue.Queue[tuple[Any, Any]] = queue.Queue()

        async def in_worker(fn: Callable[[], Any]) -> Any:
            answer: Future = Future()
            requests.put((fn, answer))
            return await asyncio.wait_for(asyncio.wrap_future(answer), HOOK_TIMEOUT_S)

        hooks = Hooks(on_submit_pressed=lambda: in_worker(attempt.mark_live_submit_pressed))
        running = session.submit(live_contact(attempt.dealer.website, customer, session=session, link=link,
                                              limit_s=limit_s, options=session.options, hooks=hooks))
        running.add_done_callback(lambda done: requests.put((_DONE, done)))
        result = _pump(live, link, requests, pipe, limit_s, idle_s, session.options.timeout_s)
        if result is None:
            running.cancel()
            result = ContactResult(status=outcomes.CAPTCHA, error="The live view stopped answering; nothing was sent.")
        status = _record(live, attempt, result)
    finally:
        worker._attempt_ended()
        pipe.discard(live_id)
    return status


def _pump(live: LiveView, link, requests: queue.Queue, pipe: LiveChannel, limit_s: float, idle_s: float,
          timeout_s: float) -> ContactResult | BaseException | None:
    """Carry frames and input between the channel and the engine until it is done."""
    sent_seq = 0
    state = ""
    next_check = 0.0
    deadline = time.monotonic() + timeout_s + limit_s + 60
    while time.monotonic() < deadline:
        try:
            fn, payload = requests.get(timeout=PUMP_TICK_S)
        except queue.Empty:
            pass
        else:
            if fn is _DONE:
                if payload.cancelled():
                    return None
                return payload.exception() or payload.result()
            try:
                payload.set_result(fn())
            except Exception as exc:
                payload.set_exception(exc)
        if (frame := link.latest_frame(sent_seq)) is not None:
            sent_seq = frame[0]
            pipe.publish_frame(live.pk, frame[1])
        # "closed" is written by _record, with the reason and the outcome.
        if link.state != state and link.state in LiveState.values and link.state != LiveState.CLOSED:
            state = link.state
            live.set_state(state)
        for event in pipe.take_inputs(live.pk):
            link.inputs.put(event)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + HEARTBEAT_CHECK_S
            seen = pipe.viewer_last_seen(live.pk)
            if seen is None or time.time() - seen > idle_s:
                link.stop("The viewer left the live view before the CAPTCHA was solved; nothing was sent.")
    return None


def _record(live: LiveView, attempt: ContactAttempt, result: ContactResult | BaseException) -> str:
    if isinstance(result, BaseException):
        log.error("live view %s crashed", live.pk, exc_info=result)
        result = ContactResult(status=outcomes.CAPTCHA, error=f"The live view failed: {type(result).__name__}")
    attempt.refresh_from_db(fields=["submit_pressed_at", "status"])
    if not result.submit_pressed:
        # Nothing was sent (closed, timed out, or the site changed under it): the attempt
        # stays a CAPTCHA to follow up, as it was; the view says why it closed.
        live.close(result.error or "The live view closed; nothing was sent.", outcome=outcomes.CAPTCHA)
        return outcomes.CAPTCHA
    if result.status in (outcomes.CAPTCHA, outcomes.FAILED, outcomes.CANCELLED) and result.submit_pressed:
        result.status = outcomes.UNCONFIRMED
    fields: dict[str, Any] = {
        "filled_fields": [{"kind": f.kind, "label": f.label, "value": f.value} for f in result.fields],
        "final_url": result.final_url[:1000],
    }
    for which, field_name in (("form", "screenshot_form"), ("result", "screenshot_result")):
        data = result.screenshots.get(which)
        if data:
            file_field = getattr(attempt, field_name)
            file_field.save(f"live-{which}.jpg", ContentFile(data), save=False)
            fields[field_name] = file_field.name
    error = result.error
    if result.status in outcomes.OUTCOMES and attempt.finish(
        result.status, error=error, only_from=(AttemptStatus.CAPTCHA,), **fields
    ):
        attempt.record_event("finished")
    live.close(
        "Sent from the live view." if result.status == outcomes.SUBMITTED else (error or "The live view ended."),
        outcome=result.status,
    )
    return result.status
