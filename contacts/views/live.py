"""Live results: Server-Sent Events streams fed by one poller per web process.

All state lives in the database, so any web process can serve any browser, whichever
worker machine ran the attempts, and a browser that reconnects with Last-Event-ID
resumes where it left off. Each message is the same dealer-row (or summary-bar)
fragment the results page renders, which htmx swaps in place.

One poller (an asyncio task on the process's event loop, doing its database work on one
thread of its own, so on one database connection) reads the new events once per tick and
fans them out to every connected stream; a stream itself never touches the database, so
the connections a web process holds do not grow with the pages open. A row is rendered
once per search per tick, whatever the number of tabs showing it.

PostgreSQL hands out ids when a row is inserted, not when it commits, so an event may
become visible after a later one was read. The poller remembers every id it skipped (a
"hole") and keeps asking for those ids for HOLE_WAIT_S; one that commits late is sent
then. A sequence also skips ids for good (rolled-back inserts): those holes just expire.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
import weakref
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import AsyncIterator

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from contacts.models import ACTIVE_STATUSES, ContactAttempt, Event, Search
from contacts.results import DETAIL, dealer_rows_for, row_context, summary_context

logger = logging.getLogger(__name__)

RETRY_MS = 3000  # how long a browser waits before reconnecting
# How often the poller reads new events (read at every tick, so tests may change it).
POLL_INTERVAL_S = settings.LIVE_POLL_INTERVAL_MS / 1000
# Proxies and browsers drop a connection that stays silent too long.
KEEP_ALIVE_S = 15.0
EVENTS_PER_POLL = 2000
# How long a skipped id is awaited (a transaction that inserted an event but has not
# committed yet), and how far back a reconnecting browser is re-sent recent rows.
HOLE_WAIT_S = 30.0
RESUME_WINDOW_S = 10.0
MAX_HOLES = 20000
# The poller stops (and closes its connection) after this long without a stream.
IDLE_STOP_S = 5.0
# A stream that does not read what it is sent is closed past this many waiting messages;
# its browser reconnects and resumes.
MAX_BACKLOG = 500
# Rows are rendered once for every tab showing a search; each stream's own CSRF token
# replaces this marker (the Cancel buttons post with it).
CSRF_PLACEHOLDER = "__dealercontact_csrf_token__"


def sse_message(event: str, data: str, event_id: int) -> str:
    # Every line of the HTML becomes its own data: line; the browser joins them with "\n".
    data_lines = [f"data: {line}" for line in data.strip().splitlines()]
    return "\n".join([f"event: {event}", f"id: {event_id}", *data_lines]) + "\n\n"


def render_updates(search: Search, dealer_event_ids: dict[int, int], event_id: int) -> str:
    """The rows of these dealers as they stand now, then the summary, with the CSRF marker.

    dealer_event_ids maps each dealer to the newest event about it; rows go out in
    that order, so the browser's last event id moves forward within a message.
    """
    ordered = sorted(dealer_event_ids, key=dealer_event_ids.get)
    chunks = []
    # Every row in a fixed number of queries, however many changed.
    for row in dealer_rows_for(search, ordered):
        dealer_id = row.dealer.pk
        ctx = {**row_context(search, row), "csrf_token": CSRF_PLACEHOLDER}
        html = render_to_string(f"{DETAIL}#dealer-row", ctx)
        chunks.append(sse_message(f"dealer-{dealer_id}", html, dealer_event_ids[dealer_id]))
    ctx = {**summary_context(search), "csrf_token": CSRF_PLACEHOLDER}
    chunks.append(sse_message("summary", render_to_string(f"{DETAIL}#summary-bar", ctx), event_id))
    return "".join(chunks)


def snapshot_dealers(search: Search) -> list[int]:
    """Every dealer whose row may have changed since the page rendered: those with an
    attempt in this search or a live one for its customer."""
    attempts = ContactAttempt.objects.filter(search=search)
    if search.customer_id:
        attempts |= ContactAttempt.objects.filter(customer_id=search.customer_id, status__in=ACTIVE_STATUSES)
    return list(attempts.values_list("dealer_id", flat=True).distinct().order_by("dealer_id"))


def watched_events(search: Search) -> Q:
    # A row shows the customer's latest attempt from any search, so events about the
    # search's customer count too, whoever the customer is by now.
    q = Q(search_id=search.pk)
    if search.customer_id:
        q |= Q(attempt__customer_id=search.customer_id)
    return q


# --- streams and the poller ------------------------------------------------------------


@dataclass(eq=False)
class Stream:
    """One open live page: what the poller sends it waits in its queue."""

    search_id: int
    user_id: int
    csrf_token: str
    resume_after: int | None  # Last-Event-ID of a reconnecting browser, else None
    time_zone: str = ""  # the zone the page shows times in (contacts.time_zones)
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    started: bool = False  # sent its snapshot (or catch-up) and follows the feed

    def send(self, text: str | None) -> None:
        if text is not None:
            text = text.replace(CSRF_PLACEHOLDER, self.csrf_token)
        if self.queue.qsize() >= MAX_BACKLOG:
            text = None  # too far behind: close, and let the browser resume
        self.queue.put_nowait(text)


class Poller:
    """The one reader of the Event table for every stream of one event loop (process)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.streams: set[Stream] = set()
        self.cursor: int | None = None  # the highest event id read
        self.holes: dict[int, float] = {}  # skipped id -> when it was first skipped
        self.task: asyncio.Task | None = None
        # One thread, so one database connection, for everything the poller reads.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-poller")
        self.ticks = 0

    def add(self, stream: Stream) -> None:
        self.streams.add(stream)
        if self.task is None or self.task.done():
            # A context of its own: the poller must not belong to the request that
            # happened to start it (nor to that request's database thread).
            self.task = self.loop.create_task(self.run(), context=contextvars.Context())

    def discard(self, stream: Stream) -> None:
        self.streams.discard(stream)

    async def run(self) -> None:
        idle_since: float | None = None
        try:
            while True:
                tick_started = time.monotonic()
                if not self.streams:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since >= IDLE_STOP_S:
                        return
                else:
                    idle_since = None
                    try:
                        deliveries = await self.loop.run_in_executor(self.executor, self.tick, list(self.streams))
                    except Exception:
                        # The database went away: try again next tick, streams stay open.
                        logger.exception("live poller: reading events failed; retrying")
                        await self.loop.run_in_executor(self.executor, close_connections)
                    else:
                        for stream, text in deliveries:
                            if stream in self.streams:
                                stream.send(text)
                self.ticks += 1
                # A steady rate: a slow tick (many rows to render) does not push the next one back.
                await asyncio.sleep(max(0.0, POLL_INTERVAL_S - (time.monotonic() - tick_started)))
        finally:
            self.cursor = None
            self.holes.clear()
            # Give the connection back; the thread stays for the next start.
            try:
                self.executor.submit(close_connections)
            except RuntimeError:  # the interpreter is shutting down
                pass

    # Everything below runs on the poller's thread.

    def tick(self, streams: list[Stream]) -> list[tuple[Stream, str | None]]:
        if self.cursor is None:
            self.cursor = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
            self.holes.clear()
            events = []
        else:
            events = self.read_new_events()
            if not events and all(stream.started for stream in streams):
                return []
        searches = Search.objects.in_bulk({stream.search_id for stream in streams})
        deliveries: list[tuple[Stream, str | None]] = []
        rendered: dict[tuple, str] = {}

        def render(stream: Stream, search: Search, dealer_event_ids: dict[int, int], event_id: int) -> str:
            # Once for every tab showing the same rows in the same time zone.
            key = (search.pk, stream.time_zone, tuple(sorted(dealer_event_ids.items())), event_id)
            if key not in rendered:
                with timezone.override(stream.time_zone or None):
                    rendered[key] = render_updates(search, dealer_event_ids, event_id)
            return rendered[key]

        # Live streams: the new events about each watched search, one row per dealer.
        per_search = self.group_by_search(events, searches.values())
        for stream in streams:
            search = searches.get(stream.search_id)
            if search is None:
                deliveries.append((stream, None))  # the search was deleted: end the stream
                continue
            if not stream.started:
                continue
            if stream.search_id in per_search:
                dealer_event_ids, last_id = per_search[stream.search_id]
                deliveries.append((stream, render(stream, search, dealer_event_ids, last_id)))
        # New streams: a snapshot (fresh page) or what changed since Last-Event-ID.
        for stream in streams:
            search = searches.get(stream.search_id)
            if stream.started or search is None:
                continue
            if stream.resume_after is None:
                dealer_event_ids = {dealer_id: self.cursor for dealer_id in snapshot_dealers(search)}
                deliveries.append((stream, render(stream, search, dealer_event_ids, self.cursor)))
            else:
                update = self.catch_up(search, stream.resume_after)
                if update is not None:
                    deliveries.append((stream, render(stream, search, *update)))
            stream.started = True
        return deliveries

    def read_new_events(self) -> list[tuple[int, int | None, int | None, int | None]]:
        now = time.monotonic()
        for event_id, since in list(self.holes.items()):
            if now - since > HOLE_WAIT_S:
                del self.holes[event_id]  # never committed (a rolled-back insert)
        wanted = Q(id__gt=self.cursor)
        if self.holes:
            wanted |= Q(id__in=list(self.holes))
        rows = list(
            Event.objects.filter(wanted)
            .order_by("id")
            .values_list("id", "search_id", "attempt__dealer_id", "attempt__customer_id")[:EVENTS_PER_POLL]
        )
        expected = self.cursor + 1
        for row in rows:
            event_id = row[0]
            if event_id in self.holes:
                del self.holes[event_id]
                continue
            for skipped in range(expected, event_id):
                self.holes[skipped] = now
            expected = event_id + 1
            self.cursor = event_id
        if len(self.holes) > MAX_HOLES:
            for event_id in sorted(self.holes)[: len(self.holes) - MAX_HOLES]:
                del self.holes[event_id]
        return rows

    @staticmethod
    def group_by_search(events, searches) -> dict[int, tuple[dict[int, int], int]]:
        """search id -> ({dealer id: newest event id}, newest event id) for each watched search."""
        by_customer: dict[int, list[int]] = defaultdict(list)
        watched: set[int] = set()
        for search in searches:
            watched.add(search.pk)
            if search.customer_id:
                by_customer[search.customer_id].append(search.pk)
        grouped: dict[int, tuple[dict[int, int], int]] = {}
        for event_id, search_id, dealer_id, customer_id in events:
            targets = set(by_customer.get(customer_id, ())) if customer_id else set()
            if search_id in watched:
                targets.add(search_id)
            for target in targets:
                dealer_event_ids, last_id = grouped.get(target, ({}, 0))
                if dealer_id:
                    dealer_event_ids[dealer_id] = max(event_id, dealer_event_ids.get(dealer_id, 0))
                grouped[target] = (dealer_event_ids, max(last_id, event_id))
        return grouped

    def catch_up(self, search: Search, after: int) -> tuple[dict[int, int], int] | None:
        """What a reconnecting browser missed: events after its last id, and the recent
        ones below it too (one may have committed late); rows are re-sent as they are now."""
        recent = timezone.now() - timedelta(seconds=RESUME_WINDOW_S)
        rows = (
            Event.objects.filter(watched_events(search))
            .filter(Q(id__gt=after) | Q(created__gte=recent), id__lte=self.cursor)
            .order_by("id")
            .values_list("id", "attempt__dealer_id")
        )
        dealer_event_ids: dict[int, int] = {}
        last_id = 0
        for event_id, dealer_id in rows:
            if dealer_id:
                dealer_event_ids[dealer_id] = event_id
            last_id = event_id
        if not last_id:
            return None  # nothing happened: the browser is up to date
        return dealer_event_ids, max(last_id, after)


