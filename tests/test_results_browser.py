"""A 300-dealer search in a real browser against the real ASGI app and a real Huey consumer:
filter by outcome (surviving reload and back), sort, page, export CSV, retry the failed
dealers and watch them finish live, with every count checked against the database."""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import (
    AttemptStatus,
    ContactAttempt,
    CustomerProfile,
    Dealer,
    SandboxSubmission,
    Search,
)
from contacts.results import FILTER_LABELS, ROWS_PER_PAGE, filter_key
from tests.browsers import person_browser

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password 42"
DEALERS = 300
# The failed dealers a retry contacts again: sandbox sites whose outcome a careful person would
# judge the same way every time (a plain form, a CAPTCHA, no form at all).
RETRIED = {"canyon-crest-toyota": "submitted", "sunset-strip-bmw": "captcha", "media-city-chevrolet": "no_form"}
EARLIER_OUTCOMES = ["submitted", "submitted", "captcha", "no_form", "unconfirmed", "cancelled"]


def off_loop(fn, *args):
    """Run database code outside Playwright's event loop (the ORM refuses to run inside it)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return fn(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result()


def counts_in_database(search: Search) -> Counter:
    """Per dealer of the search: the chip its latest attempt for the customer puts it under."""
    dealer_ids = set(search.results.values_list("dealer_id", flat=True))
    latest: dict[int, str] = {}
    for dealer_id, status in ContactAttempt.objects.filter(customer=search.customer).order_by(
        "created", "id"
    ).values_list("dealer_id", "status"):
        latest[dealer_id] = status
    return Counter(filter_key(latest.get(dealer_id, "")) for dealer_id in dealer_ids)


def chip_counts(page) -> Counter:
    shown = Counter()
    for text in page.locator("nav.chips a.chip").all_text_contents():
        label, count = " ".join(text.split()).rsplit(" ", 1)
        if label != "All":
            key = next(key for key, name in FILTER_LABELS.items() if name == label)
            shown[key] = int(count)
    return shown


def seed(base_url: str) -> tuple[User, CustomerProfile]:
    call_command("load_sandbox_dealers", base_url=base_url, verbosity=0)
    rng = random.Random(12)
    Dealer.objects.bulk_create([
        Dealer(name=f"Coastal Motors {i:03d}", website=f"http://127.0.0.1:9/d{i}/", website_key=f"127.0.0.1:9/d{i}",
               latitude=34.07 + rng.uniform(-0.12, 0.12), longitude=-118.40 + rng.uniform(-0.12, 0.12),
               city="Los Angeles", state="CA", makes=",toyota,")
        for i in range(DEALERS - Dealer.objects.count())
    ])
    user = User.objects.create_user("dana", "dana@example.org", PASSWORD)
    customer = CustomerProfile.objects.create(
        owner=user, first_name="Dana", last_name="Shopper", email="dana.shopper@example.org",
        phone="+13105550188", zip_code="90210", vehicle_year=2024, vehicle_make="Toyota", vehicle_model="RAV4",
    )
    return user, customer


def record_earlier_batch(search: Search) -> None:
    """As if a batch had run: most generated dealers with an outcome, the three sandbox ones failed."""
    now = timezone.now()
    attempts = []
    for i, dealer in enumerate(Dealer.objects.filter(source="admin").order_by("name")[:180]):
        status = EARLIER_OUTCOMES[i % len(EARLIER_OUTCOMES)]
        attempts.append(ContactAttempt(owner=search.owner, customer=search.customer, dealer=dealer, search=search,
                                       status=status, started=now, finished=now,
                                       error="" if status == "submitted" else f"Earlier: {status}"))
    for slug in RETRIED:
        dealer = Dealer.objects.get(source="sandbox", source_id=slug)
        attempts.append(ContactAttempt(owner=search.owner, customer=search.customer, dealer=dealer, search=search,
                                       status=AttemptStatus.FAILED, started=now, finished=now,
                                       error="The site answered with HTTP 503."))
    ContactAttempt.objects.bulk_create(attempts)


def test_it_works_through_a_300_dealer_search(asgi_server, huey_consumer, tmp_path):
    user, customer = seed(asgi_server.url)
    url = asgi_server.url

    with person_browser() as browser:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(f"{url}/accounts/login/")
        page.fill("#id_username", "dana")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{url}/")

        page.goto(f"{url}/searches/new/?customer={customer.pk}")
        assert page.input_value("#id_make") == ""  # never pre-filled from the customer's vehicle
        page.fill("#id_radius_miles", "25")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"/searches/\d+/$"))
        search = off_loop(lambda: Search.objects.select_related("customer", "owner").get(owner=user))
        assert off_loop(search.results.count) == DEALERS
        off_loop(record_earlier_batch, search)
        page.reload()

        # Counts: per dealer, as the database has them.
        expected = off_loop(counts_in_database, search)
        assert sum(expected.values()) == DEALERS and expected["failed"] == 3
        assert chip_counts(page) == +expected
        expect(page.locator("#summary")).to_contain_text(f"all {DEALERS - expected['not_contacted']} finished")
        expect(page.locator("tbody tr.dealer-row")).to_have_count(ROWS_PER_PAGE)

        # Paging: three pages of 100, each a link.
        page.get_by_role("link", name="Next").click()
        expect(page.locator(".pagination")).to_contain_text(f"Dealers 101–200 of {DEALERS} · page 2 of 3")
        expect(page.locator("tbody tr.dealer-row")).to_have_count(ROWS_PER_PAGE)

        # Filter: a chip is a link, so the filter survives a reload and the back button.
        page.locator("nav.chips a.chip-captcha").click()
        page.wait_for_url(re.compile(r"\?outcome=captcha$"))
        expect(page.locator("tbody tr.dealer-row")).to_have_count(expected["captcha"])
        page.reload()
        expect(page.locator("tbody tr.dealer-row")).to_have_count(expected["captcha"])
        assert set(page.locator("tbody tr.dealer-row .badge").all_inner_texts()) == {"CAPTCHA"}
        expect(page.locator("nav.chips a.chip-captcha")).to_have_attribute("aria-current", "true")

        # Sort by name within the filter.
        page.get_by_role("link", name="Name").click()
        page.wait_for_url(re.compile(r"\?outcome=captcha&sort=name$"))
        names = [n.splitlines()[0] for n in page.locator("tbody tr.dealer-row td.dealer strong").all_inner_texts()]
        assert names == sorted(names, key=str.casefold) and len(names) == expected["captcha"]
        page.go_back()
        page.wait_for_url(re.compile(r"\?outcome=captcha$"))
        page.go_back()
        page.wait_for_url(re.compile(r"\?page=2$"))

        # Export: one row per dealer, the same outcomes.
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        path = tmp_path / "export.csv"
        download.value.save_as(path)
        exported = list(csv.DictReader(io.StringIO(path.read_text())))
        assert len(exported) == DEALERS
        label_to_key = {label: key for key, label in FILTER_LABELS.items()}
        assert Counter(label_to_key[row["outcome"]] for row in exported) == +expected

        # Retry failed: the three failed dealers are contacted again and finish live.
        page.goto(f"{url}/searches/{search.pk}/?outcome=failed")
        expect(page.locator("tbody tr.dealer-row")).to_have_count(3)
        # Everything the screen-reader region says on the pages from here on, from their first moment.
        # And, with notifications allowed and the tab in the background, what the browser is asked to show.
        context.add_init_script("""
            window.__notified = [];
            window.Notification = class {
                constructor(title, options) { window.__notified.push(title + " | " + options.body); }
                static get permission() { return "granted"; }
                static requestPermission() { return Promise.resolve("granted"); }
            };
            Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
            localStorage.setItem("dc-notify-batch-end", "1");
        """)
        context.add_init_script("""
            window.__announced = [];
            document.addEventListener("DOMContentLoaded", () => {
                const region = document.getElementById("announcer");
                if (!region) return;
                new MutationObserver(() => { if (region.textContent) window.__announced.push(region.textContent); })
                    .observe(region, {childList: true, characterData: true, subtree: true});
            });
        """)
        page.get_by_role("button", name="Retry failed (3)").click()
        # The page then shows the dealers being contacted, each updating live.
        page.wait_for_url(f"{url}/searches/{search.pk}/?outcome=in_progress")
        retried = off_loop(lambda: {slug: Dealer.objects.get(source="sandbox", source_id=slug) for slug in RETRIED})
        for slug, status in RETRIED.items():
            row = page.locator(f"#dealer-{retried[slug].pk}")
            expect(row.locator(".badge")).to_have_text(FILTER_LABELS[status], timeout=120_000)
        expect(page.locator("#summary")).to_contain_text("Batch finished")
        expect(page).to_have_title(re.compile(r"^✓ All finished · "))
        expect(page.locator("#announcer")).to_contain_text("finished")
        announced = page.evaluate("window.__announced")
        for slug, status in RETRIED.items():
            assert f"{retried[slug].name}: {FILTER_LABELS[status]}" in announced, announced
        assert announced[-1].startswith("All ") and announced[-1].count("finished") == 1
        assert page.evaluate("window.__notified") == ["DealerContact: batch finished | " + announced[-1]]
        expected_after = off_loop(counts_in_database, search)
        assert expected_after["failed"] == 0
        page.reload()
        assert chip_counts(page) == +expected_after

    # Each retried dealer once more, as a new attempt; only the form without a CAPTCHA received anything.
    for slug, status in RETRIED.items():
        statuses = list(ContactAttempt.objects.filter(dealer__source_id=slug).order_by("created", "id")
                        .values_list("status", flat=True))
        assert statuses == ["failed", status]
    assert list(SandboxSubmission.objects.values_list("site", flat=True)) == ["canyon-crest-toyota"]
