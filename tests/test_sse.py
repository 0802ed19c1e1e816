"""The live results stream, read for real: Django's AsyncClient and a real uvicorn server."""

from __future__ import annotations

import asyncio
import http.client
import logging
import time
from dataclasses import dataclass

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Event, Search
from contacts.views import live

pytestmark = pytest.mark.django_db(transaction=True)

READ_TIMEOUT_S = 10


@dataclass
class Message:
    event: str
    id: int | None
    data: str
    raw: str


def parse(raw: str) -> Message:
    event, event_id, data = "message", None, []
    for line in raw.split("\n"):
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("id: "):
            event_id = int(line.removeprefix("id: "))
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
    return Message(event, event_id, "\n".join(data), raw)


class StreamReader:
    """Splits a streaming response into SSE messages, with a timeout on every read."""

    def __init__(self, response) -> None:
        self.chunks = response.streaming_content
        self.buffer = ""

    async def next(self) -> Message:
        while "\n\n" not in self.buffer:
            chunk = await asyncio.wait_for(self.chunks.__anext__(), READ_TIMEOUT_S)
            self.buffer += chunk.decode()
        raw, self.buffer = self.buffer.split("\n\n", 1)
        return parse(raw)

    async def until(self, event: str) -> list[Message]:
        """Every message up to and including the next one named event."""
        messages = [await self.next()]
        while messages[-1].event != event:
            messages.append(await self.next())
        return messages


async def connect(user, search, **headers):
    client = AsyncClient()
    if user is not None:
        await client.aforce_login(user)
    return await client.get(reverse("search_events", args=[search.pk]), headers=headers)


def attempt_with_event(search, dealer, status=AttemptStatus.QUEUED, kind="queued", **fields) -> ContactAttempt:
    attempt = ContactAttempt.objects.create(
        owner=search.owner, customer=search.customer, dealer=dealer, search=search, status=status, **fields
    )
    attempt.record_event(kind)
    return attempt


def latest_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first()


def test_it_sends_the_current_state_on_connect(owner, search, dealers):
    attempt_with_event(search, dealers[0])
    attempt_with_event(search, dealers[1], AttemptStatus.FAILED, "finished", error="The site did not load.")
    newest = latest_event_id()

    async def scenario():
        response = await connect(owner, search)
        reader = StreamReader(response)
        first = await reader.next()
        messages = await reader.until("summary")
        await response.streaming_content.aclose()
        return first, messages

    first, messages = async_to_sync(scenario)()
    assert first.raw == "retry: 3000"
    assert [(m.event, m.id) for m in messages] == [
        (f"dealer-{dealers[0].pk}", newest), (f"dealer-{dealers[1].pk}", newest), ("summary", newest)
    ]
    queued_row, failed_row, summary = messages
    assert queued_row.data.startswith(f'<tr id="dealer-{dealers[0].pk}"') and "Queued" in queued_row.data
    assert f'sse-swap="dealer-{dealers[0].pk}"' in queued_row.data
    assert "badge badge-failed" in failed_row.data and "The site did not load." in failed_row.data
    assert 'id="summary"' in summary.data and "0 of 2 finished" not in summary.data
    assert "1 of 2 finished" in summary.data
    # Every line of the HTML travels as its own data line.
    for message in messages:
        body = message.raw.split("\n")[2:]
        assert body and all(line.startswith("data: ") for line in body)


def test_it_resumes_after_the_last_event_id(owner, search, dealers):
    attempt_with_event(search, dealers[0])
    seen = latest_event_id()
    # Seen a while ago (recent events below the last id are re-sent, in case one committed late).
    Event.objects.filter(id=seen).update(created=timezone.now() - timedelta(minutes=1))
    attempt_with_event(search, dealers[1], AttemptStatus.SUBMITTED, "finished")
    newest = latest_event_id()

    async def scenario():
        response = await connect(owner, search, **{"Last-Event-ID": str(seen)})
        reader = StreamReader(response)
        messages = await reader.until("summary")
        await response.streaming_content.aclose()
        return messages

    messages = async_to_sync(scenario)()
    assert [(m.event, m.id) for m in messages] == [
        ("message", None), (f"dealer-{dealers[1].pk}", newest), ("summary", newest)
    ]
    assert messages[0].raw == "retry: 3000"
    assert "badge badge-submitted" in messages[1].data


