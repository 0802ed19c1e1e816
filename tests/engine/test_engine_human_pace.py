"""Human pace: a form plugin's time trap and key-press check keep the lead when the engine
stays on the form page long enough and types; the wait leaves the engine loop free."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from contacts.engine import BrowserSession, contact_dealer, outcomes
from contacts.engine.animations import AnimationHold, hold_endless_animations
from contacts.engine.key_watch import KeyWatch
from contacts.engine.pace import KEYS_PER_ATTEMPT, MAX_KEY_DELAY_MS, MIN_KEY_DELAY_MS, MIN_KEYS_PER_FIELD, key_delay_ms, keys_per_field
from contacts.engine.runner import attempt_contact
from contacts.engine.types import Hooks
from tests.engine.conftest import CUSTOMER, OPTIONS, SITE_TEST_OPTIONS, STANDARD_CUSTOMER, THANKS, page

TRAP = "timed-lead-trap"  # tests/sites: drops leads < 3 s after the form was served, or untyped


def test_typing_is_spread_over_part_of_the_dwell_within_human_bounds():
    assert key_delay_ms(0, 200) == 0  # no dwell: no pacing
    assert key_delay_ms(5, 0) == 0
    assert key_delay_ms(5, 200) == 15  # 200 keys in 3 of the 5 seconds
    assert key_delay_ms(5, 5) == MAX_KEY_DELAY_MS
    assert key_delay_ms(1, 5000) == MIN_KEY_DELAY_MS


def test_a_few_keys_per_field_are_typed_shared_from_one_budget_per_form():
    assert keys_per_field(0) == 0
    assert keys_per_field(1) == KEYS_PER_ATTEMPT
    assert keys_per_field(5) * 5 >= KEYS_PER_ATTEMPT > keys_per_field(5) * 4  # shared, rounded up
    assert keys_per_field(40) == MIN_KEYS_PER_FIELD  # every field still starts with keys


@pytest.mark.browser
def test_without_the_wait_the_trap_drops_the_lead_yet_shows_thanks(fixture_server, browser_session):
    # Why the wait exists: the site says thanks, the engine believes it, the lead is gone.
    fixture_server.reset(TRAP)
    result = contact_dealer(fixture_server.url(TRAP), STANDARD_CUSTOMER, session=browser_session,
                            options=replace(SITE_TEST_OPTIONS, min_dwell_s=0))
    assert result.status == outcomes.SUBMITTED, result.error
    [lead] = fixture_server.submissions(TRAP)
    assert not lead.stored and lead.dropped.startswith("sent ")
    assert lead.value("frm_keys") == "0"  # filled at once: no key presses either


@pytest.mark.browser
def test_the_wait_keeps_the_lead_and_leaves_the_engine_loop_free(fixture_server, browser_session):
    fixture_server.reset(TRAP)
    dwell_s = 3
    options = replace(SITE_TEST_OPTIONS, min_dwell_s=dwell_s)
    attempt = browser_session.submit(
        attempt_contact(fixture_server.url(TRAP), STANDARD_CUSTOMER, session=browser_session, options=options))
    # While the attempt waits, the loop keeps answering: the wait is idle time other
    # attempts use. A blocking wait would hold each of these for the rest of the dwell.
    answered = 0
    while True:
        try:
            result = attempt.result(timeout=0.2)
            break
        except concurrent.futures.TimeoutError:
            browser_session.run(asyncio.sleep(0), timeout=dwell_s * 0.5)
            answered += 1
    assert result.status == outcomes.SUBMITTED, result.error
    [lead] = fixture_server.submissions(TRAP)
    assert lead.stored, lead.dropped
    assert int(lead.value("frm_keys")) >= len("Alice")  # typed key by key
    assert result.elapsed_s >= dwell_s and answered >= dwell_s  # it did wait, and the loop answered throughout


KEY_COUNTING_FORM = page("""
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Comments</label><input id="msg" name="comments">
  <input type="hidden" name="keys" value="0">
  <button type="submit">Send Message</button>
