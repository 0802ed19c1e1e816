"""Radius search and results-page speed with 100,000 dealers, on SQLite and PostgreSQL.

    .venv/bin/python bench/search_bench.py [--db sqlite|postgres|both] [--dealers 100000] [--queries 200]

Each database is a scratch one made for the run and removed after it: a SQLite file in a
temporary directory (with the app's own SQLite settings: WAL, IMMEDIATE) and a PostgreSQL
database `bench_dc` on 127.0.0.1:5432 (user postgres). var/db.sqlite3 is never touched.
Every run happens in a child process with its own DATABASE_URL / VAR_DIR, so Django is
set up exactly as the app would be (DEBUG off, cached templates).

Dealers are spread like ZIP codes (a random located ZIP code in the 50 states and DC,
jittered a mile or two), so dense metros are dense. Search centres are random ZIP codes
too. Printed: median and p95 of search_dealers() at 10, 50 and 200 miles, the dealers
found, the query plan, and the time to render 300 result rows (the dealer-table partial
of templates/contacts/search_detail.html) and the whole results page for ~300 dealers.
Targets: median < 20 ms at 50 miles; a 300-dealer page < 150 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time

from scratch import ROOT, run_in_child

PG_BENCH_DB = "bench_dc"
RADII = (10, 50, 200)
STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)
TARGET_MEDIAN_50_MS = 20
TARGET_PAGE_MS = 150
PAGE_ROWS = 300


# --- Parent: scratch databases, one child per database, the table -------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--dealers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="search centres per radius")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args)))
        return 0

    results = []
    for vendor in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        print(f"{vendor}: loading {args.dealers:,} dealers and timing…", file=sys.stderr, flush=True)
        try:
            child_args = ["--dealers", str(args.dealers), "--queries", str(args.queries), "--seed", str(args.seed)]
            results.append(run_in_child(__file__, vendor, PG_BENCH_DB, child_args))
        except RuntimeError as exc:
            print(f"{vendor}: {exc}", file=sys.stderr)
            return 1
    print_table(results, args)
    return 0


def print_table(results: list[dict], args: argparse.Namespace) -> None:
    print(f"\nRadius search, {args.dealers:,} dealers, {args.queries} random US ZIP centres per radius "
          f"(search_dealers: SQL bounding box + exact distance, sorted)\n")
    print(f"{'database':<10} {'radius':>7} {'median ms':>10} {'p95 ms':>8} {'dealers found (median)':>23}")
    for result in results:
        for radius in RADII:
            row = result["search"][str(radius)]
            print(f"{result['vendor']:<10} {radius:>5} mi {row['median_ms']:>10.1f} {row['p95_ms']:>8.1f} "
                  f"{row['median_found']:>23,}")
    print(f"\n{'database':<10} {'300 rows (partial) ms':>22} {'results page ms':>16} {'page dealers':>13}")
    for result in results:
        page = result["page"]
        print(f"{result['vendor']:<10} {page['rows_median_ms']:>22.1f} {page['page_median_ms']:>16.1f} "
              f"{page['page_dealers']:>13,}")
    print(f"\nTargets: median < {TARGET_MEDIAN_50_MS} ms at 50 mi; a {PAGE_ROWS}-dealer page < {TARGET_PAGE_MS} ms.")
    for result in results:
        median_50 = result["search"]["50"]["median_ms"]
        page = result["page"]["page_median_ms"]
        verdict = "met" if median_50 < TARGET_MEDIAN_50_MS and page < TARGET_PAGE_MS else "MISSED"
        print(f"{result['vendor']}: {verdict} (50 mi median {median_50:.1f} ms, page {page:.1f} ms)")
        print(f"  plan: {result['plan']}")
    print("  loaded in: " + ", ".join(f"{r['vendor']} {r['load_s']:.1f} s" for r in results))


# --- Child: load, time, report one JSON line ------------------------------------------------


def run_child(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(args.seed)
    centres = us_zip_places()
    started = time.perf_counter()
    load_dealers(rng, centres, args.dealers)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum (PostgreSQL) or `manage.py dbshell` would after a bulk load
    load_s = time.perf_counter() - started
    return {
        "vendor": args.child,
        "load_s": load_s,
        "search": time_searches(rng, centres, args.queries),
        "plan": query_plan(),
        "page": time_page(rng),
    }


def us_zip_places() -> list:
    from contacts.geo import located_zip_codes, lookup_zip

    places = [lookup_zip(code) for code in located_zip_codes()]
    return [place for place in places if place and place.state in STATES]


def load_dealers(rng: random.Random, centres: list, count: int) -> None:
    from contacts.directory import MAKES
    from contacts.models import Dealer

    makes = sorted(MAKES)
    batch = []
    for i in range(count):
        place = rng.choice(centres)
        sold = rng.sample(makes, rng.choice((1, 1, 1, 2, 3)))
        has_site = rng.random() < 0.8
        slug = f"{place.city.lower().replace(' ', '')}{sold[0].replace(' ', '')}{i}"
        batch.append(Dealer(
            name=f"{place.city} {sold[0].title()} #{i}",
            website=f"https://www.{slug}.com/" if has_site else "",
            website_key=f"{slug}.com" if has_site else None,
            phone=f"+1{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}",
            street=f"{rng.randint(1, 9999)} Main Street",
            city=place.city,
            state=place.state,
            zip_code=place.zip_code,
            latitude=place.latitude + rng.gauss(0, 0.02),
            longitude=place.longitude + rng.gauss(0, 0.02),
            makes=Dealer.normalize_makes(sold),
            source="csv",
            source_id=f"bench-{i}",
        ))
        if len(batch) == 5000:
            Dealer.objects.bulk_create(batch)
            batch = []
    Dealer.objects.bulk_create(batch)


def time_searches(rng: random.Random, centres: list, queries: int) -> dict:
    from contacts.directory import search_dealers

    for place in rng.sample(centres, 10):  # warm the connection and caches
        search_dealers(place.latitude, place.longitude, 50)
    report = {}
    for radius in RADII:
        times, found = [], []
        for place in rng.sample(centres, queries):
            started = time.perf_counter()
            hits = search_dealers(place.latitude, place.longitude, radius)
            times.append((time.perf_counter() - started) * 1000)
            found.append(len(hits))
        report[str(radius)] = {
            "median_ms": statistics.median(times),
            "p95_ms": statistics.quantiles(times, n=20)[-1],
            "median_found": int(statistics.median(found)),
        }
    return report


def query_plan() -> str:
    from contacts.directory import dealers_in_box
    from contacts.geo import lookup_zip

    place = lookup_zip("60601")  # Chicago, 50 miles
    plan = dealers_in_box(place.latitude, place.longitude, 50).explain()
    return " | ".join(line.strip() for line in plan.splitlines() if line.strip())


def time_page(rng: random.Random) -> dict:
    """The 300-row partial on its own, and the whole results page (view, queries, layout)."""
    from django.contrib.auth.models import User
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory

    from contacts.directory import search_dealers
    from contacts.geo import lookup_zip
    from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Search
    from contacts.results import DealerRow

    user = User.objects.create_user("bench", "bench@example.org", "bench-password")
    customer = CustomerProfile.objects.create(
        owner=user, first_name="Bench", last_name="Buyer", email="bench@example.org", phone="+13105550123",
        zip_code="60601", vehicle_year=2024, vehicle_make="Toyota", vehicle_model="RAV4",
    )
    place = lookup_zip("60601")
    radius = 1
    while len(search_dealers(place.latitude, place.longitude, radius)) < PAGE_ROWS:
        radius += 1
    search = Search.objects.create(owner=user, customer=customer, zip_code="60601", radius_miles=radius,
                                   latitude=place.latitude, longitude=place.longitude)
    hits = search_dealers(place.latitude, place.longitude, radius)
    # A third of the rows show an outcome, a few are still running: every branch of a row renders.
    statuses = [AttemptStatus.SUBMITTED, AttemptStatus.FAILED, AttemptStatus.CAPTCHA, AttemptStatus.RUNNING]
    for i, hit in enumerate(hits[::3]):
        ContactAttempt.objects.create(owner=user, customer=customer, dealer=hit.dealer, search=search,
                                      status=statuses[i % len(statuses)], error="Bench: no reply." if i % 2 else "")

    attempts = {a.dealer_id: a for a in ContactAttempt.objects.filter(search=search)}
    rows = [DealerRow(hit.dealer, hit.distance_miles, attempts.get(hit.dealer.pk)) for hit in hits[:PAGE_ROWS]]
    request = RequestFactory().get(search.get_absolute_url())
    request.user = user
    partial_times = []
    for _ in range(15):
        # Fresh rows each time, as each request has: a row works out what it shows once
        # (DealerRow.cells) and keeps it, which reused rows would leave out of the timing.
        fresh = [DealerRow(row.dealer, row.distance_miles, row.attempt) for row in rows]
        started = time.perf_counter()
        render_to_string("contacts/search_detail.html#dealer-table",
                         {"search": search, "rows": fresh, "selected_ids": set()}, request)
        partial_times.append((time.perf_counter() - started) * 1000)

    client = Client()
    client.force_login(user)
    page_times = []
    for _ in range(15):
        started = time.perf_counter()
        response = client.get(search.get_absolute_url())
        page_times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"results page answered {response.status_code}")
    return {
        "rows_median_ms": statistics.median(partial_times[3:]),
        "page_median_ms": statistics.median(page_times[3:]),
        "page_dealers": len(hits),
    }


if __name__ == "__main__":
    sys.exit(main())
