"""axe-core in a real browser on the pages for working through results: zero violations.

axe-core comes bundled with axe-playwright-python and is injected from disk, so nothing
leaves loopback. Every kind of row is on the results page (not contacted, running, each
outcome, needing follow-up, followed up), at desktop and at phone width.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.utils import timezone

from contacts.geo import lookup_zip
from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Search
from contacts.results import take_snapshot
from tests.browsers import person_browser
from tests.conftest import make_dealer

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password 42"


def seed() -> dict[str, str]:
    user = User.objects.create_user("ally", "ally@example.org", PASSWORD)
    customer = CustomerProfile.objects.create(
        owner=user, first_name="Ally", last_name="Reader", email="ally.reader@example.org", phone="+13105550177",
        zip_code="90210", vehicle_year=2024, vehicle_make="Toyota", vehicle_model="RAV4",
    )
    place = lookup_zip("90210")
    search = Search.objects.create(owner=user, customer=customer, zip_code="90210", radius_miles=25,
                                   latitude=place.latitude, longitude=place.longitude)
    kinds = [None, AttemptStatus.RUNNING, AttemptStatus.SUBMITTED, AttemptStatus.UNCONFIRMED, AttemptStatus.CAPTCHA,
             AttemptStatus.NO_FORM, AttemptStatus.FAILED, AttemptStatus.CANCELLED, AttemptStatus.CAPTCHA]
    attempts = []
    for i, status in enumerate(kinds):
        dealer = make_dealer(f"Reader Motors {i}", 34.07, -118.40 + i / 1000, f"http://127.0.0.1:9/r{i}/",
                             city="Beverly Hills", state="CA")
        if status:
            attempts.append(ContactAttempt.objects.create(
                owner=user, customer=customer, dealer=dealer, search=search, status=status, phase="filling",
                error="" if status == AttemptStatus.SUBMITTED else "The site answered with HTTP 500.",
                final_url=f"http://127.0.0.1:9/r{i}/contact", started=timezone.now(),
                finished=None if status == AttemptStatus.RUNNING else timezone.now(),
            ))
    attempts[-1].mark_followed_up("Sent by hand through the dealer's form.")
    take_snapshot(search)
    captcha = next(a for a in attempts if a.status == AttemptStatus.CAPTCHA)
    done = Search.objects.create(owner=user, customer=customer, zip_code="90210", radius_miles=5,
                                 latitude=place.latitude, longitude=place.longitude)
    take_snapshot(done)
    return {
        "results": f"/searches/{search.pk}/",
        "results, CAPTCHAs by name": f"/searches/{search.pk}/?outcome=captcha&sort=name",
        "follow-up": f"/searches/{search.pk}/follow-up/",
        "attempt": f"/attempts/{captcha.pk}/",
        "customer's dealers": f"/profiles/{customer.pk}/contacted/",
        "searches": "/searches/",
        "new search": "/searches/new/",
        "new customer": "/profiles/new/",
    }


def test_it_has_no_axe_violations_on_the_results_pages(asgi_server):
    pages = seed()
    axe = Axe()
    failures = {}
    with person_browser() as browser:
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(f"{asgi_server.url}/accounts/login/")
            page.fill("#id_username", "ally")
            page.fill("#id_password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{asgi_server.url}/")
            for name, path in pages.items():
                page.goto(asgi_server.url + path)
                results = axe.run(page)
                if results.violations_count:
                    failures[f"{name} at {width}px"] = results.generate_report()
                # Nothing wider than the screen, at phone width too.
                assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width}px"
            context.close()
    assert not failures, "\n\n".join(f"{name}:\n{report}" for name, report in failures.items())