</form>
<script>document.forms[0].addEventListener('keydown', (e) => {
  const keys = document.forms[0].elements.keys; keys.value = String(Number(keys.value) + 1); });</script>""")


@pytest.mark.browser
def test_typing_at_pace_sends_whole_values_and_never_presses_enter_in_a_one_line_box(make_site, contact):
    site = make_site({"/": KEY_COUNTING_FORM, "POST /send": THANKS})
    customer = replace(CUSTOMER, message="Hello,\nI would like your best price on the 2024 RAV4 XLE.\nThanks, Alice")
    result = contact(site.url, customer=customer, min_dwell_s=1)
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in site.received]  # one submission: Enter never sent it early
    assert sent["comments"] == "Hello, I would like your best price on the 2024 RAV4 XLE. Thanks, Alice"
    assert (sent["first_name"], sent["email"]) == ("Alice", CUSTOMER.email)
    # The first keys of every field were pressed, the form's budget of them, not every
    # character (the rest went in at once, as autofill would).
    typed_characters = sum(len(v) for k, v in sent.items() if k != "keys")
    assert KEYS_PER_ATTEMPT <= int(sent["keys"]) < typed_characters / 2


@pytest.mark.browser
def test_a_cancel_during_the_wait_sends_nothing(fixture_server, browser_session):
    fixture_server.reset(TRAP)
    filling_since = []

    def on_phase(phase):
        if phase == outcomes.FILLING:
            filling_since.append(time.monotonic())

    def should_stop():
        # Well into the time on the form page: typing is done, the wait is not.
        return bool(filling_since) and time.monotonic() - filling_since[0] > 2.5

    result = contact_dealer(fixture_server.url(TRAP), STANDARD_CUSTOMER, session=browser_session,
                            options=replace(SITE_TEST_OPTIONS, min_dwell_s=8),
                            hooks=Hooks(on_phase=on_phase, should_stop=should_stop))
    assert result.status == outcomes.CANCELLED and not result.submit_pressed
    assert fixture_server.submissions(TRAP) == []
    assert result.elapsed_s < 8  # it stopped waiting when asked


def simple_form(action: str, above: str = "") -> str:
    """A page with a name, email and message form posting to `action`, below `above`."""
    return page(above + f"""<form method="post" action="{action}">
  <label for="n">Name *</label><input id="n" name="name" required>
  <label for="e">Email *</label><input id="e" name="email" type="email" required>
  <label for="m">Message</label><textarea id="m" name="message"></textarea>
  <button type="submit">Send</button></form>""")


def in_a_process_of_its_own(script: str) -> dict:
    """Run `script` in a fresh Python and return the JSON it prints last. The engine's busy
    places are fixed when a process's first attempt starts, so a test that needs a number
    of its own cannot share the test session's engine."""
    from tests.engine.test_engine_browser import _run_child

    child = _run_child(script)
    out, _ = child.communicate(timeout=180)
    assert child.returncode == 0
    return json.loads(out.splitlines()[-1])


@pytest.mark.browser
def test_an_attempt_waiting_on_its_form_lets_another_load_and_search_meanwhile():
    # One busy place only: if an attempt kept it through its typing and dwell, the other
    # could not even open its site before the first had sent. It gives it back instead.
    report = in_a_process_of_its_own("""
        import asyncio, json
        from dataclasses import replace
        from contacts.engine import BrowserSession
        from contacts.engine.runner import attempt_contact
        from tests.engine.conftest import CUSTOMER, OPTIONS, THANKS, Site
        from tests.engine.test_engine_human_pace import simple_form

        site = Site({"/a/": simple_form("/send-a"), "/b/": simple_form("/send-b"),
                     "POST /send-a": THANKS, "POST /send-b": THANKS})
        options = replace(OPTIONS, busy_attempts=1, min_dwell_s=2)

        async def both(session):
            return await asyncio.gather(*(attempt_contact(f"{site.url}{path}/", CUSTOMER, session=session,
                                                          options=options) for path in ("a", "b")))

        with BrowserSession(options) as session:
            results = session.run(both(session), timeout=60)
        site.close()
        print(json.dumps({"statuses": [r.status for r in results], "errors": [r.error for r in results],
                          "hits": site.hits}))
    """)
    assert report["statuses"] == [outcomes.SUBMITTED, outcomes.SUBMITTED], report["errors"]
    order = [hit for hit in report["hits"] if hit in ("GET /a/", "GET /b/", "POST /send-a", "POST /send-b")]
    assert sorted(order[:2]) == ["GET /a/", "GET /b/"], order  # both opened before either sent
    assert sorted(order[2:]) == ["POST /send-a", "POST /send-b"], order


