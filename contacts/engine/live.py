"""The live view: the person solves a CAPTCHA in the engine's own page, and the engine sends.

`live_contact` opens the dealer's site in a context of its own, finds and fills the form
as `attempt_contact` does, and stops where that would report `captcha`. From then on the
page is the person's to look at and touch, through a `LiveLink`: the page streams as JPEG
screencast frames (CDP Page.startScreencast), and the clicks, scrolls and keys the person
sends are dispatched to it as trusted input (Playwright's mouse and keyboard, which are
CDP Input.dispatch*Event). The engine watches:

- once the CAPTCHA's response token is set (`SOLVED_JS`: a g-recaptcha-response,
  h-captcha-response, cf-turnstile-response, frc-captcha-solution or other
  `*captcha*-response/-token` field is not empty), it presses submit itself, exactly as
  the runner does (on_submit_pressed first, then one press) and verifies;
- a click on the form's own submit control, or Enter in one of its fields, may send it:
  on_submit_pressed is recorded before that input reaches the page, and if a submission
  request follows, the engine verifies it and stops taking input.

Everything stays in that one page: popups are closed as they open, downloads are refused
by the context, and the context comes from the same pool (behind the egress proxy). The
view ends at `limit_s`, when the link is stopped (the viewer left or closed it), or after
the verdict; the context is always closed. No Django here: the worker's thread owns the
channel to the viewer and the database (contacts/liveview.py).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

from contacts.engine import captcha, outcomes
from contacts.engine.clock import Cancelled, Clock, TimedOut
from contacts.engine.filling import FillProblem
from contacts.engine.finding import SiteChallenge, dismiss_overlays, find_contact_form
from contacts.engine.pages import PageProblem, open_page, settle
from contacts.engine.runner import (
    Attempt,
    Outcome,
    _broke,
    _close_quietly,
    _fill_all_steps,
    _refuse_private_target,
    normalise_url,
)
from contacts.engine.runtime import VIEWPORT, BrowserSession
from contacts.engine.submitting import press
from contacts.engine.types import (
    ContactResult,
    Customer,
    EngineOptions,
    Hooks,
    call_hook,
)
from contacts.engine.verifying import start_watch, stop_watch, verify

log = logging.getLogger(__name__)

FRAME_QUALITY = 60
INPUT_POLL_S = 0.03
SOLVED_CHECK_S = 0.3
# After an input that may have sent the form: how long to wait for its request to start.
SUBMISSION_START_S = 1.5
VERIFY_BUDGET_S = 20.0
MAX_TEXT = 200
# Keys a person needs to fill a form or answer a challenge; nothing that opens browser UI.
NAMED_KEYS = {
    "Enter", "Tab", "Backspace", "Delete", "Escape", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown",
    "Home", "End", "PageUp", "PageDown", " ",
}

# Whether the challenge on the form's page has been answered: the response field every
# widget writes its token into is set. The field names are the widgets' own and the
# general pattern they share (…captcha…-response / -solution / -token).
SOLVED_JS = r"""() => {
  const named = /(^|[-_])(g-recaptcha|h-captcha|cf-turnstile|frc-captcha|[a-z]*captcha)[-_]?(response|solution|token)$/i;
  for (const el of document.querySelectorAll('textarea, input')) {
    const key = el.name || el.id || '';
    if (named.test(key) && (el.value || '').trim()) return key;
  }
  return '';
}"""

# What a click at (x, y) would land on, in the frame that holds the form: whether it is
# one of that form's submit controls (a person pressing the site's own Send button).
SUBMIT_AT_JS = r"""([x, y, dc]) => {
  const form = document.querySelector(`[data-dc="${dc}"]`);
  let el = document.elementFromPoint(x, y);
  el = el && el.closest('button, input, [role=button], a');
  if (!el || !form) return false;
  const inForm = form.contains(el) || (el.form && el.form === form);
  if (!inForm) return false;
  const type = (el.getAttribute('type') || (el.tagName === 'BUTTON' ? 'submit' : '')).toLowerCase();
  return type === 'submit' || type === 'image' || /submit|send/i.test(el.className + ' ' + (el.textContent || el.value || ''));
}"""

# Enter in a single-line field of the form submits it (implicit submission).
ENTER_SUBMITS_JS = r"""(dc) => {
  const form = document.querySelector(`[data-dc="${dc}"]`);
  const el = document.activeElement;
  return !!(form && el && form.contains(el) && el.tagName === 'INPUT' &&
            !['checkbox', 'radio', 'button', 'file', 'hidden'].includes((el.type || '').toLowerCase()));
}"""


class LiveViewClosed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LiveLink:
    """The engine's side of the live view, shared with the worker thread that carries it
    to the viewer. Thread-safe: the worker thread puts input events and stop requests in,
    and takes the latest frame out; the engine loop does the opposite."""

    inputs: queue.Queue[dict] = field(default_factory=queue.Queue)
    frame_seq: int = 0
    frame: bytes = b""
    state: str = "opening"  # opening, live, sending, closed
    stop_reason: str = ""
    # While a press of submit is on its way: a form that answers in a new tab
    # (target="_blank") keeps it, for the verdict to read; other popups are closed.
    submitting: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # the worker thread's side
    def stop(self, reason: str) -> None:
        with self._lock:
            self.stop_reason = self.stop_reason or reason

    def latest_frame(self, after_seq: int) -> tuple[int, bytes] | None:
        with self._lock:
            return (self.frame_seq, self.frame) if self.frame_seq > after_seq else None

    # the engine's side
    def put_frame(self, jpeg: bytes) -> None:
        with self._lock:
            self.frame_seq += 1
            self.frame = jpeg

    def stopped(self) -> str:
        with self._lock:
            return self.stop_reason


class Screencast:
    """The page's screencast: each frame acknowledged at once and kept as the latest."""

    def __init__(self, cdp, link: LiveLink) -> None:
        self.cdp = cdp
        self.link = link

    @classmethod
    async def start(cls, context, page, link: LiveLink) -> Screencast:
        cdp = await context.new_cdp_session(page)
        cast = cls(cdp, link)
        cdp.on("Page.screencastFrame", cast._on_frame)
        await cdp.send("Page.startScreencast", {
            "format": "jpeg", "quality": FRAME_QUALITY,
            "maxWidth": VIEWPORT["width"], "maxHeight": VIEWPORT["height"], "everyNthFrame": 1,
        })
        return cast

    def _on_frame(self, params: dict) -> None:
        self.link.put_frame(base64.b64decode(params["data"]))
        # Chromium sends the next frame only once this one is acknowledged.
        asyncio.ensure_future(self._ack(params["sessionId"]))

    async def _ack(self, session_id: int) -> None:
        try:
            await self.cdp.send("Page.screencastFrameAck", {"sessionId": session_id})
        except PlaywrightError:
            pass  # the page is closing

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.cdp.send("Page.stopScreencast"), 2)
            await asyncio.wait_for(self.cdp.detach(), 2)
        except Exception:
            pass