def test_it_sends_events_as_they_happen(owner, search, dealers, monkeypatch):
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)

    async def scenario():
        response = await connect(owner, search)
        reader = StreamReader(response)
        snapshot = await reader.until("summary")
        attempt = await sync_to_async(attempt_with_event)(search, dealers[2])
        queued = await reader.until("summary")

        def start_filling():
            ContactAttempt.claim(attempt.pk, "test-worker")
            attempt.refresh_from_db()
            attempt.set_phase("filling")
            attempt.record_event("phase")

        await sync_to_async(start_filling)()
        filling = await reader.until("summary")
        await response.streaming_content.aclose()
        return snapshot, queued, filling

    snapshot, queued, filling = async_to_sync(scenario)()
    assert [m.event for m in snapshot] == ["message", "summary"]
    assert "No dealer contacted from this search yet" in snapshot[-1].data
    row, summary = queued
    assert row.event == f"dealer-{dealers[2].pk}" and "Queued" in row.data
    assert "Cancel all" in summary.data and "0 of 1 finished" in summary.data
    assert filling[0].event == f"dealer-{dealers[2].pk}" and "Filling" in filling[0].data
    assert filling[0].id == latest_event_id() and filling[0].id > row.id


def test_it_sends_one_row_for_several_events_about_a_dealer(owner, search, dealers, monkeypatch):
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    attempt = attempt_with_event(search, dealers[0])
    start = latest_event_id()
    attempt.record_event("phase")
    attempt_with_event(search, dealers[1])
    attempt.record_event("phase")
    newest = latest_event_id()

    async def scenario():
        response = await connect(owner, search, **{"Last-Event-ID": str(start)})
        reader = StreamReader(response)
        messages = await reader.until("summary")
        await response.streaming_content.aclose()
        return messages

    _retry, *updates = async_to_sync(scenario)()
    # In event order, so the browser's last event id never goes backwards.
    assert [(m.event, m.id) for m in updates] == [
        (f"dealer-{dealers[1].pk}", newest - 1), (f"dealer-{dealers[0].pk}", newest), ("summary", newest)
    ]


def test_it_follows_the_customers_attempts_from_other_searches(owner, profile, search, dealers, monkeypatch):
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    earlier = Search.objects.create(owner=owner, customer=profile, zip_code="90210", latitude=34.09,
                                    longitude=-118.41)
    running_elsewhere = attempt_with_event(earlier, dealers[0], AttemptStatus.RUNNING, "phase", phase="opening")
    other_customer = CustomerProfile.objects.create(
        owner=owner, first_name="Other", last_name="Buyer", email="o@example.org", phone="+13105550124",
        zip_code="90210", vehicle_year=2024, vehicle_make="Ford", vehicle_model="F-150",
    )
    unrelated = Search.objects.create(owner=owner, customer=other_customer, zip_code="90210", latitude=34.09,
                                      longitude=-118.41)

    def progress():
        # Another customer's attempt first: it must not reach this stream.
        attempt_with_event(unrelated, dealers[1])
        running_elsewhere.set_phase("filling")
        running_elsewhere.record_event("phase")

    async def scenario():
        response = await connect(owner, search)
        reader = StreamReader(response)
        snapshot = await reader.until("summary")
        await sync_to_async(progress)()
        update = await reader.until("summary")
        await response.streaming_content.aclose()
        return snapshot, update

    snapshot, update = async_to_sync(scenario)()
    # The row shows this customer's live attempt from the earlier search, so it is watched.
    assert [m.event for m in snapshot] == ["message", f"dealer-{dealers[0].pk}", "summary"]
    assert "Opening site" in snapshot[1].data and "from an earlier search" not in snapshot[1].data
    assert [m.event for m in update] == [f"dealer-{dealers[0].pk}", "summary"]
    assert "Filling" in update[0].data


def test_it_keeps_a_quiet_connection_alive(owner, search, monkeypatch):
    monkeypatch.setattr(live, "KEEP_ALIVE_S", 0.05)
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.02)

    async def scenario():
        response = await connect(owner, search)
        reader = StreamReader(response)
        await reader.until("summary")
        started = time.monotonic()
        keep_alive = await reader.next()
        waited = time.monotonic() - started
        await response.streaming_content.aclose()
        return keep_alive, waited

    keep_alive, waited = async_to_sync(scenario)()
    assert keep_alive.raw == ": keep-alive"
    assert waited >= 0.05


def test_it_sets_the_streaming_headers(owner, search):
    async def scenario():
        response = await connect(owner, search)
        await response.streaming_content.aclose()
        return response

    response = async_to_sync(scenario)()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"