# A form that reports what its scripts saw: key presses (where `listen` puts a keydown
# listener) and, for every field, how many `input` events changed it (one when the value
# went in at once, one per key and one for the rest when typed).
COUNTING_FIELDS = ("first_name", "last_name", "email", "comments")


def counting_form(action: str) -> str:
    return f"""<form method="post" action="{action}">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <input type="hidden" name="keys" value="0"><input type="hidden" name="inputs" value="{{}}">
  <button type="submit">Send Message</button>
</form>"""


def counting_script(root: str, listen: str | None) -> str:
    """`root` evaluates to the document or shadow root holding the form; `listen` to what
    gets the keydown listener (None: nothing listens for keys)."""
    keys = f"""({listen}).addEventListener('keydown', () => {{
    form.elements.keys.value = String(Number(form.elements.keys.value) + 1); }});""" if listen else ""
    return f"""<script>(() => {{
  const form = ({root}).querySelector('form');
  form.addEventListener('input', (e) => {{
    const seen = JSON.parse(form.elements.inputs.value); seen[e.target.name] = (seen[e.target.name] || 0) + 1;
    form.elements.inputs.value = JSON.stringify(seen); }});
  {keys}
}})();</script>"""


def shadow_page(action: str, listen: str) -> str:
    return page(f"""<div id="host"></div><script>
  document.getElementById('host').attachShadow({{mode: 'open'}}).innerHTML = {json.dumps(counting_form(action))};
</script>{counting_script("document.getElementById('host').shadowRoot", listen)}""")


def assert_typed_only(sent: dict, watched: set[str]) -> None:
    inputs = json.loads(sent["inputs"])
    for name in COUNTING_FIELDS:
        if name in watched:
            assert inputs[name] > MIN_KEYS_PER_FIELD, (name, inputs)  # key by key, then the rest
        else:
            assert inputs[name] == 1, (name, inputs)  # the whole value at once
    assert (int(sent["keys"]) > 0) == bool(watched), sent["keys"]


@pytest.mark.browser
def test_keys_are_pressed_only_in_the_field_a_script_listens_to(make_site, contact):
    body = counting_form("/send") + counting_script("document", "document.getElementById('fn')")
    site = make_site({"/": page(body), "POST /send": THANKS})
    result = contact(site.url, min_dwell_s=1)
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in site.received]
    assert (sent["first_name"], sent["email"], sent["comments"]) == ("Alice", CUSTOMER.email, CUSTOMER.message)
    assert_typed_only(sent, {"first_name"})


@pytest.mark.browser
def test_where_no_script_listens_for_keys_every_value_goes_in_at_once(make_site, contact):
    site = make_site({"/": page(counting_form("/send") + counting_script("document", None)), "POST /send": THANKS})
    result = contact(site.url, min_dwell_s=1)
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in site.received]
    assert_typed_only(sent, set())
    assert result.elapsed_s >= 1  # the wait itself still holds


