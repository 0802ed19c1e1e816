"""Review before sending, in the engine: stop at the filled form with its fields and
fingerprint; send the person's values only to the form they reviewed."""

from __future__ import annotations

import pytest

from contacts.engine import contact_dealer, outcomes
from contacts.engine.review import CHANGED, Review
from tests.engine.conftest import CUSTOMER, OPTIONS, THANKS, Site, page

pytestmark = pytest.mark.browser

FORM = page("""
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="dept">Department *</label>
  <select id="dept" name="department" required>
    <option value="">Choose one</option><option value="sales">Sales</option><option value="service">Service</option>
    <option value="finance">Finance</option>
  </select>
  <fieldset><legend>Best way to reach you? *</legend>
    <label><input type="radio" name="reach" value="email" required> Email</label>
    <label><input type="radio" name="reach" value="phone" required> Phone</label>
  </fieldset>
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <button type="submit">Send Message</button>
</form>""")


def review_run(browser_session, url: str, review: Review):
    return contact_dealer(url, CUSTOMER, session=browser_session, options=OPTIONS, review=review)


@pytest.fixture
def site():
    site = Site({"GET /": FORM, "POST /send": THANKS})
    yield site
    site.close()


def test_it_stops_at_the_filled_form_with_its_fields_options_and_fingerprint(browser_session, site):
    result = review_run(browser_session, site.url, Review())

    assert result.status == outcomes.AWAITING_REVIEW, result.error
    assert site.received == [] and not result.submit_pressed
    assert "form" in result.screenshots and len(result.fingerprint) == 64
    by_key = {f.key: f for f in result.fields}
    assert by_key["first_name"].value == CUSTOMER.first_name and by_key["first_name"].type == "text"
    assert by_key["comments"].type == "textarea"
    assert by_key["department"].type == "select" and by_key["department"].value == "Sales"
    assert by_key["department"].options == ("Sales", "Service", "Finance")
    assert by_key["reach"].type == "radio" and set(by_key["reach"].options) == {"Email", "Phone"}


def test_it_sends_the_approved_values_to_the_reviewed_form(browser_session, site):
    first = review_run(browser_session, site.url, Review())
    approved = {"first_name": "Alicia", "department": "Finance", "reach": "Email",
                "comments": "Edited at review: is the blue one still there?"}
    # The person's choices are honoured even where the engine chose otherwise.
    approved["reach"] = "Phone" if next(f for f in first.fields if f.key == "reach").value == "Email" else "Email"

    result = review_run(browser_session, site.url, Review(approved, first.fingerprint))

    assert result.status == outcomes.SUBMITTED, result.error
    assert len(site.received) == 1
    sent = site.received[0]["data"]
    assert sent["first_name"] == "Alicia" and sent["department"] == "finance"
    assert sent["reach"] == approved["reach"].lower()
    assert sent["comments"] == "Edited at review: is the blue one still there?"
    assert sent["last_name"] == CUSTOMER.last_name  # what was not edited is the engine's


def test_a_form_that_changed_since_review_is_not_sent(browser_session, site):
    first = review_run(browser_session, site.url, Review())
    # The dealer added a choice to the department list after the person looked.
    site.routes["GET /"] = FORM.replace('<option value="finance">Finance</option>',
                                        '<option value="finance">Finance</option><option value="parts">Parts</option>')

    result = review_run(browser_session, site.url, Review({"first_name": "Alicia"}, first.fingerprint))

    assert result.status == outcomes.AWAITING_REVIEW and result.error == CHANGED
    assert site.received == []
    assert result.fingerprint != first.fingerprint
    assert "Parts" in next(f for f in result.fields if f.key == "department").options


TWO_STEPS = page("""
<style>.step{display:none}.step.on{display:block}</style>
<h2>Contact Us</h2>
<form method="post" action="/send">
  <div class="step on" id="s1"><p>Step 1 of 2</p>
    <label for="fn">First Name *</label><input id="fn" name="first_name" required>
    <label for="em">Email *</label><input id="em" name="email" type="email" required>
    <button type="button" id="next">Next</button></div>
  <div class="step" id="s2"><p>Step 2 of 2</p>
    <label for="msg">Message *</label><textarea id="msg" name="message" required></textarea>
    <button type="submit">Send</button></div>
</form>
<script>document.getElementById('next').onclick = () => { s1.classList.remove('on'); s2.classList.add('on'); };</script>
""")