def close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Poller] = weakref.WeakKeyDictionary()


def poller() -> Poller:
    loop = asyncio.get_running_loop()
    if loop not in _pollers:
        _pollers[loop] = Poller(loop)
    return _pollers[loop]


# --- connected streams, per user and in all ---------------------------------------------

_open_streams: dict[int, "weakref.WeakSet"] = defaultdict(weakref.WeakSet)
_open_lock = threading.Lock()


def connected_streams() -> int:
    """Live streams this web process is serving now (for the metrics gauge)."""
    with _open_lock:
        return sum(len(streams) for streams in _open_streams.values())


def user_streams(user_id: int) -> int:
    with _open_lock:
        return len(_open_streams.get(user_id, ()))


class StreamBody:
    """The response body of one stream; counted as connected while it exists and has not
    ended (a body the server never started is dropped with its response)."""

    def __init__(self, stream: Stream, search_pk: int) -> None:
        self.stream = stream
        self.search_pk = search_pk
        self.iterator = self.generate()
        self.hub: Poller | None = None
        with _open_lock:
            _open_streams[stream.user_id].add(self)

    def __aiter__(self) -> AsyncIterator[str]:
        return self.iterator

    async def aclose(self) -> None:
        await self.iterator.aclose()

    def close(self) -> None:
        """Called by Django when the response ends (from any thread): the stream no
        longer counts, even before its generator is finalized."""
        self.release()
        hub = self.hub
        if hub is not None and not hub.loop.is_closed():
            try:
                hub.loop.call_soon_threadsafe(hub.discard, self.stream)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def release(self) -> None:
        with _open_lock:
            streams = _open_streams.get(self.stream.user_id)
            if streams is not None:
                streams.discard(self)
                if not streams:
                    del _open_streams[self.stream.user_id]

    async def generate(self) -> AsyncIterator[str]:
        stream = self.stream
        hub = self.hub = poller()
        try:
            yield f"retry: {RETRY_MS}\n\n"
            hub.add(stream)
            while True:
                try:
                    text = await asyncio.wait_for(stream.queue.get(), KEEP_ALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if text is None:
                    return
                yield text
        finally:
            # Reached when the client goes away too (CancelledError or GeneratorExit, which
            # propagate untouched): the stream leaves the poller's list.
            hub.discard(stream)
            self.release()
            logger.debug("Live stream for search %s closed", self.search_pk)


def parse_last_event_id(request: HttpRequest) -> int | None:
    """Where to resume: the browser's Last-Event-ID when it reconnects, else the newest
    event the page was rendered at (`?since=`), so a fresh page is sent only what changed
    after it rendered instead of every row that was ever contacted."""
    value = request.headers.get("Last-Event-ID", "").strip() or request.GET.get("since", "").strip()
    return int(value) if value.isdigit() else None


def find_search(request: HttpRequest, pk: int) -> Search | None:
    """The stream's search if it belongs to the user; runs on the poller's thread."""
    user = request.user  # the session and the user are read here, on the poller's connection
    if not user.is_authenticated:
        return None
    return Search.objects.filter(pk=pk, owner=user).first()


@require_GET
async def search_events(request: HttpRequest, pk: int) -> HttpResponse:
    hub = poller()
    # The lookups run on the poller's thread too, so even a thousand browsers reconnecting
    # at once (after a web-server restart) share its one connection instead of opening
    # one each.
    try:
        search = await hub.loop.run_in_executor(hub.executor, find_search, request, pk)
    except DatabaseError:
        hub.executor.submit(close_connections)
        return HttpResponse(
            "Live updates are unavailable for a moment (the database did not answer); reload the page.\n",
            status=503, content_type="text/plain; charset=utf-8", headers={"Retry-After": "5"},
        )
    finally:
        if hub.task is None or hub.task.done():
            hub.executor.submit(close_connections)  # no poller running to keep it for
    if search is None:
        raise Http404("No such search.")
    user = request.user
    limit = settings.LIVE_STREAMS_PER_USER
    if user_streams(user.pk) >= limit:
        return HttpResponse(
            f"Too many live result pages open: at most {limit} at once. Close another results tab "
            "(or reload this page later) to see live updates here.\n",
            status=429,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": "30"},
        )
    stream = Stream(search.pk, user.pk, get_token(request), parse_last_event_id(request),
                    time_zone=timezone.get_current_timezone_name())
    response = StreamingHttpResponse(StreamBody(stream, search.pk), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    # Tells nginx not to buffer, so each event reaches the browser as it is sent.
    response["X-Accel-Buffering"] = "no"
    return response
