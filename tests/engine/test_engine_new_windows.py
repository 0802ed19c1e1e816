"""Submissions that open a new tab or window: the engine watches the new page too, never
clicks anything in it, and the tab closes with the attempt's context."""

from __future__ import annotations

import pytest

from contacts.engine import outcomes
from tests.engine.conftest import CUSTOMER, THANKS, Reply, page
from tests.engine.test_engine_contact import PLAIN_FORM, only_submission

pytestmark = pytest.mark.browser

NEW_TAB_FORM = PLAIN_FORM.replace('<form method="post" action="/send">',
                                  '<form method="post" action="/send" target="_blank">')


def _pages_left_open(browser_session) -> int:
    async def count() -> int:
        browser = browser_session.pool.current.browser
        return sum(len(context.pages) for context in browser.contexts)

    return browser_session.run(count())


def test_a_form_answered_in_a_new_tab_with_thanks_is_submitted_once(make_site, contact, browser_session):
    site = make_site({"/": NEW_TAB_FORM, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["email"] == CUSTOMER.email
    assert site.hits.count("POST /send") == 1
    assert _pages_left_open(browser_session) == 0


def test_a_server_error_in_the_new_tab_fails_naming_the_status(make_site, contact):
    site = make_site({"/": NEW_TAB_FORM, "POST /send": Reply(page("<h1>Server Error</h1>"), status=500)})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert result.error == "The site answered the submission with HTTP 500."
    assert len(site.received) == 1 and result.submit_pressed


def test_an_error_message_in_the_new_tab_fails_with_its_text(make_site, contact):
    rejected = page('<div class="alert alert-danger">Please enter a valid phone number.</div>')
    site = make_site({"/": NEW_TAB_FORM, "POST /send": rejected})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert "Please enter a valid phone number." in result.error
    assert len(site.received) == 1


# A lead widget that posts with fetch, then opens the confirmation the answer names.
FETCH_THEN_WINDOW = PLAIN_FORM + """<script>
document.forms[0].onsubmit = (e) => { e.preventDefault();
  fetch('/api/lead', {method: 'POST', body: new URLSearchParams(new FormData(e.target))})
    .then((r) => r.json()).then((answer) => window.open(answer.next, '_blank')); };
</script>"""


def test_a_confirmation_window_opened_after_a_fetch_is_left_alone(make_site, contact):
    site = make_site({
        "/": FETCH_THEN_WINDOW,
        "POST /api/lead": Reply('{"ok": true, "next": "/thank-you"}', content_type="application/json"),
        "/thank-you": THANKS,
    })
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["first_name"] == "Alice"
    assert site.hits.count("POST /api/lead") == 1
    assert "GET /thank-you" in site.hits  # the window opened and loaded, untouched


# The lead leaves as a beacon (which is no fetch or XHR the watch counts) and only the
# new window says anything: its thank-you text is the confirmation.
BEACON_THEN_WINDOW = PLAIN_FORM + """<script>
document.forms[0].onsubmit = (e) => { e.preventDefault();
  navigator.sendBeacon('/lead', new URLSearchParams(new FormData(e.target)));
  window.open('/thank-you', 'confirmation', 'width=500,height=400'); };
</script>"""


def test_thank_you_text_in_a_window_the_submit_opened_confirms_it(make_site, contact):
    site = make_site({"/": BEACON_THEN_WINDOW, "POST /lead": Reply("", status=204),
                      "/thank-you": page("<h1>Thanks! A sales associate will contact you shortly.</h1>")})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["email"] == CUSTOMER.email


# Gravity Forms' old AJAX, and many hand-made pages: the form posts into a hidden iframe.
HIDDEN_FRAME_FORM = PLAIN_FORM.replace(
    '<form method="post" action="/send">',
    '<iframe name="sink" style="display:none"></iframe><form method="post" action="/send" target="sink">',
)


def test_a_form_posting_into_a_hidden_iframe_is_judged_by_that_answer(make_site, contact):
    site = make_site({"/": HIDDEN_FRAME_FORM, "POST /send": Reply(page("<h1>Server Error</h1>"), status=500)})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert result.error == "The site answered the submission with HTTP 500."
    assert len(site.received) == 1