def test_a_multi_step_form_is_reviewed_whole_and_sent_with_edits_on_every_step(browser_session):
    site = Site({"GET /": TWO_STEPS, "POST /send": THANKS})
    try:
        first = review_run(browser_session, site.url, Review())
        assert first.status == outcomes.AWAITING_REVIEW, first.error
        assert {"first_name", "email", "message"} <= {f.key for f in first.fields}
        assert site.received == []

        approved = {"first_name": "Alicia", "message": "Edited on the second step."}
        result = review_run(browser_session, site.url, Review(approved, first.fingerprint))

        assert result.status == outcomes.SUBMITTED, result.error
        assert len(site.received) == 1
        sent = site.received[0]["data"]
        assert sent["first_name"] == "Alicia" and sent["message"] == "Edited on the second step."
    finally:
        site.close()


# --- Every fixture site that a sent attempt reaches, reviewed first ------------------------

def _sent_sites() -> list[str]:
    from tests.fixture_server import load_expectation, site_names

    return [site for site in site_names()
            if load_expectation(site)["status"] == outcomes.SUBMITTED and load_expectation(site)["submissions"] == 1]


@pytest.mark.parametrize("site", _sent_sites())
def test_reviewing_first_sends_what_sending_at_once_would(site, fixture_server, browser_session):
    """Reviewing and sending unchanged reaches every site a plain attempt reaches, once,
    with values that pass the site's expectations: the fingerprint is stable across runs
    and the approved values fill the form as the plan would."""
    from tests.engine.conftest import SITE_TEST_OPTIONS, STANDARD_CUSTOMER
    from tests.engine.test_sites import rule_mismatch, start_url
    from tests.fixture_server import load_expectation

    expectation = load_expectation(site)
    fixture_server.reset(site)
    url = start_url(fixture_server, site, expectation)

    def run(review: Review):
        return contact_dealer(url, STANDARD_CUSTOMER, session=browser_session, options=SITE_TEST_OPTIONS,
                              review=review)

    first = run(Review())
    assert first.status == outcomes.AWAITING_REVIEW, f"{site}: {first.status} ({first.error})"
    assert fixture_server.submissions(site) == []
    approved = {f.key: f.value for f in first.fields if f.type in ("text", "textarea", "select", "radio")}

    sent = run(Review(approved, first.fingerprint))

    assert sent.status == outcomes.SUBMITTED, f"{site}: {sent.status} ({sent.error})"
    received = fixture_server.submissions(site)
    assert len(received) == 1
    wrong = {name: why for name, rule in expectation.get("fields", {}).items()
             if (why := rule_mismatch(rule, received[0].value(name)))}
    assert not wrong, f"{site}: {wrong}"


def test_edits_to_a_sites_lists_and_radios_reach_it(fixture_server, browser_session):
    """The selects-and-radios fixture: a state list whose labels are names and values codes,
    a required radio group; the person picks other choices by what the form shows."""
    from tests.engine.conftest import SITE_TEST_OPTIONS, STANDARD_CUSTOMER

    fixture_server.reset("selects-and-radios")
    url = fixture_server.url("selects-and-radios")

    def run(review: Review):
        return contact_dealer(url, STANDARD_CUSTOMER, session=browser_session, options=SITE_TEST_OPTIONS,
                              review=review)

    first = run(Review())
    by_key = {f.key: f for f in first.fields}
    assert by_key["state"].value == "California" and "Nevada" in by_key["state"].options
    assert by_key["contact_pref"].type == "radio" and by_key["contact_pref"].options == ("Phone", "Email", "Text")

    sent = run(Review({"state": "Nevada", "contact_pref": "Text", "department": "Finance"}, first.fingerprint))

    assert sent.status == outcomes.SUBMITTED, sent.error
    [submission] = fixture_server.submissions("selects-and-radios")
    assert (submission.value("state"), submission.value("contact_pref"), submission.value("department")) == (
        "NV", "text", "finance")
