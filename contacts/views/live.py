"""Live results: a Server-Sent Events stream that tails the Event table for one search.

All state lives in the database, so any web process can serve any browser, whichever
worker machine ran the attempts, and a browser that reconnects with Last-Event-ID
resumes where it left off. Each message is the same dealer-row (or summary-bar)
fragment the results page renders, which htmx swaps in place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator

from asgiref.sync import sync_to_async
from django.db.models import Q
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from contacts.models import ACTIVE_STATUSES, ContactAttempt, Dealer, Event, Search
from contacts.results import DETAIL, dealer_row, row_context, summary_context

logger = logging.getLogger(__name__)

RETRY_MS = 3000  # how long a browser waits before reconnecting
POLL_INTERVAL_S = 0.5
# Proxies and browsers drop a connection that stays silent too long.
KEEP_ALIVE_S = 15.0
EVENTS_PER_POLL = 500


def sse_message(event: str, data: str, event_id: int) -> str:
    # Every line of the HTML becomes its own data: line; the browser joins them with "\n".
    data_lines = [f"data: {line}" for line in data.strip().splitlines()]
    return "\n".join([f"event: {event}", f"id: {event_id}", *data_lines]) + "\n\n"


def render_updates(request: HttpRequest, search_id: int, dealer_event_ids: dict[int, int], event_id: int) -> str | None:
    """The rows of these dealers as they stand now, then the summary; None if the search is gone.

    dealer_event_ids maps each dealer to the newest event about it; rows go out in
    that order, so the browser's last event id only ever moves forward.
    """
    search = Search.objects.select_related("customer").filter(pk=search_id).first()
    if search is None:
        return None
    dealers = Dealer.objects.in_bulk(list(dealer_event_ids))
    chunks = []
    for dealer_id, dealer_event_id in sorted(dealer_event_ids.items(), key=lambda item: item[1]):
        if dealer_id not in dealers:
            continue
        ctx = row_context(search, dealer_row(search, dealers[dealer_id]))
        html = render_to_string(f"{DETAIL}#dealer-row", ctx, request)
        chunks.append(sse_message(f"dealer-{dealer_id}", html, dealer_event_id))
    summary = render_to_string(f"{DETAIL}#summary-bar", summary_context(search), request)
    chunks.append(sse_message("summary", summary, event_id))
    return "".join(chunks)


def watched_events(search: Search) -> Q:
    # A row shows the customer's latest attempt from any search, so events about the
    # search's customer count too, whoever the customer is by now.
    return Q(search_id=search.pk) | Q(attempt__customer__searches__id=search.pk)


async def snapshot(request: HttpRequest, search: Search) -> tuple[str | None, int]:
    """Every row that may have changed since the page rendered, and the summary, labelled
    with the newest event id: rows with an attempt in this search or a live one for its customer."""
    # The newest event of all, not just of this search: as good a place to resume from,
    # and found from the primary key alone.
    latest = await Event.objects.order_by("-id").values_list("id", flat=True).afirst() or 0
    attempts = ContactAttempt.objects.filter(search=search)
    if search.customer_id:
        attempts |= ContactAttempt.objects.filter(customer_id=search.customer_id, status__in=ACTIVE_STATUSES)
    dealer_ids = attempts.values_list("dealer_id", flat=True).distinct()
    dealer_event_ids = {dealer_id: latest async for dealer_id in dealer_ids.order_by("dealer_id")}
    return await sync_to_async(render_updates)(request, search.pk, dealer_event_ids, latest), latest


_open_streams = 0  # live streams this process is serving now (one event loop: no lock)


def connected_streams() -> int:
    return _open_streams


async def event_stream(request: HttpRequest, search: Search, last_event_id: int | None) -> AsyncIterator[str]:
    global _open_streams
    yield f"retry: {RETRY_MS}\n\n"
    try:
        _open_streams += 1
        if last_event_id is None:
            # A fresh page: bring every row up to date, whatever happened since it rendered.
            update, last_event_id = await snapshot(request, search)
            if update is None:
                return
            yield update
        last_sent = time.monotonic()
        while True:
            events = Event.objects.filter(watched_events(search), id__gt=last_event_id).order_by("id")
            batch = [row async for row in events.values_list("id", "attempt__dealer_id")[:EVENTS_PER_POLL]]
            if batch:
                last_event_id = batch[-1][0]
                # Several events about one dealer need only one row, as it is now.
                dealer_event_ids = {dealer_id: event_id for event_id, dealer_id in batch if dealer_id}
                update = await sync_to_async(render_updates)(request, search.pk, dealer_event_ids, last_event_id)
                if update is None:
                    return
                yield update
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= KEEP_ALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(POLL_INTERVAL_S)
    finally:
        # Reached when the client goes away too (CancelledError or GeneratorExit, which
        # propagate untouched): polling stops with the generator.
        _open_streams -= 1
        logger.debug("Live stream for search %s closed after event %s", search.pk, last_event_id)


def parse_last_event_id(request: HttpRequest) -> int | None:
    value = request.headers.get("Last-Event-ID", "").strip()
    return int(value) if value.isdigit() else None


@require_GET
async def search_events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    user = await request.auser()
    search = await Search.objects.filter(pk=pk, owner=user).afirst() if user.is_authenticated else None
    if search is None:
        raise Http404("No such search.")
    stream = event_stream(request, search, parse_last_event_id(request))
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    # Tells nginx not to buffer, so each event reaches the browser as it is sent.
    response["X-Accel-Buffering"] = "no"
    return response
