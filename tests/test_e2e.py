"""The whole journey in a real browser against the real ASGI app and a real Huey consumer.

Log in, create a customer, search 90210, contact three sandbox dealers, and watch every row
reach its outcome through the live stream without reloading; then open a screenshot.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from contacts.models import ContactAttempt, CustomerProfile, Dealer, SandboxSubmission
from tests.browsers import complete_and_save_profile, log_in, person_browser

pytestmark = pytest.mark.browser

# One of each kind of ending: a form that submits, a CAPTCHA, and a site with no form.
CHOSEN = {
    "canyon-crest-toyota": "Submitted",
    "sunset-strip-bmw": "CAPTCHA",
    "media-city-chevrolet": "No form",
}
PASSWORD = "a long enough password 42"


def test_it_contacts_sandbox_dealers_and_shows_outcomes_live(asgi_server, huey_consumer):
    call_command("load_sandbox_dealers", base_url=asgi_server.url, verbosity=0)
    User.objects.create_user("dana", "dana@example.org", PASSWORD)
    dealers = {slug: Dealer.objects.get(source="sandbox", source_id=slug) for slug in CHOSEN}
    url = asgi_server.url

    with person_browser() as browser:
        context = browser.new_context()
        page = context.new_page()

        log_in(page, url, "dana", PASSWORD)

        page.goto(f"{url}/profiles/new/")
        page.fill("#id_first_name", "Dana")
        page.fill("#id_last_name", "Shopper")
        complete_and_save_profile(page)

        page.goto(f"{url}/searches/new/")
        page.fill("#id_zip_code", "90210")
        page.fill("#id_radius_miles", "25")
        page.fill("#id_make", "")  # every make: the sandbox dealers sell several
        page.select_option("#id_customer", label="Dana Shopper")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(lambda u: "/searches/" in u and "/new/" not in u)

        for dealer in dealers.values():
            page.get_by_label(f"Select {dealer.name}").check()
        # Marks this page load; a reload would lose it.
        page.evaluate("window.__sameDocument = true")
        page.get_by_role("button", name="Contact selected").click()

        for slug, label in CHOSEN.items():
            row = page.locator(f"#dealer-{dealers[slug].pk}")
            expect(row.locator(".badge")).not_to_have_count(0, timeout=120_000)
            assert row.locator(".badge").inner_text() == label, repr(row.inner_text())
        assert page.evaluate("window.__sameDocument") is True
        expect(page.locator("#summary")).to_contain_text("Batch finished: all 3 finished")
        # The tab and screen readers are told the batch ended; the "Contacting…" banner is gone.
        expect(page).to_have_title("✓ All finished · Dealers near 90210 · DealerContact")
        expect(page.locator("#announcer")).to_have_text(
            "All 3 contacted dealers finished: 1 submitted, 1 CAPTCHA, 1 no form.")
        expect(page.locator(".messages li.batch-notice")).to_have_count(0)

        # The filled form's thumbnail opens the full-size screenshot.
        thumbnail = page.locator(f"#dealer-{dealers['canyon-crest-toyota'].pk} .thumbnails a").first
        with context.expect_page() as opened:
            thumbnail.click()
        screenshot = opened.value
        screenshot.wait_for_load_state()
        response = screenshot.request.get(screenshot.url)
        assert response.ok and response.headers["content-type"] == "image/jpeg"
        assert response.body()[:3] == b"\xff\xd8\xff"

    customer = CustomerProfile.objects.get(owner__username="dana")
    outcomes = {a.dealer.source_id: a.status for a in ContactAttempt.objects.filter(customer=customer)}
    assert outcomes == {"canyon-crest-toyota": "submitted", "sunset-strip-bmw": "captcha",
                        "media-city-chevrolet": "no_form"}
    # Exactly one enquiry arrived, at the dealer that has a form without a CAPTCHA.
    received = list(SandboxSubmission.objects.values_list("site", flat=True))
    assert received == ["canyon-crest-toyota"]
    fields = SandboxSubmission.objects.get().fields
    assert "dana.shopper@example.org" in fields.values()