@pytest.mark.browser
@pytest.mark.parametrize("where, listen, watched", [
    # Every key press in a document reaches its window and the document itself.
    ("frame", "window", True),
    ("cross-site frame", "document", True),
    # A key event inside a shadow root is passed on to its host.
    ("shadow root", "document.getElementById('host')", True),
    # Key events never leave their frame: the page around it cannot see them.
    ("frame, page listening", None, False),
])
def test_keys_are_pressed_where_a_listener_sees_them_through_frames_and_shadow_roots(make_site, contact, where, listen, watched):
    routes = {"POST /send": THANKS}
    inner = make_site({"/form": page(counting_form("/send") + counting_script("document", listen)), "POST /send": THANKS})
    if where == "shadow root":
        routes["/"] = shadow_page("/send", listen)
        site = make_site(routes)
        received = site.received
    else:
        form_url = inner.url + "form"
        if where == "cross-site frame":
            form_url = form_url.replace("127.0.0.1", "localhost")  # another site: a process of its own
        outer = "<script>document.addEventListener('keydown', () => {});</script>" if listen is None else ""
        site = make_site({"/": page(f'<h1>Contact us</h1><iframe src="{form_url}" width="600" height="500"></iframe>{outer}')})
        received = inner.received
    result = contact(site.url, min_dwell_s=1)
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in received]
    assert sent["first_name"] == "Alice"
    assert_typed_only(sent, set(COUNTING_FIELDS) if watched else set())


@pytest.mark.browser
@pytest.mark.parametrize("where, listen", [("page", "document"), ("shadow root", "document.getElementById('host')")])
def test_fields_of_the_pages_own_document_are_asked_about_all_at_once(make_site, browser_session, monkeypatch,
                                                                     where, listen):
    # Focusing each field and asking for it alone cost a batch about 0.05 CPU-s per dealer:
    # the page's own fields, open shadow roots included, are answered in one evaluation.
    one_at_a_time: list[str] = []
    real_watched = KeyWatch.watched

    async def watched(watch, frame, dc):
        one_at_a_time.append(dc)
        return await real_watched(watch, frame, dc)

    monkeypatch.setattr(KeyWatch, "watched", watched)
    body = (shadow_page("/send", listen) if where == "shadow root"
            else page(counting_form("/send") + counting_script("document", listen)))
    site = make_site({"/": body, "POST /send": THANKS})
    result = contact_dealer(site.url, CUSTOMER, session=browser_session, options=replace(OPTIONS, min_dwell_s=1))
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in site.received]
    assert_typed_only(sent, set(COUNTING_FIELDS))
    assert one_at_a_time == []


@pytest.mark.browser
@pytest.mark.parametrize("starts_on, watched", [("document", set(COUNTING_FIELDS)),
                                                ("document.getElementById('fn')", {"first_name"})],
                         ids=["the document, at the first focus", "one field, once it is focused"])
def test_keys_are_pressed_where_a_script_starts_listening_once_a_field_is_focused(make_site, contact,
                                                                                  starts_on, watched):
    # Asked before any field is focused, such a page has no key listener yet; the fields
    # whose path has a focus listener are asked about again once focused.
    lazy = f"""<script>(() => {{
  const form = document.querySelector('form');
  const count = () => {{ form.elements.keys.value = String(Number(form.elements.keys.value) + 1); }};
  ({starts_on}).addEventListener('focusin', (e) => e.currentTarget.addEventListener('keydown', count), {{once: true}});
}})();</script>"""
    site = make_site({"/": page(counting_form("/send") + counting_script("document", None) + lazy), "POST /send": THANKS})
    result = contact(site.url, min_dwell_s=1)
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in site.received]
    assert sent["first_name"] == "Alice"
    assert_typed_only(sent, watched)


