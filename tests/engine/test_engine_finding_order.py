"""The order in which the engine looks for the form, through a real browser: the site's
own links before the paths dealer platforms use, which are only a fallback."""

from __future__ import annotations

import pytest

from contacts.engine import outcomes
from tests.engine.conftest import THANKS, page

pytestmark = pytest.mark.browser


def lead_form(action: str) -> str:
    return page(f"""
<form method="post" action="{action}"><h2>Send us a message</h2>
  <label for="n">Name</label><input id="n" name="name" required>
  <label for="e">Email</label><input id="e" name="email" type="email" required>
  <label for="m">Message</label><textarea id="m" name="message"></textarea>
  <button type="submit">Send</button></form>""")


def test_a_usual_contact_path_is_tried_when_the_site_links_to_no_form(make_site, contact):
    home = page('<nav><a href="/inventory">Inventory</a> <a href="/specials">Specials</a></nav><h1>Valley Motors</h1>')
    site = make_site({"/": home, "/contact-us": lead_form("/guessed"), "POST /guessed": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert [r["path"] for r in site.received] == ["/guessed"]


def test_the_sites_own_inquiry_link_comes_before_a_guessed_contact_path(make_site, contact):
    home = page('<nav><a href="/trade">Value Your Trade</a> <a href="/info">Request Info</a></nav><h1>Valley Motors</h1>')
    site = make_site({
        "/": home, "/info": lead_form("/linked"), "/contact-us": lead_form("/guessed"),
        "/trade": lead_form("/trade-in"), "POST /linked": THANKS, "POST /guessed": THANKS,
    })
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert [r["path"] for r in site.received] == ["/linked"]
    assert "GET /trade" not in site.hits


def test_the_best_few_links_are_tried_before_giving_up(make_site, contact):
    nothing = page("<h1>Our team</h1><p>Call us at (555) 555-0100.</p>")
    home = page('<nav><a href="/contact">Contact Us</a> <a href="/hours">Hours &amp; Directions</a> '
                '<a href="/quote">Get a Quote</a></nav>')
    site = make_site({"/": home, "/contact": nothing, "/hours": nothing, "/quote": lead_form("/quote-sent"),
                      "POST /quote-sent": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert [r["path"] for r in site.received] == ["/quote-sent"]
    # Best first: the contact page, then the quote page, which held the form.
    assert [hit for hit in site.hits if hit in ("GET /contact", "GET /quote", "GET /hours")] == ["GET /contact", "GET /quote"]


OFFSCREEN_TABS = page("""
<style>.ui-tabs-hide{position:absolute;left:-10000px}</style>
<ul><li><a href="#tab-service">Service</a></li><li><a href="#tab-sales">Sales</a></li></ul>
<div id="tab-service"><p>Service is open 7 to 6. Call (555) 555-0111.</p></div>
<div id="tab-sales" class="ui-tabs-hide">
  <form method="post" action="/sales"><h3>Questions for our sales team</h3>
    <label for="n">Name</label><input id="n" name="name" required>
    <label for="e">Email</label><input id="e" name="email" type="email" required>
    <label for="m">Message</label><textarea id="m" name="message"></textarea>
    <button type="submit">Send</button></form></div>
<script>
document.querySelectorAll('a[href^="#tab-"]').forEach((a) => a.addEventListener('click', (e) => {
  e.preventDefault();
  document.querySelectorAll('[id^="tab-"]').forEach((p) => p.classList.toggle('ui-tabs-hide', '#' + p.id !== a.getAttribute('href')));
}));
</script>""")


def test_a_tab_an_old_script_parks_off_screen_is_opened_by_its_link(make_site, contact):
    site = make_site({"/": OFFSCREEN_TABS, "POST /sales": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert [r["path"] for r in site.received] == ["/sales"]
