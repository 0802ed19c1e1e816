"""End to end through a real browser: what the dealer's server received, and the verdict."""

from __future__ import annotations

import json

import pytest

from contacts.engine import outcomes
from tests.engine.conftest import CUSTOMER, THANKS, Reply, page
from tests.fixture_server import STAND_INS

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


def only_submission(site):
    assert len(site.received) == 1, site.received
    return site.received[0]["data"]


SAFETY_FORM = page("""
<style>.hp{position:absolute;left:-9999px}</style>
<form method="post" action="/send">
  <label for="name">Name *</label><input id="name" name="name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <div class="hp"><label for="web">Website</label><input id="web" name="website" autocomplete="off" tabindex="-1"></div>
  <input name="fax_hidden" style="display:none">
  <label>Leave this field blank <input name="comment_check"></label>
  <label for="dept">Department *</label>
  <select id="dept" name="department" required><option value="">-- Select --</option>
    <option value="svc">Service</option><option value="sales">Sales</option></select>
  <label for="msg">Questions</label><textarea id="msg" name="questions"></textarea>
  <label><input type="checkbox" name="offers" value="yes"> Email me special offers and promotions</label>
  <label><input type="checkbox" name="consent" value="yes" required> I consent to be contacted about my inquiry *</label>
  <input type="submit" value="Submit">
</form>""")


