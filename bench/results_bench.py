"""Results page speed for searches of 300, 5,000 and 12,500 dealers, on SQLite and PostgreSQL.

    .venv/bin/python bench/results_bench.py [--db sqlite|postgres|both] [--sizes 300,5000,12500] [--runs 12]

Each database is a scratch one made for the run and removed after it: a SQLite file in a
temporary directory (the app's own SQLite settings) and a PostgreSQL database
`bench_results` on 127.0.0.1:5432 (user postgres). var/db.sqlite3 is never touched. The
timings run in a child process set up as the app is (DEBUG off, cached templates).

For each size, that many dealers are placed within 25 miles of a city centre, a search
finds them all (its snapshot), and 40% have an outcome for the search's customer (a tenth
of those with an earlier attempt too, 2% still running). Timed through the whole Django
stack (middleware, session, view, template), as the median and p95 of --runs requests after
two warm-up requests: the first page of results (100 rows, nearest first) — the response is
built whole before its first byte goes out, so this is the time to first byte less the
network —, the same page sorted by outcome, the failed dealers sorted by time, the last
page, the live stream's summary for one update, and the CSV export of the whole search.
Target: first byte under 150 ms for a page of results at any size.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time

from scratch import ROOT, run_in_child

PG_BENCH_DB = "bench_results"
TARGET_MS = 150
CENTRES = ["60601", "77002", "85004", "30303", "98101", "80202"]  # far apart: searches never overlap


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--sizes", default="300,5000,12500")
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if len(sizes) > len(CENTRES):
        parser.error(f"at most {len(CENTRES)} sizes")
    if args.child:
        print(json.dumps(run_child(args.child, sizes, args.runs)))
        return 0
    results = []
    for vendor in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        print(f"{vendor}: loading {sum(sizes):,} dealers and timing…", file=sys.stderr, flush=True)
        try:
            results.append(run_in_child(__file__, vendor, PG_BENCH_DB, ["--sizes", args.sizes, "--runs", str(args.runs)]))
        except RuntimeError as exc:
            print(f"{vendor}: {exc}", file=sys.stderr)
            return 1
    print_table(results)
    missed = [r for r in results for size in r["sizes"] if size["page_ms"]["median"] >= TARGET_MS]
    return 1 if missed else 0


def print_table(results: list[dict]) -> None:
    print("\nResults page, through the whole Django stack; median / p95 ms (first byte = whole response);")
    print("CPU: median CPU ms of this process for page 1 (with SQLite, the database's work too)\n")
    header = (f"{'database':<10} {'dealers':>8} {'page 1':>13} {'page 1 CPU':>11} {'by outcome':>13} "
              f"{'failed, by time':>16} {'last page':>13} {'live summary':>13} {'CSV export':>15} {'page KB':>8}")
    print(header)
    for result in results:
        for size in result["sizes"]:
            cells = [f"{size[key]['median']:.1f} / {size[key]['p95']:.1f}" for key in
                     ("page_ms", "outcome_ms", "failed_ms", "last_ms", "summary_ms", "export_ms")]
            print(f"{result['vendor']:<10} {size['dealers']:>8,} {cells[0]:>13} {size['page_ms']['cpu_median']:>11.1f} "
                  f"{cells[1]:>13} {cells[2]:>16} {cells[3]:>13} {cells[4]:>13} {cells[5]:>15} {size['page_kb']:>8.0f}")
    print(f"\nTarget: a page of results in under {TARGET_MS} ms at any size (median).")
    for result in results:
        worst = max(size["page_ms"]["median"] for size in result["sizes"])
        print(f"{result['vendor']}: {'met' if worst < TARGET_MS else 'MISSED'} (slowest page 1: {worst:.1f} ms)")


# --- Child -----------------------------------------------------------------------------------


def run_child(vendor: str, sizes: list[int], runs: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(2026)
    searches = [make_search(rng, CENTRES[i], size) for i, size in enumerate(sizes)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"vendor": vendor, "sizes": [time_search(search, size, runs) for search, size in zip(searches, sizes)]}


def make_search(rng: random.Random, zip_code: str, size: int):
    from django.contrib.auth.models import User
    from django.utils import timezone

    from contacts.geo import EARTH_RADIUS_MILES, lookup_zip
    from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Dealer, Search
    from contacts.results import take_snapshot

    place = lookup_zip(zip_code)
    dealers = []
    for i in range(size):
        # Uniform in a 24-mile disc: every one within the search's 25 miles.
        distance, bearing = 24 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        dlat = math.degrees(distance / EARTH_RADIUS_MILES) * math.cos(bearing)
        dlng = math.degrees(distance / EARTH_RADIUS_MILES) * math.sin(bearing) / math.cos(math.radians(place.latitude))
        slug = f"{zip_code}-{i}"
        dealers.append(Dealer(
            name=f"{place.city} Motors {i:05d}", website=f"https://www.dealer-{slug}.com/",
            website_key=f"dealer-{slug}.com", city=place.city, state=place.state, zip_code=zip_code,
            latitude=place.latitude + dlat, longitude=place.longitude + dlng, makes=",toyota,",
            source="csv", source_id=f"bench-{slug}",
        ))
    Dealer.objects.bulk_create(dealers, batch_size=2000)
    user = User.objects.create_user(f"bench{zip_code}", f"bench{zip_code}@example.org", "bench-password")
    customer = CustomerProfile.objects.create(
        owner=user, first_name="Bench", last_name="Buyer", email="bench@example.org", phone="+13105550123",
        zip_code=zip_code, vehicle_year=2024, vehicle_make="Toyota", vehicle_model="RAV4",
    )
    search = Search.objects.create(owner=user, customer=customer, zip_code=zip_code, radius_miles=25,
                                   latitude=place.latitude, longitude=place.longitude)
    take_snapshot(search)
    finals = [AttemptStatus.SUBMITTED, AttemptStatus.SUBMITTED, AttemptStatus.FAILED, AttemptStatus.CAPTCHA,
              AttemptStatus.NO_FORM, AttemptStatus.UNCONFIRMED, AttemptStatus.CANCELLED]
    now = timezone.now()
    attempts = []
    for i, dealer in enumerate(Dealer.objects.filter(zip_code=zip_code).order_by("pk")):
        roll = rng.random()
        if roll >= 0.4:
            continue
        if rng.random() < 0.1:  # an earlier attempt, now history
            attempts.append(ContactAttempt(owner=user, customer=customer, dealer=dealer, search=search,
                                           status=AttemptStatus.FAILED, error="Bench: earlier.", created=now,
                                           finished=now))
        status = AttemptStatus.RUNNING if roll < 0.008 else finals[i % len(finals)]
        attempts.append(ContactAttempt(
            owner=user, customer=customer, dealer=dealer, search=search, status=status, phase="filling",
            error="" if status == AttemptStatus.SUBMITTED else "Bench: the site answered with HTTP 500.",
            created=now, started=now, finished=None if status == AttemptStatus.RUNNING else now,
            screenshot_form="screenshots/bench/form.jpg" if status != AttemptStatus.RUNNING else "",
        ))
    ContactAttempt.objects.bulk_create(attempts, batch_size=2000)
    return search


def timed(client, url: str, runs: int) -> tuple[dict, int]:
    """Wall time (what the user waits for) and this process's CPU time (the work itself, which
    other jobs on a shared machine disturb far less), median and p95, and the response size."""
    times, cpu_times, size = [], [], 0
    for run in range(runs + 2):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        size = len(response.content)
        if run >= 2:
            times.append(elapsed)
            cpu_times.append(cpu)
    return {"median": statistics.median(times), "p95": p95(times), "cpu_median": statistics.median(cpu_times)}, size


def p95(values: list[float]) -> float:
    return max(values) if len(values) < 20 else statistics.quantiles(values, n=20)[-1]


def time_search(search, size: int, runs: int) -> dict:
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory

    from contacts.results import DETAIL, ROWS_PER_PAGE, summary_context

    client = Client()
    client.force_login(search.owner)
    url = search.get_absolute_url()
    last_page = max(1, math.ceil(size / ROWS_PER_PAGE))
    page_ms, page_bytes = timed(client, url, runs)
    outcome_ms, _ = timed(client, url + "?sort=outcome", runs)
    failed_ms, _ = timed(client, url + "?outcome=failed&sort=time", runs)
    last_ms, _ = timed(client, url + f"?page={last_page}", runs)
    export_ms, _ = timed(client, url + "export.csv", max(3, runs // 3))
    request = RequestFactory().get(url)
    request.user = search.owner
    summary_times = []
    for run in range(runs + 2):
        started = time.perf_counter()
        render_to_string(f"{DETAIL}#summary-bar", summary_context(search), request)
        if run >= 2:
            summary_times.append((time.perf_counter() - started) * 1000)
    return {
        "dealers": search.results.count(),
        "page_ms": page_ms, "outcome_ms": outcome_ms, "failed_ms": failed_ms, "last_ms": last_ms,
        "summary_ms": {"median": statistics.median(summary_times), "p95": max(summary_times)},
        "export_ms": export_ms, "page_kb": page_bytes / 1024,
    }


if __name__ == "__main__":
    sys.exit(main())
