"""Forms that change while they are filled, and boxes the site ticked for the customer:
through a real browser, asserting what the dealer's server received."""

from __future__ import annotations

import pytest

from contacts.engine import outcomes
from tests.engine.conftest import THANKS, page

pytestmark = pytest.mark.browser

# Make and Model lists filled by a timer, not a request: each stays disabled and empty
# until the choice before it, then fills most of a second later.
TIMED_CHAIN = page("""
<h1>Get a quote</h1>
<form method="post" action="/send">
  <label for="yr">Year *</label><select id="yr" name="year" required><option value="">Year</option>
    <option>2023</option><option>2024</option><option>2025</option></select>
  <label for="mk">Make *</label><select id="mk" name="make" required disabled><option value="">Make</option></select>
  <label for="md">Model *</label><select id="md" name="model" required disabled><option value="">Model</option></select>
  <label for="fn">Full name *</label><input id="fn" name="name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <fieldset><legend>Which department? *</legend>
    <label><input type="radio" name="dept" value="service" required> Service</label>
    <label><input type="radio" name="dept" value="sales" required> Sales</label></fieldset>
  <div id="follow-up" hidden>
    <label for="cc">Are you a current customer? *</label>
    <select id="cc" name="current" required><option value="">Choose</option><option>Yes</option><option>No</option></select>
  </div>
  <button type="submit">Send</button>
</form>
<script>
  const later = (fn) => setTimeout(fn, 700);
  const fill = (select, values) => { for (const v of values) select.add(new Option(v, v)); select.disabled = false; };
  yr.addEventListener('change', () => later(() => fill(mk, ['Honda', 'Toyota'])));
  mk.addEventListener('change', () => later(() => fill(md, ['Camry', 'RAV4'])));
  document.querySelectorAll('[name=dept]').forEach((r) => r.addEventListener('change', () => {
    document.getElementById('follow-up').hidden = r.value !== 'sales';
  }));
</script>""")


def test_it_waits_for_lists_filled_by_a_timer_and_answers_what_a_choice_reveals(make_site, contact):
    site = make_site({"/": TIMED_CHAIN, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    [received] = site.received
    data = received["data"]
    assert (data["year"], data["make"], data["model"]) == ("2024", "Toyota", "RAV4")
    assert (data["dept"], data["current"]) == ("sales", "No")


OPT_IN_TICKED_AGAIN = page("""
<h1>Contact us</h1>
<form method="post" action="/send">
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Message</label><textarea id="msg" name="message"></textarea>
  <label><input type="checkbox" id="offers" name="offers" value="1" checked> Email me special offers</label>
  <label><input type="checkbox" id="consent" name="consent" value="1" required> I agree to be contacted about my inquiry *</label>
  <button type="submit">Send</button>
</form>
<script>
  // Ticking the consent box quietly ticks the offers box again.
  consent.addEventListener('change', () => { offers.checked = true; });
</script>""")

OPT_IN_THAT_WONT_UNTICK = page("""
<h1>Contact us</h1>
<form method="post" action="/send">
  <label for="nm">Name *</label><input id="nm" name="name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Your question</label><textarea id="msg" name="message"></textarea>
  <label><input type="checkbox" id="offers" name="offers" value="1" checked> Send me promotions and the newsletter</label>
  <button type="submit">Send</button>
</form>
<script>
  offers.addEventListener('click', () => { setTimeout(() => { offers.checked = true; }, 0); });
  offers.addEventListener('change', () => { offers.checked = true; });
</script>""")


def test_it_unticks_an_opt_in_the_site_ticked_again_before_sending(make_site, contact):
    site = make_site({"/": OPT_IN_TICKED_AGAIN, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    [received] = site.received
    assert received["data"].get("consent") == "1"
    assert "offers" not in received["data"]


def test_it_sends_nothing_when_an_opt_in_will_not_stay_unticked(make_site, contact):
    site = make_site({"/": OPT_IN_THAT_WONT_UNTICK, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert "would not stay unticked" in result.error
    assert site.received == []