def test_it_leaves_honeypots_and_opt_ins_alone_ticks_required_consent_and_picks_a_real_option(make_site, contact):
    site = make_site({"/": SAFETY_FORM, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    data = only_submission(site)
    assert data["name"] == "Alice Buyer"
    assert data["website"] == "" and data["fax_hidden"] == "" and data["comment_check"] == ""
    assert "offers" not in data
    assert data["consent"] == "yes"
    assert data["department"] == "sales"


SPLIT_AND_MASKED = page("""
<form method="post" action="/send">
  <label for="fn">First Name</label><input id="fn" name="first">
  <label for="ln">Last Name</label><input id="ln" name="last">
  <label for="em">Email</label><input id="em" name="email">
  <label for="p1">Phone</label>
  <input id="p1" name="phone1" maxlength="3" type="tel"> <input name="phone2" maxlength="3" type="tel">
  <input name="phone3" maxlength="4" type="tel">
  <label for="cell">Cell phone</label><input id="cell" name="cell" type="tel" placeholder="(___) ___-____">
  <label for="msg">Message</label><textarea id="msg" name="msg"></textarea>
  <button>Send</button>
</form>
<script>
// A mask that only believes key presses: anything else is put back.
const cell = document.getElementById('cell');
let digits = '';
const show = () => { const d = digits.padEnd(10, '_');
  cell.value = digits ? `(${d.slice(0,3)}) ${d.slice(3,6)}-${d.slice(6)}` : ''; };
cell.addEventListener('keydown', (e) => {
  if (/^[0-9]$/.test(e.key) && digits.length < 10) digits += e.key;
  else if (e.key === 'Backspace') digits = digits.slice(0, -1);
  else if (e.key.length > 1) return;
  e.preventDefault(); show();
});
cell.addEventListener('input', show);
</script>""")


@pytest.mark.parametrize("min_dwell_s", [0, 1])  # at human pace, the mask's listener asks for keys
def test_it_fills_split_and_masked_phones(make_site, contact, min_dwell_s):
    site = make_site({"/": SPLIT_AND_MASKED, "POST /send": THANKS})
    result = contact(site.url, min_dwell_s=min_dwell_s)
    assert result.status == outcomes.SUBMITTED, result.error
    data = only_submission(site)
    assert (data["phone1"], data["phone2"], data["phone3"]) == ("310", "555", "0123")
    assert data["cell"] == "(310) 555-0123"


def test_a_mask_the_site_started_with_its_own_area_code_is_emptied_by_backspace_first(make_site, contact):
    # The mask believes only keys, and the site has put its own area code in its buffer:
    # setting the field empty does not hold, so a person deletes it, key by key.
    started = SPLIT_AND_MASKED.replace("let digits = '';", "let digits = '562';").replace(
        "cell.addEventListener('input', show);", "cell.addEventListener('input', show); show();")
    site = make_site({"/": started, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["cell"] == "(310) 555-0123"


def test_it_finds_the_form_on_the_contact_page_the_nav_links_to(make_site, contact):
    home = page('<nav><a href="/inventory">Inventory</a> <a href="/about/contact-us.htm">Contact Us</a></nav>'
                '<form action="/search"><input type="search" name="q"><button>Search</button></form>')
    site = make_site({"/": home, "/about/contact-us.htm": PLAIN_FORM, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["email"] == CUSTOMER.email
    assert result.final_url.startswith(site.url)
    assert "GET /inventory" not in site.hits


def test_it_fills_a_form_in_a_cross_origin_iframe(make_site, contact):
    framed = make_site({"/lead": PLAIN_FORM, "POST /send": THANKS})
    site = make_site({"/": page(f'<h1>Dealer</h1><iframe src="{framed.url}lead" width=600 height=700></iframe>')})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(framed)["first_name"] == "Alice"
    assert site.received == []


SHADOW = page("""
<lead-widget></lead-widget>
<script>
customElements.define('lead-widget', class extends HTMLElement {
  connectedCallback() {
    const root = this.attachShadow({mode: 'open'});
    root.innerHTML = `<form id="f"><label for="n">Full name</label><input id="n" name="n">
      <label for="e">Email</label><input id="e" name="e" type="email">
      <label for="m">Comments</label><textarea id="m" name="m"></textarea><button>Send</button></form>
      <p id="done" hidden>Thanks for contacting us!</p>`;
    root.getElementById('f').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const body = new URLSearchParams(new FormData(ev.target));
      fetch('/lead', {method: 'POST', body}).then(() => {
        ev.target.remove(); root.getElementById('done').hidden = false; });
    });
  }
});
</script>""")


def test_it_fills_a_form_inside_a_shadow_root(make_site, contact):
    site = make_site({"/": SHADOW, "POST /lead": Reply('{"ok": true}', content_type="application/json")})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site) == {"n": "Alice Buyer", "e": CUSTOMER.email, "m": CUSTOMER.message}


MODAL = page("""
<style>.modal{display:none;position:fixed;inset:10%;background:#fff}.modal.open{display:block}</style>
<h1>2024 Toyota RAV4 XLE</h1><button id="open">Get ePrice</button>
<div class="modal" role="dialog"><form method="post" action="/eprice">
  <input name="first" placeholder="First Name"> <input name="last" placeholder="Last Name">
  <input name="email" placeholder="Email Address"> <input name="phone" placeholder="Phone">
  <textarea name="comments" placeholder="Comments"></textarea><button type="submit">Get My ePrice</button>
</form></div>
<script>document.getElementById('open').onclick = () => document.querySelector('.modal').classList.add('open');</script>
""")


def test_it_opens_a_modal_form_behind_a_button(make_site, contact):
    site = make_site({"/": MODAL, "POST /eprice": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["last"] == "Buyer"


LATE = page("""
<div id="app">Loading…</div>
<script>setTimeout(() => { document.getElementById('app').innerHTML = `
  <div class="lead"><h2>Contact Us</h2>
    <input aria-label="First Name" id="a"><input aria-label="Last Name" id="b"><input aria-label="Email" id="c">
    <textarea aria-label="Message" id="d"></textarea><div role="button" class="btn-submit" id="go">Send</div></div>`;
  document.getElementById('go').onclick = () => {
    const v = (id) => document.getElementById(id).value;
    fetch('/api/lead', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({first: v('a'), last: v('b'), email: v('c'), message: v('d')})})
      .then(() => { document.querySelector('.lead').innerHTML = '<p>Thank you! A sales associate will contact you.</p>'; });
  };
}, 900);</script>""")


def test_it_waits_for_a_script_rendered_formless_lead_form(make_site, contact):
    site = make_site({"/": LATE, "POST /api/lead": Reply('{"ok": true}', content_type="application/json")})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site) == {"first": "Alice", "last": "Buyer", "email": CUSTOMER.email,
                                     "message": CUSTOMER.message}


WIZARD = page("""
<style>.step{display:none}.step.on{display:block}</style>
<form method="post" action="/quote" id="w"><h2>Request a Quote</h2>
  <div class="step on" id="s1"><label for="mk">Make</label>
    <select id="mk" name="make"><option value="">Select</option><option>Honda</option><option>Toyota</option></select>
    <button type="button" id="n1">Next</button></div>
  <div class="step" id="s2"><label for="fn">First Name</label><input id="fn" name="fn" required>
    <label for="ln">Last Name</label><input id="ln" name="ln" required>
    <label for="em">Email</label><input id="em" name="em" type="email" required>
    <label for="cm">Comments</label><textarea id="cm" name="cm"></textarea>
    <button type="submit">Submit</button></div>
</form>
<script>document.getElementById('n1').onclick = () => {
  document.getElementById('s1').classList.remove('on'); document.getElementById('s2').classList.add('on'); };</script>
""")


def test_it_walks_a_multi_step_form(make_site, contact):
    site = make_site({"/": WIZARD, "POST /quote": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    data = only_submission(site)
    assert data["make"] == "Toyota" and data["fn"] == "Alice" and data["cm"] == CUSTOMER.message


SEVERAL = page("""
<form action="/search"><input type="search" name="q" placeholder="Search inventory"><button>Search</button></form>
<form method="post" action="/service"><h3>Schedule Service</h3><input name="name" placeholder="Name">
  <input name="email" placeholder="Email"><input type="date" name="date"><button>Book</button></form>
<footer><form method="post" action="/news"><h4>Newsletter</h4><input name="email" type="email" placeholder="Email">
  <button>Subscribe</button></form></footer>
<form method="post" action="/send"><h3>Questions? Contact our sales team</h3>
  <input name="name" placeholder="Your Name"><input name="email" placeholder="Email"><input name="phone" placeholder="Phone">
  <textarea name="message" placeholder="Message"></textarea><button>Send</button></form>""")


def test_it_chooses_the_sales_contact_form_among_several(make_site, contact):
    site = make_site({"/": SEVERAL, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert [r["path"] for r in site.received] == ["/send"]


NEWSLETTER_ONLY = page("""
<form action="/search"><input type="search" name="q"><button>Search</button></form>
<form method="post" action="/news"><h4>Get our newsletter</h4><input name="email" type="email" placeholder="Email">
  <button>Sign up</button></form>""")


def test_a_site_with_only_a_newsletter_has_no_form(make_site, contact):
    site = make_site({"/": NEWSLETTER_ONLY})
    result = contact(site.url)
    assert result.status == outcomes.NO_FORM
    assert result.error
    assert site.received == []
    assert not result.submit_pressed


# Google's loader, as a local stand-in on another origin (tests/sites/README.md): the
# markup and the script address are what real sites have; nothing leaves loopback.
RECAPTCHA_LOADER = STAND_INS["recaptcha/api.js"].read_text()
RECAPTCHA_V2 = PLAIN_FORM.replace(
    '<button type="submit">',
    '<div class="g-recaptcha" data-sitekey="6LcX"></div><button type="submit">',
).replace("<h1>", '<script src="{google}recaptcha/api.js" async defer></script><h1>')
RECAPTCHA_V3 = PLAIN_FORM.replace(
    "<h1>", '<script src="{google}recaptcha/api.js?render=6LcY"></script><h1>'
)


@pytest.mark.parametrize("markup", [RECAPTCHA_V2, RECAPTCHA_V3], ids=["v2", "v3"])
def test_a_recaptcha_guarded_form_is_reported_and_never_submitted(make_site, contact, markup):
    google = make_site({"/recaptcha/api.js": Reply(RECAPTCHA_LOADER, content_type="text/javascript")})
    site = make_site({"/": markup.replace("{google}", google.url.replace("127.0.0.1", "localhost")),
                      "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.CAPTCHA
    assert "reCAPTCHA" in result.error
    assert site.received == []
    assert "form" in result.screenshots
    assert not result.submit_pressed
    assert "GET /recaptcha/api.js" in google.hits  # CAPTCHA scripts are never blocked


def test_a_500_answer_to_the_submission_fails(make_site, contact):
    site = make_site({"/": PLAIN_FORM, "POST /send": Reply(page("<h1>Server Error</h1>"), status=500)})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert result.error == "The site answered the submission with HTTP 500."
    assert len(site.received) == 1 and result.submit_pressed


def test_a_validation_error_after_submitting_fails_with_its_text(make_site, contact):
    rejected = PLAIN_FORM.replace("<h1>", '<div class="alert alert-danger">Please enter a valid phone number.</div><h1>')
    site = make_site({"/": PLAIN_FORM, "POST /send": rejected})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert "Please enter a valid phone number." in result.error
    assert len(site.received) == 1


def test_a_form_asking_what_the_profile_cannot_answer_fails_naming_the_field(make_site, contact):
    form = PLAIN_FORM.replace('<label for="msg">', '<label for="emp">Employer *</label><input id="emp" name="employer" required><label for="msg">')
    site = make_site({"/": form})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert "Employer" in result.error
    assert site.received == [] and not result.submit_pressed


def test_a_dry_run_fills_but_never_submits(make_site, contact):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    result = contact(site.url, dry_run=True)
    assert result.status == outcomes.UNCONFIRMED
    assert result.error == "Dry run: filled but not submitted."
    assert site.received == [] and "form" in result.screenshots and result.fields


def test_no_confirmation_and_no_error_is_unconfirmed(make_site, contact):
    # The page swallows the submit event and shows nothing: pressed, but nothing to see.
    silent = PLAIN_FORM + "<script>document.forms[0].onsubmit = (e) => e.preventDefault();</script>"
    site = make_site({"/": silent})
    result = contact(site.url)
    assert result.status == outcomes.UNCONFIRMED
    assert result.submit_pressed and result.error


def test_a_captcha_widget_beside_a_formless_lead_form_guards_it(make_site, contact):
    widget = LATE.replace('<div id="app">', '<div class="h-captcha" data-sitekey="10000000"></div><div id="app">')
    site = make_site({"/": widget})
    result = contact(site.url)
    assert result.status == outcomes.CAPTCHA
    assert site.received == []


PATTERNED = page("""
<p class="help-block">Please enter your phone as (555) 555-5555. Fields marked * are required.</p>
<form method="post" action="/send" id="f">
  <label for="n">Name *</label><input id="n" name="name" required>
  <label for="e">Email *</label><input id="e" name="email" type="email" required>
  <label for="p">Phone *</label><input id="p" name="phone" required pattern="\\(\\d{3}\\) \\d{3}-\\d{4}">
  <label for="m">Message</label><textarea id="m" name="message"></textarea>
  <label><input type="checkbox" name="tcpa" required> By checking this box I agree to receive calls and
    marketing text messages from Valley Motors about my inquiry. *</label>
  <button>Send</button>
</form>
<script>document.getElementById('f').onsubmit = (e) => { e.preventDefault();
  fetch('/send', {method: 'POST', body: new URLSearchParams(new FormData(e.target))})
    .then(() => alert('Thank you! Your message has been sent.')); };</script>""")


def test_it_shapes_the_phone_to_the_pattern_ticks_required_agreements_and_reads_a_thank_you_alert(make_site, contact):
    site = make_site({"/": PATTERNED, "POST /send": Reply('{"ok": true}', content_type="application/json")})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    data = only_submission(site)
    assert data["phone"] == "(310) 555-0123"
    assert data["tcpa"] == "on"


SPAN_QUESTION = page("""
<form method="post" action="/send">
  <label for="n">Name *</label><input id="n" name="name" required>
  <label for="e">Email *</label><input id="e" name="email" type="email" required>
  <label for="p">Phone *</label><input id="p" name="phone" type="tel" required>
  <div class="row"><span class="q">How should we reach you? *</span>
    <label><input type="radio" name="reach" value="call" required> Call me</label>
    <label><input type="radio" name="reach" value="whatsapp"> WhatsApp</label>
    <label><input type="radio" name="reach" value="mail"> Email</label></div>
  <label for="m">Message</label><textarea id="m" name="message"></textarea>
  <button>Send</button>
</form>""")


def test_a_choice_asked_by_a_plain_heading_above_its_options_is_answered(make_site, contact):
    site = make_site({"/": SPAN_QUESTION, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["reach"] == "call"  # the customer prefers a phone call


@pytest.mark.parametrize("answer", [
    '{"success": false, "message": "Lead rejected: duplicate"}',
    '{"Success": false, "Message": "Lead rejected: duplicate"}',  # a .NET back end's casing
    '{"result": "error", "msg": "Lead rejected: duplicate"}',
])
def test_a_json_refusal_fails_with_its_message(make_site, contact, answer):
    fetching = PATTERNED.replace(".then(() => alert('Thank you! Your message has been sent.'))", "")
    refusal = Reply(answer, content_type="application/json")
    site = make_site({"/": fetching, "POST /send": refusal})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert "Lead rejected: duplicate" in result.error
    assert len(site.received) == 1


PLAIN_BOX_ANSWER = page("""
<form id="f">
  <p class="hint">Please enter a phone number we can call you on.</p>
  <label for="n">Name *</label><input id="n" name="name" required>
  <label for="e">Email *</label><input id="e" name="email" type="email" required>
  <label for="p">Phone *</label><input id="p" name="phone" type="tel" required>
  <label for="m">Message</label><textarea id="m" name="message"></textarea>
  <div class="form-msg" id="msg"></div>
  <button>Send</button>
</form>
<div id="thanks" hidden><strong>Got it.</strong> A member of our team will call you.</div>
<script>document.getElementById('f').onsubmit = (e) => { e.preventDefault();
  fetch('/send', {method: 'POST', body: new URLSearchParams(new FormData(e.target))}).then((r) => r.text()).then((t) => {
    if (t.startsWith('OK')) { e.target.hidden = true; document.getElementById('thanks').hidden = false; }
    else document.getElementById('msg').innerHTML = t; }); };</script>""")


@pytest.mark.parametrize("answer, status", [
    ("Please enter a valid phone number.", outcomes.FAILED),
    ("OK", outcomes.SUBMITTED),  # the standing hint above the form is no refusal
])
def test_a_refusal_written_into_a_plain_box_fails(make_site, contact, answer, status):
    site = make_site({"/": PLAIN_BOX_ANSWER, "POST /send": Reply(answer, content_type="text/plain")})
    result = contact(site.url)
    assert result.status == status, result.error
    assert len(site.received) == 1
    if status == outcomes.FAILED:
        assert "Please enter a valid phone number" in result.error


LATE_CAPTCHA = page("""
<form method="post" action="/send" id="f">
  <label for="n">Name *</label><input id="n" name="name" required>
  <label for="e">Email *</label><input id="e" name="email" type="email" required>
  <label for="m">Message</label><textarea id="m" name="message"></textarea>
  <div id="slot"></div><button>Send</button>
</form>
<script>
// A speed plugin's habit: the CAPTCHA loads once someone starts on the form.
document.getElementById('f').addEventListener('focusin', () => setTimeout(() => {
  if (document.querySelector('.h-captcha')) return;
  const widget = document.createElement('div');
  widget.className = 'h-captcha';
  widget.dataset.sitekey = '20000000-ffff-ffff-ffff-000000000002';
  document.getElementById('slot').appendChild(widget);
}, 300));
</script>""")


def test_a_captcha_that_appears_once_the_form_is_started_stops_the_attempt(make_site, contact):
    site = make_site({"/": LATE_CAPTCHA, "POST /send": THANKS})
    result = contact(site.url, min_dwell_s=1)
    assert result.status == outcomes.CAPTCHA, result.error
    assert site.received == []
    assert "form" in result.screenshots


@pytest.mark.parametrize("shown", [
    '<div class="toast toast-error" role="alert">Invalid email address.</div>',  # toastr, pinned to the page
    '<div id="notice"><p>Sorry, something went wrong. Please call us at (310) 555-0188.</p></div>',
])
def test_a_refusal_shown_outside_the_form_fails(make_site, contact, shown):
    fetching = PATTERNED.replace(".then(() => alert('Thank you! Your message has been sent.'))",
                                 f".then(() => document.body.insertAdjacentHTML('beforeend', {json.dumps(shown)}))")
    boxed = fetching.replace('<form method="post"', '<div class="panel"><form method="post"').replace("</form>", "</form></div>")
    site = make_site({"/": boxed, "POST /send": Reply('{"received": true}', content_type="application/json")})
    result = contact(site.url)
    assert result.status == outcomes.FAILED, result.error
    assert len(site.received) == 1


def test_a_multi_line_message_is_accepted_as_typed(make_site, contact):
    from dataclasses import replace

    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    customer = replace(CUSTOMER, message="Hello,\r\nIs the RAV4 XLE still available?\r\n\r\nThanks, Alice")
    result = contact(site.url, customer=customer)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site)["comments"].replace("\r\n", "\n") == "Hello,\nIs the RAV4 XLE still available?\n\nThanks, Alice"


def test_a_form_button_that_says_contact_is_never_pressed_to_open_a_modal(make_site, contact):
    # Only a newsletter here, its button worded like a modal trigger: pressing it would send it.
    home = page('<form method="post" action="/news"><h4>Stay in the loop</h4>'
                '<input type="email" name="email" placeholder="Email"><button>Contact Us</button></form>')
    site = make_site({"/": home})
    result = contact(site.url)
    assert result.status == outcomes.NO_FORM
    assert site.received == []


REHYDRATED = page("""
<div id="root"></div>
<script>
const values = {};
let hydrated = false;
function render() {
  document.getElementById('root').innerHTML = `<form id="f"><h2>Contact Us</h2>
    <label for="n">Full Name</label><input id="n" name="name">
    <label for="e">Email</label><input id="e" name="email" type="email">
    <label for="m">Message</label><textarea id="m" name="message"></textarea><button>Send</button></form>`;
  for (const [k, v] of Object.entries(values)) document.querySelector(`[name=${k}]`).value = v;
  const form = document.getElementById('f');
  form.addEventListener('input', (e) => {
    values[e.target.name] = e.target.value;
    if (!hydrated) { hydrated = true; render(); }  // the framework takes over: new nodes
  });
  form.addEventListener('submit', (e) => { e.preventDefault();
    fetch('/lead', {method: 'POST', body: new URLSearchParams(values)}).then(() => {
      document.getElementById('root').innerHTML = '<p>Thanks for reaching out!</p>'; }); });
}
render();
</script>""")


def test_it_starts_filling_again_when_the_page_rebuilds_the_form(make_site, contact):
    site = make_site({"/": REHYDRATED, "POST /lead": Reply("", status=204)})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert only_submission(site) == {"name": "Alice Buyer", "email": CUSTOMER.email, "message": CUSTOMER.message}


def test_a_plain_script_link_can_be_the_submit_control(make_site, contact):
    linked = PLAIN_FORM.replace('<button type="submit">Send Message</button>',
                                '<a href="#" onclick="document.forms[0].submit(); return false;">Send</a>')
    site = make_site({"/": linked, "POST /send": THANKS})
    result = contact(site.url)
    assert result.status == outcomes.SUBMITTED, result.error
    assert len(site.received) == 1
