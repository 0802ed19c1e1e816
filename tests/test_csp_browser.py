"""The main journey in a real browser under the Content-Security-Policy: every page and every
htmx swap works with no `securitypolicyviolation` reported, against the real ASGI app and a
real Huey consumer."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from contacts.models import ContactAttempt, Dealer
from tests.browsers import complete_and_save_profile, log_in, person_browser

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password 42"
# Every violation is reported to the page's own recorder, in every page the journey opens.
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${location.pathname}`);
});
"""


def test_it_runs_the_main_journey_with_no_policy_violations(asgi_server, huey_consumer):
    call_command("load_sandbox_dealers", base_url=asgi_server.url, verbosity=0)
    User.objects.create_user("dana", "dana@example.org", PASSWORD)
    dealer = Dealer.objects.get(source="sandbox", source_id="canyon-crest-toyota")
    url = asgi_server.url
    violations: list[str] = []

    with person_browser() as browser:
        context = browser.new_context()
        context.expose_function("reportViolation", lambda text: violations.append(text))
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()

        response = page.goto(f"{url}/accounts/login/")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        page.get_by_role("link", name="Forgot password?").click()
        page.wait_for_url(f"{url}/accounts/password_reset/")
        log_in(page, url, "dana", PASSWORD)

        # The profile form validates each field over htmx as the user leaves it.
        page.goto(f"{url}/profiles/new/")
        page.fill("#id_first_name", "Dana")
        page.fill("#id_last_name", "Shopper")
        page.fill("#id_email", "not-an-email")
        page.locator("#id_phone").focus()
        expect(page.locator("#field-email")).to_contain_text("enter a valid address", timeout=20_000)
        complete_and_save_profile(page)

        page.goto(f"{url}/searches/new/")
        page.fill("#id_zip_code", "90210")
        page.fill("#id_radius_miles", "25")
        page.fill("#id_make", "")
        page.select_option("#id_customer", label="Dana Shopper")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(lambda u: "/searches/" in u and "/new/" not in u)

        # "Select all" works from app.js (no inline handler), then only one dealer is kept.
        page.get_by_label("Select all dealers").check()
        boxes = page.locator("input[name=dealer]:not(:disabled)")
        assert boxes.count() >= 2 and all(boxes.nth(n).is_checked() for n in range(boxes.count()))
        page.get_by_label("Select all dealers").uncheck()
        page.get_by_label(f"Select {dealer.name}").check()
        page.get_by_role("button", name="Contact selected").click()

        row = page.locator(f"#dealer-{dealer.pk}")
        expect(row.locator(".badge")).to_have_text("Submitted", timeout=120_000)
        expect(page.locator("#summary")).to_contain_text("Batch finished: all 1 finished")
        # Progress is a <progress> element's value: no inline style attribute is needed.
        expect(page.locator("#summary progress")).to_have_attribute("value", "100")

        thumbnail = row.locator(".thumbnails img").first
        expect(thumbnail).to_be_visible()
        # The screenshot loads under img-src 'self' (lazily, so wait for it).
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle(),
                               timeout=30_000)

        row.get_by_role("link", name="Details").click()
        page.wait_for_url(lambda u: "/attempts/" in u)
        expect(page.locator("h1")).to_contain_text(dealer.name)
        page.goto(f"{url}/sandbox/")
        expect(page.locator("#site-canyon-crest-toyota")).to_contain_text("dana.shopper@example.org")

    assert violations == []
    assert ContactAttempt.objects.get().status == "submitted"
