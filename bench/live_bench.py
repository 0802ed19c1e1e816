"""Live results at scale: event delay and page time with many open streams on one web process.

    .venv/bin/python bench/live_bench.py [--db postgres|sqlite] [--streams 50,200,1000] [--seconds 15]

What it does: makes a scratch database (PostgreSQL `bench_live` on 127.0.0.1:5432, dropped
afterwards, or a SQLite file in a temporary directory), migrates it, and seeds 50 searches
(10 users, each search with its own customer and 20 dealers nearby, each dealer with a
running attempt). It starts ONE web process (uvicorn, one worker, the production ASGI app)
and, for each stream count, opens that many live streams (`/searches/<id>/events/`, spread
evenly over the 50 searches, each logged in as the search's owner) from this process, waits
for every snapshot, then writes 20 events a second (a phase change of a random attempt, the
way a worker does) for --seconds while one client loads a results page in a loop.

Measured:
  event delay   from the event's commit to its row arriving on each stream watching it
                (p50 / p95 / max over every stream x event);
  page p95      a whole results page (20 dealers) fetched while the streams are open;
  connections   database connections the web process holds while streaming (PostgreSQL:
                its sockets matched to pg_stat_activity; SQLite: open handles on the file).
Targets at 1,000 streams: event delay p95 < 1 s, page p95 < 300 ms, at most 2 connections
spent on streams.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "bench_live"
SEARCHES = 50
USERS = 10
DEALERS_PER_SEARCH = 20
EVENTS_PER_S = 20
TARGET_P95_S = 1.0
TARGET_PAGE_P95_MS = 300
TARGET_CONNECTIONS = 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--streams", default="50,200,1000")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long events are written per stream count")
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",")]

    with tempfile.TemporaryDirectory(prefix="dc-live-bench-") as var_dir:
        env = {
            "DJANGO_SETTINGS_MODULE": "dealercontact.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
            "LIVE_STREAMS_PER_USER": "10000",
            "HUEY_IMMEDIATE": "0",
        }
        os.environ.pop("REDIS_URL", None)
        os.environ.pop("DATABASE_URL", None)
        if args.db == "postgres":
            pg_admin_execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {PG_BENCH_DB}")
            env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB
        os.environ.update(env)
        web = None
        try:
            subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
            import django

            django.setup()
            world = seed()
            port = free_port()
            web = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "dealercontact.asgi:application", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"],
                cwd=ROOT, env=os.environ.copy(),
            )
            wait_for_port(port)
            results = [asyncio.run(measure(count, port, world, args, web.pid)) for count in counts]
        finally:
            if web is not None:
                web.terminate()
                try:
                    web.wait(20)
                except subprocess.TimeoutExpired:
                    web.kill()
            from django.db import connections

            connections.close_all()
            if args.db == "postgres":
                pg_admin_execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
    print_table(results, args)
    return 0


# --- the scratch world ------------------------------------------------------------------


def seed() -> dict:
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from contacts.models import ContactAttempt, CustomerProfile, Dealer, Search

    users = [User.objects.create_user(f"bench{n}", f"bench{n}@example.org", "x") for n in range(USERS)]
    cookies = {}
    for user in users:
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        cookies[user.pk] = session.session_key
    dealers = Dealer.objects.bulk_create(
        Dealer(name=f"Bench Motors {n}", website=f"https://bench{n}.example.com/", website_key=f"bench{n}.example.com",
               latitude=34.09 + n * 0.001, longitude=-118.41, city="Beverly Hills", state="CA")
        for n in range(DEALERS_PER_SEARCH)
    )
    searches, attempts = [], []
    now = timezone.now()
    for n in range(SEARCHES):
        owner = users[n % USERS]
        customer = CustomerProfile.objects.create(
            owner=owner, first_name=f"Buyer{n}", last_name="Bench", email=f"b{n}@example.org",
            phone="+13105550123", zip_code="90210", vehicle_year=2024, vehicle_make="Toyota", vehicle_model="RAV4",
        )
        search = Search.objects.create(owner=owner, customer=customer, zip_code="90210", radius_miles=25,
                                       latitude=34.09, longitude=-118.41)
        searches.append((search.pk, owner.pk))
        for dealer in dealers:
            attempts.append(ContactAttempt(owner=owner, customer=customer, dealer=dealer, search=search,
                                           status="running", phase="opening", started=now, claimed_by="bench"))
    ContactAttempt.objects.bulk_create(attempts)
    by_search: dict[int, list[int]] = {}
    for attempt_id, search_id in ContactAttempt.objects.values_list("pk", "search_id"):
        by_search.setdefault(search_id, []).append(attempt_id)
    return {"searches": searches, "cookies": cookies, "attempts": by_search}


# --- one measurement --------------------------------------------------------------------


class StreamClient:
    def __init__(self, search_id: int, cookie: str) -> None:
        self.search_id = search_id
        self.cookie = cookie
        self.arrivals: list[tuple[int, float]] = []  # (event id, when)
        self.ready = asyncio.Event()
        self.status = 0

    async def run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /searches/{self.search_id}/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Cookie: sessionid={self.cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await reader.readline()
        self.status = int(status_line.split()[1])
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"event: summary"):
                    self.ready.set()
                elif line.startswith(b"id: "):
                    self.arrivals.append((int(line[4:]), time.monotonic()))
        finally:
            writer.close()


async def measure(count: int, port: int, world: dict, args, web_pid: int) -> dict:
    searches = world["searches"]
    clients = [StreamClient(searches[n % len(searches)][0], world["cookies"][searches[n % len(searches)][1]])
               for n in range(count)]
    tasks = []
    for client in clients:
        tasks.append(asyncio.create_task(client.run(port)))
        if len(tasks) % 50 == 0:
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(asyncio.gather(*(client.ready.wait() for client in clients)), 120)
    except TimeoutError:
        failed = [task.exception() for task in tasks if task.done() and task.exception()]
        statuses = sorted({client.status for client in clients})
        ready = sum(client.ready.is_set() for client in clients)
        raise RuntimeError(f"{ready}/{count} streams sent their snapshot; statuses {statuses}; "
                           f"errors {failed[:3]}") from None

    written: list[tuple[int, int, float]] = []  # (search id, event id, committed at)
    page_ms: list[float] = []
    stop = threading.Event()
    writer = threading.Thread(target=write_events, args=(world, args.seconds, written, stop))
    pager = threading.Thread(target=load_pages, args=(port, world, page_ms, stop))
    connections_seen: list[int] = []
    writer.start(), pager.start()
    started = time.monotonic()
    while writer.is_alive():
        connections_seen.append(await asyncio.to_thread(db_connections, web_pid))
        await asyncio.sleep(1.0)
    stop.set()
    pager.join()
    await asyncio.sleep(2.0)  # the last events reach the streams
    elapsed = time.monotonic() - started
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    delays, missed = [], 0
    by_search: dict[int, list[StreamClient]] = {}
    for client in clients:
        by_search.setdefault(client.search_id, []).append(client)
    for search_id, event_id, committed in written:
        for client in by_search.get(search_id, []):
            arrived = next((when for got, when in client.arrivals if got >= event_id), None)
            if arrived is None:
                missed += 1
            else:
                delays.append(max(0.0, arrived - committed))
    delays.sort()
    page_ms.sort()
    return {
        "streams": count,
        "events": len(written),
        "samples": len(delays),
        "missed": missed,
        "p50": percentile(delays, 50),
        "p95": percentile(delays, 95),
        "max": delays[-1] if delays else float("nan"),
        "page_p95_ms": percentile(page_ms, 95),
        "pages": len(page_ms),
        "connections": max(connections_seen) if connections_seen else -1,
        "refused": sum(1 for client in clients if client.status != 200),
        "seconds": elapsed,
    }


def write_events(world: dict, seconds: float, written: list, stop: threading.Event) -> None:
    from django.db import connections

    from contacts.models import ContactAttempt

    rng = random.Random(2026)
    phases = ["opening", "finding_form", "filling", "submitting", "verifying"]
    deadline = time.monotonic() + seconds
    interval = 1.0 / EVENTS_PER_S
    try:
        while time.monotonic() < deadline:
            search_id = rng.choice(world["searches"])[0]
            attempt = ContactAttempt(pk=rng.choice(world["attempts"][search_id]), search_id=search_id)
            attempt.owner_id = next(owner for sid, owner in world["searches"] if sid == search_id)
            ContactAttempt.objects.filter(pk=attempt.pk).update(phase=rng.choice(phases))
            event = attempt.record_event("phase")
            written.append((search_id, event.pk, time.monotonic()))
            time.sleep(interval)
    finally:
        connections.close_all()


def load_pages(port: int, world: dict, page_ms: list, stop: threading.Event) -> None:
    import http.client

    search_id, owner_id = world["searches"][0]
    while not stop.is_set():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.monotonic()
        connection.request("GET", f"/searches/{search_id}/", headers={"Cookie": f"sessionid={world['cookies'][owner_id]}"})
        response = connection.getresponse()
        body = response.read()
        page_ms.append((time.monotonic() - started) * 1000)
        connection.close()
        if response.status != 200 or b"Bench Motors" not in body:
            raise RuntimeError(f"results page answered {response.status}")
        time.sleep(0.2)


def db_connections(web_pid: int) -> int:
    """Database connections the web process holds now."""
    import psutil

    from django.conf import settings

    process = psutil.Process(web_pid)
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return sum(1 for c in process.net_connections(kind="inet") if c.raddr and c.raddr.port == 5432)
    name = str(settings.DATABASES["default"]["NAME"])
    return sum(1 for f in process.open_files() if f.path == name)


# --- helpers ----------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def pg_admin_execute(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the web process did not start")


def print_table(results: list[dict], args) -> None:
    print(f"\nLive streams on one web process ({args.db}), {EVENTS_PER_S} events/s for {args.seconds:.0f} s, "
          f"{SEARCHES} searches\n")
    print(f"{'streams':>8} {'events':>7} {'deliveries':>11} {'missed':>7} {'p50 s':>7} {'p95 s':>7} {'max s':>7} "
          f"{'page p95 ms':>12} {'DB conns':>9}")
    for r in results:
        print(f"{r['streams']:>8,} {r['events']:>7} {r['samples']:>11,} {r['missed']:>7} {r['p50']:>7.2f} "
              f"{r['p95']:>7.2f} {r['max']:>7.2f} {r['page_p95_ms']:>12.0f} {r['connections']:>9}")
    last = results[-1]
    verdict = (last["p95"] < TARGET_P95_S and last["page_p95_ms"] < TARGET_PAGE_P95_MS
               and last["connections"] <= TARGET_CONNECTIONS and not last["missed"])
    print(f"\nTargets at {last['streams']:,} streams: event p95 < {TARGET_P95_S:.0f} s, page p95 < "
          f"{TARGET_PAGE_P95_MS} ms, <= {TARGET_CONNECTIONS} connections, nothing missed: "
          f"{'met' if verdict else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