def test_it_hides_the_stream_from_everyone_but_the_owner(teammate, outsider, search, dealers):
    attempt_with_event(search, dealers[0])

    async def scenario():
        return [(await connect(user, search)).status_code for user in (teammate, outsider, None)]

    assert async_to_sync(scenario)() == [404, 404, 404]


def test_it_404s_for_a_missing_search(owner, search):
    async def scenario():
        client = AsyncClient()
        await client.aforce_login(owner)
        return (await client.get(reverse("search_events", args=[search.pk + 1]))).status_code

    assert async_to_sync(scenario)() == 404


def test_it_rejects_post_on_the_stream(owner, search):
    async def scenario():
        client = AsyncClient()
        await client.aforce_login(owner)
        return (await client.post(reverse("search_events", args=[search.pk]))).status_code

    assert async_to_sync(scenario)() == 405


def test_it_stops_polling_when_the_reader_is_cancelled(owner, search, monkeypatch, caplog):
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    caplog.set_level(logging.DEBUG, logger="contacts.views.live")

    async def scenario():
        response = await connect(owner, search)
        reader = StreamReader(response)
        await reader.until("summary")
        waiting = asyncio.ensure_future(reader.next())
        await asyncio.sleep(0.2)  # the stream is now between polls
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        with pytest.raises(StopAsyncIteration):
            await response.streaming_content.__anext__()

    async_to_sync(scenario)()
    assert f"Live stream for search {search.pk} closed" in caplog.text


def test_it_stops_on_the_real_server_when_the_browser_goes_away(owner, search, dealers, asgi_server,
                                                                monkeypatch, caplog):
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    caplog.set_level(logging.DEBUG, logger="contacts.views.live")
    attempt_with_event(search, dealers[0], phase="")
    browser = Client()
    browser.force_login(owner)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value

    connection = http.client.HTTPConnection("127.0.0.1", asgi_server.port, timeout=READ_TIMEOUT_S)
    connection.request("GET", reverse("search_events", args=[search.pk]),
                       headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
    lines = []
    while "event: summary\n" not in lines:
        lines.append(response.readline().decode())
    assert "retry: 3000\n" in lines and f"event: dealer-{dealers[0].pk}\n" in lines

    # A new event reaches this connection too.
    attempt = ContactAttempt.objects.get()
    ContactAttempt.claim(attempt.pk, "test-worker")
    attempt.record_event("phase")
    while f"id: {latest_event_id()}\n" not in lines:
        lines.append(response.readline().decode())

    connection.close()
    deadline = time.monotonic() + READ_TIMEOUT_S
    while f"Live stream for search {search.pk} closed" not in caplog.text:
        assert time.monotonic() < deadline, "the stream kept running after the client left"
        time.sleep(0.05)


def test_it_sends_times_in_the_users_time_zone(owner, search, dealers):
    from datetime import datetime, timezone as dt_timezone

    from contacts.time_zones import COOKIE

    attempt_with_event(search, dealers[0], AttemptStatus.SUBMITTED, "finished",
                       finished=datetime(2026, 12, 1, 20, 0, tzinfo=dt_timezone.utc))

    async def scenario():
        client = AsyncClient()
        await client.aforce_login(owner)
        client.cookies[COOKIE] = "America/Los_Angeles"
        response = await client.get(reverse("search_events", args=[search.pk]))
        reader = StreamReader(response)
        messages = await reader.until("summary")
        await response.streaming_content.aclose()
        return messages

    row = next(m for m in async_to_sync(scenario)() if m.event == f"dealer-{dealers[0].pk}")
    assert "Dec 1, 12:00 PST" in row.data, row.data


# --- one poller for every stream, the per-user cap, late commits ------------------------

on_postgres = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="commit order and connection counts are PostgreSQL's (make test-scaleout)",
)


def test_it_caps_the_streams_one_user_may_hold_open(owner, teammate, search, settings):
    settings.LIVE_STREAMS_PER_USER = 2
    other_search = Search.objects.create(owner=teammate, zip_code="90210", latitude=34.09, longitude=-118.41)

    async def scenario():
        opened = []
        for _ in range(2):
            response = await connect(owner, search)
            await StreamReader(response).until("summary")
            opened.append(response)
        counted = live.user_streams(owner.pk), live.connected_streams()
        refused = await connect(owner, search)
        # Someone else is not held back by this user's tabs.
        teammates = await connect(teammate, other_search)
        await StreamReader(teammates).until("summary")
        for response in (opened.pop(), teammates):
            # As the ASGI handler does when the browser goes away.
            await response.streaming_content.aclose()
            await sync_to_async(response.close)()
        again = await connect(owner, search)
        reader = StreamReader(again)
        await reader.until("summary")
        for response in (*opened, again):
            await response.streaming_content.aclose()
        return counted, refused, again

    counted, refused, again = async_to_sync(scenario)()
    assert counted == (2, 2)
    assert refused.status_code == 429
    assert "at most 2" in refused.content.decode() and refused["Retry-After"]
    assert again.status_code == 200


