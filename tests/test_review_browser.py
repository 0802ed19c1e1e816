"""Review before sending through the whole task path: real Huey consumer, real Chromium,
a fixture dealer site on loopback, and what that site actually received."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import review, services
from contacts.models import ContactAttempt
from contacts.worker import reap_stale_attempts
from tests.conftest import make_dealer
from tests.engine.conftest import THANKS, Site, page
from tests.test_worker_browser import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM = page("""
<h1>Valley Motors</h1>
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="dept">Department *</label>
  <select id="dept" name="department" required>
    <option value="">Choose one</option><option value="sales">Sales</option><option value="finance">Finance</option>
  </select>
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <button type="submit">Send Message</button>
</form>""")


@pytest.fixture
def dealer_site():
    site = Site({"GET /": FORM, "POST /send": THANKS})
    yield site
    site.close()


def in_status(pk: int, *statuses: str) -> ContactAttempt:
    return wait_for(lambda: ContactAttempt.objects.filter(pk=pk, status__in=statuses).first())


def reviewed(owner, profile, site) -> ContactAttempt:
    dealer = make_dealer("Valley Motors", 34.1, -118.4, site.url)
    attempt = services.start_attempts(owner, profile, [dealer], review=True).created[0]
    attempt = in_status(attempt.pk, "awaiting_review", "failed", "no_form", "captcha", "cancelled")
    assert attempt.status == "awaiting_review", attempt.error
    return attempt


def field_index(attempt: ContactAttempt, key: str) -> int:
    return next(i for i, f in enumerate(attempt.review_fields) if f["key"] == key)


def test_it_sends_an_edited_review_with_the_edited_values(owner, profile, huey_consumer, dealer_site):
    attempt = reviewed(owner, profile, dealer_site)
    # Stopped at the filled form, holding no worker: nothing sent, the form shown.
    assert dealer_site.received == [] and attempt.submit_pressed_at is None and attempt.claimed_by == ""
    assert attempt.screenshot_form.name and attempt.review_ready is not None
    dept = attempt.review_fields[field_index(attempt, "department")]
    assert dept["type"] == "select" and dept["value"] == "Sales" and dept["options"] == ["Sales", "Finance"]

    review_shot = attempt.screenshot_form.name
    values, errors = review.clean_values(attempt, {
        review.input_name(attempt, field_index(attempt, "department")): "Finance",
        review.input_name(attempt, field_index(attempt, "comments")): "Is the blue RAV4 still on the lot?",
    })
    assert errors == {}
    assert review.send(attempt, values)

    attempt = in_status(attempt.pk, "submitted", "unconfirmed", "failed", "awaiting_review", "cancelled")
    assert attempt.status == "submitted", attempt.error
    assert len(dealer_site.received) == 1
    sent = dealer_site.received[0]["data"]
    assert sent["department"] == "finance" and sent["comments"] == "Is the blue RAV4 still on the lot?"
    assert sent["email"] == "alice.buyer@example.org"
    assert attempt.approved_values["department"] == "Finance"
    # The form as sent replaces the form as reviewed; the reviewed one's file is gone.
    assert attempt.screenshot_form.name != review_shot and not attempt.screenshot_form.storage.exists(review_shot)


def test_a_site_changed_between_review_and_send_goes_back_to_review(owner, profile, huey_consumer, dealer_site):
    attempt = reviewed(owner, profile, dealer_site)
    first_fingerprint, first_shot = attempt.review_fingerprint, attempt.screenshot_form.name
    dealer_site.routes["GET /"] = FORM.replace(
        '<label for="msg">', '<label for="zip">ZIP *</label><input id="zip" name="zip" required><label for="msg">'
    )

    values, _ = review.clean_values(attempt, {})
    assert review.send(attempt, values)
    wait_for(lambda: not ContactAttempt.objects.filter(pk=attempt.pk, status__in=["queued", "running"]).exists())
    attempt.refresh_from_db()

    assert attempt.status == "awaiting_review"
    assert "changed since it was reviewed" in attempt.error
    assert dealer_site.received == []
    assert attempt.review_fingerprint != first_fingerprint
    assert any(f["key"] == "zip" for f in attempt.review_fields)  # the new form is what is shown now
    assert attempt.screenshot_form.name != first_shot and not attempt.screenshot_form.storage.exists(first_shot)


def test_skip_sends_nothing(owner, profile, huey_consumer, dealer_site):
    attempt = reviewed(owner, profile, dealer_site)

    assert review.skip(attempt)

    attempt.refresh_from_db()
    assert attempt.status == "cancelled" and attempt.error == review.SKIPPED
    assert not review.send(attempt, {})  # a skipped review cannot be sent after all
    assert dealer_site.received == []


def test_a_review_left_waiting_expires_as_cancelled(owner, profile, huey_consumer, dealer_site, settings):
    attempt = reviewed(owner, profile, dealer_site)
    ContactAttempt.objects.filter(pk=attempt.pk).update(
        review_ready=timezone.now() - timedelta(hours=settings.REVIEW_EXPIRY_H, minutes=1)
    )

    reap_stale_attempts()

    attempt.refresh_from_db()
    assert attempt.status == "cancelled" and attempt.error.startswith("Review expired")
    assert dealer_site.received == []


def test_a_person_reviews_edits_and_sends_from_the_results_page(owner, search, asgi_server, huey_consumer,
                                                                   dealer_site):
    """The journey in a real browser: Review each form first, the filled form in the row
    (live), Edit and send with another department and message, and what the site got."""
    from playwright.sync_api import expect

    from contacts.results import take_snapshot
    from tests.browsers import log_in, person_browser

    dealer = make_dealer("Valley Motors", 34.1, -118.4, dealer_site.url)
    take_snapshot(search)
    url = asgi_server.url

    with person_browser() as browser:
        page = browser.new_page()
        log_in(page, url, "alice", "password")
        page.goto(f"{url}/searches/{search.pk}/")
        page.check(f'input[name="dealer"][value="{dealer.pk}"]')
        page.get_by_label("Review each form first").check()
        page.get_by_role("button", name="Contact selected").click()

        row = page.locator(f"#dealer-{dealer.pk}")
        expect(row).to_contain_text("Awaiting review", timeout=60_000)  # arrives over the live stream
        expect(row.locator("img.review-shot")).to_be_visible()
        expect(row.locator("table.review-fields")).to_contain_text("alice.buyer@example.org")
        assert dealer_site.received == []
        row.locator("summary", has_text="Edit and send").click()
        row.locator("select").select_option("Finance")
        row.locator("textarea").fill("Edited in review: does it come in blue?")
        # Enter in a field sends this form's edits (static/js/review.js), not "Contact selected".
        first_name = row.get_by_label("First Name", exact=True)
        first_name.fill("Alicia")
        first_name.press("Enter")
        expect(row).to_contain_text("Submitted", timeout=60_000)

    assert len(dealer_site.received) == 1
    sent = dealer_site.received[0]["data"]
    assert sent["department"] == "finance" and sent["comments"] == "Edited in review: does it come in blue?"
    assert sent["first_name"] == "Alicia"
    assert ContactAttempt.objects.get(dealer=dealer).status == "submitted"


STREAMED_ROWS_JS = """(rowId) => {
    // Every message the stream brings for this row, and whether the page swapped it in.
    window.rowMessages = [];
    document.addEventListener("htmx:sseBeforeMessage", (event) => {
        if (event.target.id === rowId) window.rowMessages.push(event.defaultPrevented ? "kept" : "swapped");
    });
}"""


def test_a_review_being_edited_stays_open_when_its_row_arrives_again_unchanged(owner, search, asgi_server):
    """A person halfway through "Edit and send" loses nothing when the stream sends the same
    row again (a second event about the dealer, a reconnect catching up); a row that did
    change still replaces it."""
    from playwright.sync_api import expect

    from contacts.results import take_snapshot
    from tests.browsers import log_in, person_browser
    from tests.test_results_browser import off_loop
    from tests.test_reviews import FIELDS

    dealer = make_dealer("Valley Motors", 34.1, -118.4, "http://127.0.0.1:9/valley/")
    take_snapshot(search)
    attempt = ContactAttempt.objects.create(
        owner=owner, customer=search.customer, dealer=dealer, search=search, status="awaiting_review",
        review_first=True, review_fields=FIELDS, review_fingerprint="f" * 64, review_ready=timezone.now(),
        started=timezone.now(),
    )
    url = asgi_server.url
    row_id = f"dealer-{dealer.pk}"

    def messages(page, count: int) -> list[str]:
        page.wait_for_function("(n) => window.rowMessages.length >= n", arg=count)
        return page.evaluate("window.rowMessages")

    with person_browser() as browser:
        page = browser.new_page()
        log_in(page, url, "alice", "password")
        page.goto(f"{url}/searches/{search.pk}/")
        page.evaluate(STREAMED_ROWS_JS, row_id)
        row = page.locator(f"#{row_id}")
        expect(row).to_contain_text("Awaiting review")

        off_loop(attempt.record_event, "finished")  # the row as it stands, sent live
        assert messages(page, 1) == ["swapped"]
        row.locator("summary", has_text="Edit and send").click()
        row.locator("select").first.select_option("Finance")
        row.get_by_label("First Name", exact=True).fill("Alicia")
        page.evaluate("(id) => { document.getElementById(id).dataset.touched = 'yes'; }", row_id)

        off_loop(attempt.record_event, "finished")  # the same row again
        assert messages(page, 2) == ["swapped", "kept"]
        expect(row).to_have_attribute("data-touched", "yes")  # the very element the person is in
        expect(row.locator("details.review-edit")).to_have_attribute("open", "")
        expect(row.get_by_label("First Name", exact=True)).to_have_value("Alicia")
        expect(row.locator("select").first).to_have_value("Finance")

        assert off_loop(review.skip, attempt)  # skipped from another tab: the row did change
        assert messages(page, 3) == ["swapped", "kept", "swapped"]
        expect(row).to_contain_text(review.SKIPPED)
        expect(row).not_to_have_attribute("data-touched", "yes")

        off_loop(attempt.record_event, "finished")  # and the skipped row, unchanged, is kept
        assert messages(page, 4) == ["swapped", "kept", "swapped", "kept"]