# A form page that reports, when sent, what its scripts saw of the page while the engine
# was on it: the events a hidden, frozen or unfocused page gets, and how many timer ticks
# and animation frames ran against how long the page was open. Its spinner turns for nine
# seconds, longer than the visit but shorter than ENDLESS_S; its ticker turns for ever, as
# real dealer pages' promotions and chat buttons do.
WATCHFUL_FORM = page("""
<style>@keyframes turn { to { transform: rotate(360deg) } }
.spinner { width: 24px; height: 24px; border: 3px solid #08f; animation: turn 1s linear 9 }
.ticker { animation: turn 20s linear infinite }</style>
<div class="spinner"></div><div class="ticker">Today only: free oil change</div>
<form method="post" action="/send">
  <label for="n">Name *</label><input id="n" name="name" required>
  <label for="e">Email *</label><input id="e" name="email" type="email" required>
  <label for="m">Message</label><textarea id="m" name="message"></textarea>
  <input type="hidden" name="seen"><input type="hidden" name="ticks"><input type="hidden" name="frames">
  <input type="hidden" name="open_ms"><input type="hidden" name="state">
  <button type="submit">Send</button>
</form>
<script>(() => {
  const seen = [];
  for (const type of ['visibilitychange', 'pagehide', 'freeze', 'resume']) document.addEventListener(type, () => seen.push(type));
  for (const type of ['blur', 'focus']) window.addEventListener(type, () => seen.push('window ' + type));
  let ticks = 0, frames = 0;
  setInterval(() => { ticks += 1; }, 100);
  (function frame() { frames += 1; requestAnimationFrame(frame); })();
  const form = document.forms[0];
  form.addEventListener('submit', () => {
    form.elements.seen.value = seen.join(',');
    form.elements.ticks.value = ticks; form.elements.frames.value = frames;
    form.elements.open_ms.value = Math.round(performance.now());
    form.elements.state.value = document.visibilityState + (document.hasFocus() ? ' focused' : '');
  });
})();</script>""")

# Whether an element's animation moves on over the next few animation frames, once a
# pause or play asked of it has taken effect (both wait for the next frame: `ready`).
MOVES_ON_JS = """async (selector) => {
  const spin = document.querySelector(selector).getAnimations()[0];
  if (!spin) return null;  // finished
  await spin.ready;
  const before = spin.currentTime;
  let frames = 0;
  return new Promise((answer) => {
    (function frame() { if (++frames > 5) answer(spin.currentTime > before); else requestAnimationFrame(frame); })();
  });
}"""


@asynccontextmanager
async def page_open_on(session: BrowserSession, url: str):
    """A page of its own in a fresh context, at `url`; the context closed after."""
    context = await session.new_context()
    try:
        open_page = await context.new_page()
        await open_page.goto(url)
        yield open_page
    finally:
        await context.close()


async def spinners_moving(session: BrowserSession, origin: str, selector: str = ".spinner") -> list[bool]:
    """For every page open on `origin`: does its spinner (or `selector`) move on?"""
    return [await open_page.evaluate(MOVES_ON_JS, selector)
            for context in session.pool.current.browser.contexts
            for open_page in context.pages if open_page.url.startswith(origin)]


@pytest.mark.browser
def test_a_waiting_page_holds_its_animations_still_and_nothing_else(make_site, browser_session):
    site = make_site({"/": WATCHFUL_FORM, "POST /send": THANKS})
    through_the_visit: list[bool] = []
    at_the_click: list[bool] = []
    ticker: list[bool] = []

    async def should_stop():  # checked through the visit, and every half second of the wait
        through_the_visit.extend(await spinners_moving(browser_session, site.url))
        ticker.extend(await spinners_moving(browser_session, site.url, ".ticker"))
        return False

    async def on_submit_pressed():
        at_the_click.extend(await spinners_moving(browser_session, site.url))
        ticker.extend(await spinners_moving(browser_session, site.url, ".ticker"))

    result = contact_dealer(site.url, CUSTOMER, session=browser_session, options=replace(OPTIONS, min_dwell_s=3),
                            hooks=Hooks(should_stop=should_stop, on_submit_pressed=on_submit_pressed))
    assert result.status == outcomes.SUBMITTED, result.error
    # The spinner turned while the attempt searched and filled and stood still while it
    # waited; then it was moved on to its end, where it would have been had it turned on
    # through the wait, so nothing of it is left to draw through the click and after.
    assert False in through_the_visit and True in through_the_visit, through_the_visit
    assert at_the_click == [None]
    # The endless ticker held still from the first look to the click (animations.py).
    assert ticker and not any(ticker), ticker
    # The page noticed nothing else: visible and focused throughout, no event of a page
    # hidden or frozen, its timers and animation frames running all the while.
    [sent] = [r["data"] for r in site.received]
    assert (sent["name"], sent["email"]) == ("Alice Buyer", CUSTOMER.email)
    assert sent["seen"] == "" and sent["state"] == "visible focused", sent
    open_ms = int(sent["open_ms"])
    assert open_ms >= 3000
    assert int(sent["ticks"]) >= open_ms / 100 / 2, sent  # a tenth of a second each: at least half ran
    assert int(sent["frames"]) >= open_ms / 100, sent  # a frame every tenth of a second at least (60 a second unhindered)