def test_every_stream_of_a_process_is_fed_by_one_poller(owner, profile, search, dealers, monkeypatch):
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    searches = [search] + [
        Search.objects.create(owner=owner, customer=profile, zip_code="90210", latitude=34.09, longitude=-118.41)
        for _ in range(3)
    ]

    async def scenario():
        responses = []
        for watched in searches:
            for _ in range(5):
                response = await connect(owner, watched)
                await StreamReader(response).until("summary")
                responses.append(response)
        readers = [StreamReader(response) for response in responses]
        hub = live.poller()
        attempt = await sync_to_async(attempt_with_event)(search, dealers[0])
        updates = [await reader.until("summary") for reader in readers]
        for response in responses:
            await response.streaming_content.aclose()
        return hub, attempt, updates

    hub, attempt, updates = async_to_sync(scenario)()
    # Every stream watches this customer, so every one got the new row, from the one poller.
    assert all(update[0].event == f"dealer-{dealers[0].pk}" and "Queued" in update[0].data for update in updates)
    assert hub.executor._max_workers == 1
    # Each stream carries its own CSRF token, never the shared rendering's marker.
    assert all(live.CSRF_PLACEHOLDER not in message.data for update in updates for message in update)


@on_postgres
@pytest.mark.scaleout
def test_streams_do_not_hold_a_database_connection_each(owner, search, dealers, monkeypatch, settings):
    from django.db import connection

    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    settings.LIVE_STREAMS_PER_USER = 100

    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]

    before = backends()

    async def scenario():
        responses = []
        for _ in range(25):
            response = await connect(owner, search)
            await StreamReader(response).until("summary")
            responses.append(response)
        await sync_to_async(attempt_with_event)(search, dealers[0])
        for response in responses:
            await StreamReader(response).until("summary")
        during = await sync_to_async(backends, thread_sensitive=False)()
        for response in responses:
            await response.streaming_content.aclose()
        return during

    during = async_to_sync(scenario)()
    assert during - before <= 2, f"{during - before} connections for 25 open streams"


@on_postgres
@pytest.mark.scaleout
def test_no_event_is_missed_when_postgresql_commits_out_of_id_order(owner, search, dealers, monkeypatch):
    """Several writers: each takes an event id, then they commit in the reverse order,
    the later ids reaching the poller first; every row still arrives."""
    import threading

    from django.db import connections, transaction

    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    attempts = [
        ContactAttempt.objects.create(owner=owner, customer=search.customer, dealer=dealer, search=search)
        for dealer in dealers
    ]
    inserted = [threading.Event() for _ in attempts]
    release = [threading.Event() for _ in attempts]
    event_ids: dict[int, int] = {}

    def writer(index: int) -> None:
        try:
            with transaction.atomic():
                event_ids[index] = attempts[index].record_event("phase").pk
                inserted[index].set()
                assert release[index].wait(20)
        finally:
            connections.close_all()

    async def scenario():
        response = await connect(owner, search)
        reader = StreamReader(response)
        await reader.until("summary")
        threads = []
        for index in range(len(attempts)):  # ids handed out in order: 0 < 1 < 2
            thread = threading.Thread(target=writer, args=(index,))
            thread.start()
            threads.append(thread)
            await asyncio.to_thread(inserted[index].wait, 20)
        received = []
        for index in reversed(range(len(attempts))):  # commits in reverse order
            release[index].set()
            await asyncio.to_thread(threads[index].join, 20)
            received.append(await reader.until("summary"))
        await response.streaming_content.aclose()
        return received

    received = async_to_sync(scenario)()
    assert event_ids[0] < event_ids[1] < event_ids[2]
    rows = [message for update in received for message in update if message.event.startswith("dealer-")]
    assert [m.event for m in rows] == [f"dealer-{dealer.pk}" for dealer in reversed(dealers)]
    assert [m.id for m in rows] == [event_ids[2], event_ids[1], event_ids[0]]
