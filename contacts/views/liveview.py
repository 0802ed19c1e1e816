"""The live view's pages: open it, watch it (a stream of frames), drive it (input events).

Only the attempt's owner, or staff who may change attempts in the admin, can see or drive
a live view; anyone else gets a 404, as for any other user's attempt. The frames and the
input go through contacts.liveview's channel, so any web process can serve any viewer
whichever worker holds the page.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from contacts import liveview
from contacts.engine.live import clean_input
from contacts.engine.runtime import VIEWPORT
from contacts.live_models import LiveState, LiveView
from contacts.models import ContactAttempt

FRAME_POLL_S = 0.05
STATE_POLL_S = 1.0
HEARTBEAT_S = 2.0
KEEP_ALIVE_S = 15.0


def _attempt(user, pk: int) -> ContactAttempt:
    return get_object_or_404(liveview.attempts_for(user), pk=pk)


@login_required
@require_GET
def live_view_page(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _attempt(request.user, pk)
    live = attempt.live_views.first()
    if live is not None:
        live = liveview.settle_waiting(live)
    ctx = {
        "attempt": attempt,
        "live": live,
        "refusal": liveview.live_view_refusal(attempt),
        "viewport": VIEWPORT,
        "limit_s": settings.LIVE_VIEW_LIMIT_S,
    }
    return render(request, "contacts/live_view.html", ctx)


@login_required
@require_POST
def live_view_open(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _attempt(request.user, pk)
    live, refusal = liveview.open_live_view(attempt, request.user)
    if live is None:
        messages.error(request, refusal)
    return redirect("live_view", pk=attempt.pk)


@login_required
@require_POST
def live_view_solve_myself(request: HttpRequest, pk: int) -> HttpResponse:
    """Contact this attempt's dealer again for its customer, and if a CAPTCHA stops the new
    attempt, open the live view for the person to solve it. The sending limits apply as
    to any attempt (contacts.services.start_attempts)."""
    from contacts import services
    from contacts.views.searches import report_started

    attempt = get_object_or_404(ContactAttempt.objects.select_related("customer", "dealer", "search"),
                                pk=pk, owner=request.user)
    result = services.start_attempts(request.user, attempt.customer, [attempt.dealer], search=attempt.search,
                                     contact_again=True)
    if not result.created:
        report_started(request, attempt.customer, result)  # which limit or rule held it back
        return redirect(attempt)
    new = result.created[0]
    liveview.solve_myself(new, request.user)
    return redirect("live_view", pk=new.pk)


@login_required
@require_POST
def live_view_input(request: HttpRequest, pk: int) -> HttpResponse:
    """One input event from the viewer (JSON), passed to the worker holding the page."""
    attempt = _attempt(request.user, pk)
    live = attempt.live_views.filter(state__in=[LiveState.OPENING, LiveState.LIVE]).first()
    if live is None:
        return JsonResponse({"error": "The live view is not open."}, status=409)
    try:
        event = clean_input(json.loads(request.body or b"{}"))
    except (ValueError, UnicodeDecodeError):
        event = None
    if event is None:
        return JsonResponse({"error": "Not an input event this view accepts."}, status=400)
    pipe = liveview.channel()
    pipe.send_input(live.pk, event)
    pipe.viewer_seen(live.pk)
    return HttpResponse(status=204)


def _state_message(live: LiveView) -> str:
    data = json.dumps({"state": live.state, "label": live.get_state_display(), "reason": live.closed_reason,
                       "outcome": live.outcome})
    return f"event: state\ndata: {data}\n\n"


async def frame_stream(live_id: int) -> AsyncIterator[str]:
    """The live view's frames (base64 JPEG, newest only) and its state, until it closes.

    While the stream is open the viewer counts as present: when the browser goes away,
    the stream ends and the worker closes the view after LIVE_VIEW_IDLE_S."""
    pipe = liveview.channel()
    latest = sync_to_async(pipe.latest_frame, thread_sensitive=False)
    seen = sync_to_async(pipe.viewer_seen, thread_sensitive=False)
    yield "retry: 2000\n\n"
    seq = 0
    state = None
    last_beat = last_state = last_sent = 0.0
    while True:
        now = time.monotonic()
        if now - last_beat >= HEARTBEAT_S:
            await seen(live_id)
            last_beat = now
        if now - last_state >= STATE_POLL_S or state is None:
            live = await LiveView.objects.filter(pk=live_id).afirst()
            last_state = now
            if live is None:
                return
            if live.state == LiveState.WAITING:
                live = await sync_to_async(liveview.settle_waiting)(live)
            if live.state != state:
                state = live.state
                yield _state_message(live)
                last_sent = now
            if state == LiveState.CLOSED:
                return
        frame = await latest(live_id, seq)
        if frame is not None:
            seq, jpeg = frame
            yield f"event: frame\nid: {seq}\ndata: {base64.b64encode(jpeg).decode()}\n\n"
            last_sent = now
        elif now - last_sent >= KEEP_ALIVE_S:
            yield ": keep-alive\n\n"
            last_sent = now
        await asyncio.sleep(FRAME_POLL_S)


@require_GET
async def live_view_stream(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    user = await request.auser()
    if not user.is_authenticated:
        raise Http404("No such attempt.")
    attempt = await sync_to_async(lambda: liveview.attempts_for(user).filter(pk=pk).first())()
    if attempt is None:
        raise Http404("No such attempt.")
    live = await attempt.live_views.order_by("-created", "-id").afirst()
    if live is None:
        raise Http404("This attempt has no live view.")
    response = StreamingHttpResponse(frame_stream(live.pk), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"
    return response


def live_view_url(attempt: ContactAttempt) -> str:
    return reverse("live_view", args=[attempt.pk])