@pytest.mark.browser
def test_the_animations_move_on_to_their_end_whatever_ends_the_wait(make_site, browser_session):
    site = make_site({"/": WATCHFUL_FORM})

    async def visit():
        async with page_open_on(browser_session, site.url) as open_page:
            hold = await hold_endless_animations(open_page)
            before = await spinners_moving(browser_session, site.url)
            with pytest.raises(RuntimeError):
                async with hold.everything_held():
                    inside = await spinners_moving(browser_session, site.url)
                    raise RuntimeError("cancelled")
            after = await spinners_moving(browser_session, site.url)
            await hold.release()
            return before, inside, after

    # The spinner (nine turns) runs through the visit and holds still for the wait; then it
    # is moved on to its end (nothing left of it), as after a wait that ran out.
    assert browser_session.run(visit(), timeout=30) == ([True], [False], [None])


# A dealer page's kinds of animation: ones that run long but end (eight turns), one of
# them inside a web component's shadow tree, one the page has paused itself, and a panel
# that slides open (a transition) when a script says so.
MOVING_PARTS = page("""
<style>@keyframes turn { to { transform: rotate(360deg) } }
.spinner, .stopped { width: 24px; height: 24px; border: 3px solid #08f; animation: turn 1s linear 8 }
.stopped { animation-play-state: paused }
.panel { height: 10px; overflow: hidden; transition: height 1.5s linear } .panel.open { height: 200px }</style>
<div class="spinner"></div><div class="stopped"></div><div class="panel">Sales</div><chat-button></chat-button>
<script>
customElements.define('chat-button', class extends HTMLElement {
  connectedCallback() {
    this.attachShadow({mode: 'open'}).innerHTML = '<style>@keyframes glow { 50% { opacity: .4 } }'
      + ' b { display: block; width: 20px; height: 20px; animation: glow 1s 8 }</style><b></b>';
  }
});
window.panelOpened = new Promise((done) => document.querySelector('.panel').addEventListener('transitionend', done));
</script>""")

# For each moving part: does it move on over the next few animation frames (once ready,
# as above)?
PARTS_MOVING_JS = """async () => {
  const parts = {
    spinner: document.querySelector('.spinner'), stopped: document.querySelector('.stopped'),
    panel: document.querySelector('.panel'), shadow: document.querySelector('chat-button').shadowRoot.querySelector('b'),
  };
  await Promise.all(Object.values(parts).map((el) => el.getAnimations()[0]?.ready));
  const before = Object.fromEntries(Object.entries(parts).map(([name, el]) => [name, el.getAnimations()[0]?.currentTime]));
  let frames = 0;
  return new Promise((answer) => {
    (function frame() {
      if (++frames <= 5) return requestAnimationFrame(frame);
      answer(Object.fromEntries(Object.entries(parts).map(([name, el]) => {
        const now = el.getAnimations()[0]?.currentTime;
        return [name, now === undefined ? 'none' : now > before[name]];
      })));
    })();
  });
}"""