def _clamp(value, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return low
    return min(max(number, low), high)


def clean_input(event: dict) -> dict | None:
    """An input event as the viewer sent it, reduced to what may be dispatched, or None."""
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    x = _clamp(event.get("x"), 0, VIEWPORT["width"] - 1)
    y = _clamp(event.get("y"), 0, VIEWPORT["height"] - 1)
    if kind == "click":
        return {"type": "click", "x": x, "y": y}
    if kind == "wheel":
        return {"type": "wheel", "x": x, "y": y, "dx": _clamp(event.get("dx"), -3000, 3000),
                "dy": _clamp(event.get("dy"), -3000, 3000)}
    if kind == "key" and event.get("key") in NAMED_KEYS:
        return {"type": "key", "key": event["key"]}
    if kind == "text" and isinstance(event.get("text"), str):
        text = "".join(ch for ch in event["text"][:MAX_TEXT] if ch.isprintable())
        return {"type": "text", "text": text} if text else None
    if kind == "close":
        return {"type": "close"}
    return None


async def dispatch(page, event: dict) -> None:
    """One input event as trusted browser input (CDP Input.dispatch*Event underneath)."""
    if event["type"] == "click":
        await page.mouse.click(event["x"], event["y"])
    elif event["type"] == "wheel":
        await page.mouse.move(event["x"], event["y"])
        await page.mouse.wheel(event["dx"], event["dy"])
    elif event["type"] == "key":
        await page.keyboard.press(event["key"])
    elif event["type"] == "text":
        await page.keyboard.type(event["text"])


def _close_popup(page, kept, link: LiveLink) -> None:
    if page is not kept and not link.submitting:
        asyncio.ensure_future(page.close())


async def live_contact(
    website_url: str,
    customer: Customer,
    *,
    session: BrowserSession,
    link: LiveLink,
    limit_s: float,
    options: EngineOptions | None = None,
    hooks: Hooks | None = None,
) -> ContactResult:
    """Open and fill the dealer's form, hand the page to the person through `link` until
    the challenge is solved (then submit and verify) or the view closes.

    The result is `captcha` with the reason when the view closed before anything was
    sent; otherwise the verdict, as attempt_contact reports it. Never raises for anything
    a site or the person does; the context is always closed.
    """
    options = options or session.options
    attempt = Attempt(customer, options, hooks or Hooks())
    context = cast = None
    try:
        async with asyncio.timeout(options.timeout_s + limit_s + VERIFY_BUDGET_S):
            url = normalise_url(website_url)
            await _refuse_private_target(url, options)
            context = await session.pool.new_context(options)
            attempt.page = await context.new_page()
            # No new tabs or windows: whatever opens one (a link, window.open) is closed.
            context.on("page", lambda opened: _close_popup(opened, attempt.page, link))
            cast = await Screencast.start(context, attempt.page, link)
            frame, form, button = await _open_and_fill(attempt, url)
            link.state = "live"
            await _hand_over(attempt, frame, form, button, link, limit_s)
    except LiveViewClosed as closed:
        attempt.result.status, attempt.result.error = outcomes.CAPTCHA, closed.reason
    except Outcome as done:
        attempt.result.status, attempt.result.error = done.status, done.error
    except Cancelled:
        attempt.result.status, attempt.result.error = outcomes.CAPTCHA, "The live view was closed; nothing was sent."
    except (TimedOut, TimeoutError):
        if attempt.result.submit_pressed:
            attempt.result.status, attempt.result.error = outcomes.UNCONFIRMED, "Submitted, but the site did not confirm in time."
        else:
            attempt.result.status = outcomes.CAPTCHA
            attempt.result.error = f"The live view timed out while {attempt.phase or 'starting'}; nothing was sent."
    except Exception as exc:  # a bug or a browser crash must still produce a result
        _broke(attempt, exc)
    finally:
        link.state = "closed"
        result = attempt.finish()
        if cast is not None:
            await cast.stop()
        await _close_quietly(attempt.page, context)
    return result


async def _open_and_fill(attempt: Attempt, url: str):
    """The runner's path up to the filled form, without its CAPTCHA stop."""
    page, clock, options = attempt.page, attempt.clock, attempt.options
    await attempt.enter(outcomes.OPENING)
    try:
        await open_page(page, url, min(options.navigation_timeout_ms, clock.remaining_ms()))
    except PageProblem as problem:
        raise Outcome(outcomes.FAILED, str(problem)) from None
    await settle(page, min(3000, clock.remaining_ms()))
    await attempt.enter(outcomes.FINDING_FORM)
    try:
        found = await find_contact_form(page, page.url or url, clock, options.navigation_timeout_ms,
                                       attempt.customer.vehicle)
    except SiteChallenge as challenge:
        raise Outcome(outcomes.CAPTCHA, f"{challenge} The live view shows forms, not whole-site challenges.") from None
    if found is None:
        raise Outcome(outcomes.NO_FORM, "No contact form was found on the site.")
    frame, form = found.scan.frame, found.form
    guard = captcha.captcha_guarding(form, found.scan.data)
    await attempt.enter(outcomes.FILLING)
    await dismiss_overlays(page)
    try:
        form, button = await _fill_all_steps(attempt, frame, form)
    except FillProblem as problem:
        raise Outcome(outcomes.FAILED, str(problem)) from None
    await attempt.screenshot("form")
    if not guard:
        # The site dropped its CAPTCHA since the attempt met it: nothing for the person to do.
        log.info("live view: no CAPTCHA guards the form any more; sending as usual")
    return frame, form, button


def _form_submissions(watch, page, frame) -> list:
    """The requests a watch saw that can only be the form going out: a POST (document,
    XHR or fetch) from the form's frame or the page itself. A CAPTCHA widget's own calls
    come from its frame and are not the form's."""
    found = []
    for request in watch.requests:
        try:
            if request.method != "GET" and request.frame in (frame, page.main_frame):
                found.append(request)
        except PlaywrightError:
            continue
    return found


def _site_of(url: str) -> str:
    """The site an address belongs to, for keeping the person on the dealer's: its host and
    port, with or without www."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}:{parts.port}" if parts.port else host


async def _keep_on_site(page) -> None:
    """The person may follow the dealer's own links, never leave for another site: a
    top-level GET to another site is refused. A form's POST may go wherever the form sends
    it (forms post to CRMs), and redirects after it are the site's answer."""
    site = _site_of(page.url)

    async def guard(route) -> None:
        request = route.request
        try:
            leaving = (request.is_navigation_request() and request.method == "GET"
                       and request.frame == page.main_frame and _site_of(request.url) != site)
            await (route.abort("blockedbyclient") if leaving else route.continue_())
        except PlaywrightError:
            pass  # the page closed meanwhile

    await page.route("**/*", guard)


async def _hand_over(attempt: Attempt, frame, form: dict, button: dict, link: LiveLink, limit_s: float) -> None:
    page = attempt.page
    await _keep_on_site(page)
    # Clicks made on the frames of a form still being filled were aimed at a page that
    # has moved since: they are dropped, not replayed.
    while not link.inputs.empty():
        try:
            link.inputs.get_nowait()
        except queue.Empty:
            break
    # Whatever sends the form without passing through the two ways below (a script's
    # delayed send, a control that does not look like submit) is still seen, recorded and
    # verified: the form is never sent twice, and never sent unrecorded.
    sentinel = await start_watch(page, frame, form["dc"])
    try:
        await _take_input(attempt, frame, form, button, link, limit_s, sentinel)
    finally:
        stop_watch(page, sentinel)


async def _take_input(attempt: Attempt, frame, form: dict, button: dict, link: LiveLink, limit_s: float,
                      sentinel) -> None:
    page = attempt.page
    deadline = time.monotonic() + limit_s
    next_check = 0.0
    while True:
        if _form_submissions(sentinel, page, frame):
            await call_hook(attempt.hooks.on_submit_pressed)
            attempt.result.submit_pressed = True
            link.state = "sending"
            return await _verdict(attempt, frame, form, sentinel)
        if reason := link.stopped():
            raise LiveViewClosed(reason)
        if time.monotonic() >= deadline:
            raise LiveViewClosed(f"The live view closed after its {limit_s:g} s limit; nothing was sent.")
        event = None
        try:
            event = clean_input(link.inputs.get_nowait())
        except queue.Empty:
            pass
        if event is None:
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + SOLVED_CHECK_S
                if await _solved(frame):
                    return await _send(attempt, frame, form, button, link)
            await asyncio.sleep(INPUT_POLL_S)
            continue
        if event["type"] == "close":
            raise LiveViewClosed("The live view was closed before the CAPTCHA was solved; nothing was sent.")
        if await _may_submit(page, frame, form, event):
            if await _send_by_person(attempt, frame, form, event, link):
                return
            continue
        try:
            await dispatch(page, event)
        except PlaywrightError as exc:
            log.info("live view input not delivered: %s", exc)


async def _solved(frame) -> bool:
    try:
        return bool(await frame.evaluate(SOLVED_JS))
    except PlaywrightError:
        return False  # navigating; asked again in a moment


async def _may_submit(page, frame, form: dict, event: dict) -> bool:
    """Whether this input could send the form, so that it is recorded before it is delivered."""
    try:
        if event["type"] == "click":
            x, y = event["x"], event["y"]
            if frame is not page.main_frame:
                box = await (await frame.frame_element()).bounding_box()
                if box is None:
                    return False
                x, y = x - box["x"], y - box["y"]
            return bool(await frame.evaluate(SUBMIT_AT_JS, [x, y, form["dc"]]))
        if event["type"] == "key" and event["key"] == "Enter":
            return bool(await frame.evaluate(ENTER_SUBMITS_JS, form["dc"]))
    except PlaywrightError:
        return True  # unsure: record first, as a press that might send must be
    return False


async def _send(attempt: Attempt, frame, form: dict, button: dict, link: LiveLink) -> None:
    """The challenge is solved: one press of submit, as the runner makes it, and the verdict."""
    link.state = "sending"
    await attempt.enter(outcomes.SUBMITTING, may_stop=False)
    watch = await start_watch(attempt.page, frame, form["dc"])
    if await call_hook(attempt.hooks.on_submit_pressed) is False:
        # The caller refused the click (the form was already sent once): never twice.
        stop_watch(attempt.page, watch)
        raise LiveViewClosed("This form was already sent once; it is not sent again.")
    attempt.result.submit_pressed = True
    link.submitting = True
    try:
        await press(frame, button)
        await _verdict(attempt, frame, form, watch)
    finally:
        stop_watch(attempt.page, watch)


async def _send_by_person(attempt: Attempt, frame, form: dict, event: dict, link: LiveLink) -> bool:
    """The person pressed the site's own submit (or Enter in a field): recorded first, then
    delivered. True when a submission followed and has its verdict; False when the page
    kept it back (its own validation, the CAPTCHA not yet solved) and the view goes on."""
    page = attempt.page
    watch = await start_watch(page, frame, form["dc"])
    await call_hook(attempt.hooks.on_submit_pressed)
    link.submitting = True
    try:
        await dispatch(page, event)
        started = time.monotonic()
        while not _form_submissions(watch, page, frame) and time.monotonic() - started < SUBMISSION_START_S:
            await asyncio.sleep(0.05)
        if not _form_submissions(watch, page, frame):
            link.submitting = False
            return False
        link.state = "sending"
        attempt.result.submit_pressed = True
        await attempt.enter(outcomes.SUBMITTING, may_stop=False)
        await _verdict(attempt, frame, form, watch)
        return True
    finally:
        stop_watch(page, watch)


async def _verdict(attempt: Attempt, frame, form: dict, watch) -> None:
    await attempt.enter(outcomes.VERIFYING, may_stop=False)
    clock = Clock(VERIFY_BUDGET_S, lambda: False)
    status, error = await verify(attempt.page, frame, form["dc"], watch, clock)
    await settle(attempt.page, 1500)
    await attempt.screenshot("result")
    attempt.result.status, attempt.result.error = status, error
