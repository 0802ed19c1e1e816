"""End to end through a real browser: what the dealer's server received, and the verdict."""

from __future__ import annotations

import pytest

from contacts.engine import outcomes
from tests.engine.conftest import CUSTOMER, THANKS, Reply, page

pytestmark = pytest.mark.browser

PLAIN_FORM = page("""
<h1>Valley Motors</h1>
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="ph">Phone</label><input id="ph" name="phone" type="tel">
  <label for="zip">ZIP</label><input id="zip" name="zip">
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <button type="submit">Send Message</button>
</form>""")


def test_it_fills_and_submits_a_plain_form(make_site, contact):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert len(site.received) == 1
    data = site.received[0]["data"]
    assert data["first_name"] == "Alice"
    assert data["last_name"] == "Buyer"
    assert data["email"] == CUSTOMER.email
    assert data["phone"] == "3105550123"
    assert data["zip"] == "90210"
    assert data["comments"] == CUSTOMER.message
    assert result.submit_pressed
    assert set(result.screenshots) == {"form", "result"}
    assert result.screenshots["form"][:2] == b"\xff\xd8"
    assert {f.kind for f in result.fields} >= {"first_name", "last_name", "email", "phone", "zip", "message"}
    assert set(result.phase_timings) == set(outcomes.PHASES)