@pytest.mark.browser
def test_a_held_page_holds_what_starts_meanwhile_and_what_other_sessions_leave(make_site, browser_session):
    site = make_site({"/": MOVING_PARTS})

    async def visit():
        async with page_open_on(browser_session, site.url) as open_page:
            hold = await hold_endless_animations(open_page)
            before = await open_page.evaluate(PARTS_MOVING_JS)
            async with hold.everything_held():
                await open_page.evaluate("() => document.querySelector('.panel').classList.add('open')")
                # Any other DevTools session on the page coming and going (as the key
                # listener check's does) must not set the page going again.
                other = await open_page.context.new_cdp_session(open_page)
                await other.send("Runtime.evaluate", {"expression": "1"})
                await other.detach()
                # The panel's transition is held as soon as it starts (or the wait times out).
                await open_page.wait_for_function(
                    "() => document.querySelector('.panel').getAnimations()[0]?.playState === 'paused'", timeout=5000)
                held = await open_page.evaluate(PARTS_MOVING_JS)
            after = await open_page.evaluate(PARTS_MOVING_JS)
            opened = await open_page.evaluate(
                "() => window.panelOpened.then(() => document.querySelector('.panel').offsetHeight)")
            await hold.release()
            return before, held, after, opened

    before, held, after, opened = browser_session.run(visit(), timeout=30)
    # None of them runs long enough to be held for the whole visit: they move until the wait.
    assert before == {"spinner": True, "stopped": False, "panel": "none", "shadow": True}
    assert held == {"spinner": False, "stopped": False, "panel": False, "shadow": False}
    # Afterwards each is moved on to its end, all but what the page had paused itself: the
    # panel is open, and the page was told so (its transitionend).
    assert after == {"spinner": "none", "stopped": False, "panel": "none", "shadow": "none"}
    assert opened == 200


# The same form on a page where nothing moves, where only an endless ticker does (held for
# the whole visit already), and where a spinner of nine turns runs as the form is filled.
STILL_FORM = simple_form("/send")
TICKER_ONLY_FORM = simple_form("/send", """<style>@keyframes turn { to { transform: rotate(360deg) } }
.ticker { animation: turn 20s linear infinite }</style><div class="ticker">Today only</div>""")
SHORT_SPIN_FORM = simple_form("/send", """<style>@keyframes turn { to { transform: rotate(360deg) } }
.spinner { width: 24px; height: 24px; border: 3px solid #08f; animation: turn 1s linear 9 }</style>
<div class="spinner"></div>""")


@pytest.mark.browser
@pytest.mark.parametrize("form, pauses", [(STILL_FORM, []), (TICKER_ONLY_FORM, [True]),
                                          (SHORT_SPIN_FORM, [True, False])],
                         ids=["nothing moves", "only an endless ticker", "a short spinner"])
def test_the_wait_pauses_only_what_moves(make_site, browser_session, monkeypatch, form, pauses):
    # Every pause and play is a protocol call: on a page where nothing moves the wait makes
    # none; the ticker is held once for the whole visit; the spinner for the wait only.
    calls: list[bool] = []
    real_set_paused = AnimationHold._set_paused

    async def set_paused(hold, animation_id, paused):
        calls.append(paused)
        return await real_set_paused(hold, animation_id, paused)

    monkeypatch.setattr(AnimationHold, "_set_paused", set_paused)
    site = make_site({"/": form, "POST /send": THANKS})
    result = contact_dealer(site.url, CUSTOMER, session=browser_session, options=replace(OPTIONS, min_dwell_s=2))
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in site.received]
    assert (sent["name"], sent["email"]) == ("Alice Buyer", CUSTOMER.email)
    assert result.elapsed_s >= 2  # the wait itself is kept either way
    assert calls == pauses


# A hero slider whose next slide is due while the attempt waits on the form: the page keeps
# note of its slide's state every 50 ms and at the submit, and sends the notes with the form.
LATE_SLIDE_FORM = simple_form("/send", """<style>.slides { transition: transform 1.5s linear }
.slides.next { transform: translateX(-50%) }</style><div class="slides">Spring Sales Event</div>
<script>(() => {
  const states = [];
  window.nextSlide = () => document.querySelector('.slides').classList.add('next');
  const note = () => {
    const slides = document.querySelector('.slides');
    const slide = slides.getAnimations()[0];
    const state = slide ? slide.playState : (slides.classList.contains('next') ? 'over' : '');
    if (state && states[states.length - 1] !== state) states.push(state);
  };
  setInterval(note, 50);
  document.addEventListener('submit', (event) => {
    note();
    const slides = document.querySelector('.slides');
    const offset = new DOMMatrix(getComputedStyle(slides).transform).m41;
    for (const [name, value] of [['slide', states.join(',')], ['slid', String(Math.abs(offset + slides.offsetWidth / 2) < 1)]]) {
      const notes = document.createElement('input');
      notes.type = 'hidden'; notes.name = name; notes.value = value;
      event.target.appendChild(notes);
    }
  });
})();</script>""")


@pytest.mark.browser
def test_the_wait_holds_what_starts_during_it(make_site, browser_session, monkeypatch):
    # Nothing moved before the wait, so nothing was running to hold when it began.
    from contacts.engine import runner

    real_dwell = runner.dwell

    async def dwell_with_a_slide_due(frame, *args, **kwargs):
        async def slide_soon():
            await asyncio.sleep(0.3)
            await frame.evaluate("() => window.nextSlide()")

        slide = asyncio.ensure_future(slide_soon())
        try:
            return await real_dwell(frame, *args, **kwargs)
        finally:
            await slide

    monkeypatch.setattr(runner, "dwell", dwell_with_a_slide_due)
    site = make_site({"/": LATE_SLIDE_FORM, "POST /send": THANKS})
    result = contact_dealer(site.url, CUSTOMER, session=browser_session, options=replace(OPTIONS, min_dwell_s=4))
    assert result.status == outcomes.SUBMITTED, result.error
    [sent] = [r["data"] for r in site.received]
    assert (sent["name"], sent["email"]) == ("Alice Buyer", CUSTOMER.email)
    # The slide held still from the moment it started until the wait was over, and was
    # then moved on to its end: at the submit it is over, where it would have been by then
    # had it run (its 1.5 s ran out during the wait), not still sliding.
    states = sent["slide"].split(",")
    assert states[:2] == ["paused", "over"] or states[:3] == ["running", "paused", "over"], states
    assert states[-1] == "over" and sent["slid"] == "true", sent


@pytest.mark.browser
def test_an_attempt_back_from_its_wait_submits_before_another_starts():
    # With one place: `a` gives it back to wait on its form; `c` takes it and is held
    # loading; `d` queues to start; `a` comes back to submit after `d`, and still gets the
    # place first, once `c` lets go.
    report = in_a_process_of_its_own("""
        import asyncio, json, threading
        from dataclasses import replace
        from contacts.engine import BrowserSession, outcomes
        from contacts.engine.runner import attempt_contact
        from contacts.engine.types import Hooks
        from tests.engine.conftest import CUSTOMER, OPTIONS, THANKS, Reply, Site
        from tests.engine.test_engine_human_pace import simple_form

        release = threading.Event()

        def held_back(_request):
            release.wait(30)
            return Reply(simple_form("/send-c"))

        site = Site({"/a/": simple_form("/send-a"), "/c/": held_back, "/d/": simple_form("/send-d"),
                     "POST /send-a": THANKS, "POST /send-c": THANKS, "POST /send-d": THANKS})
        options = replace(OPTIONS, busy_attempts=1, min_dwell_s=1)

        async def until(condition):
            while not condition():
                await asyncio.sleep(0.01)

        async def scenario(session):
            gate, phases = session.pool.busy_gate(options), []

            def contact(name, hooks=Hooks()):
                return asyncio.create_task(attempt_contact(f"{site.url}{name}/", CUSTOMER, session=session,
                                                           options=options, hooks=hooks))

            a = contact("a", Hooks(on_phase=phases.append))
            await until(lambda: outcomes.FILLING in phases)
            c = contact("c")
            await until(lambda: "GET /c/" in site.hits)
            d = contact("d")
            await until(lambda: gate.waiting() == 2)  # d to start, then a to submit
            release.set()
            return await asyncio.gather(a, c, d)

        with BrowserSession(options) as session:
            results = session.run(scenario(session), timeout=90)
        site.close()
        print(json.dumps({"statuses": [r.status for r in results], "hits": site.hits}))
    """)
    assert report["statuses"] == [outcomes.SUBMITTED] * 3
    hits = [hit for hit in report["hits"] if hit in ("GET /d/", "POST /send-a")]
    assert hits == ["POST /send-a", "GET /d/"], report["hits"]
