"""One attempt to reach one dealer, from opening the site to the verdict.

`attempt_contact` is the engine itself, a coroutine on the engine loop; `contact_dealer`
runs it from any other thread and waits.
"""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

from contacts.engine import captcha, outcomes
from contacts.engine.animations import AnimationHold, hold_endless_animations
from contacts.engine.busy import BusyPlace
from contacts.engine.clock import Cancelled, Clock, TimedOut
from contacts.engine.filling import FillProblem, fill_form
from contacts.engine.finding import SiteChallenge, dismiss_overlays, find_contact_form
from contacts.engine.network_guard import EgressPolicy, HostNotFound, RefusedAddress
from contacts.engine.pace import dwell
from contacts.engine.pages import PageProblem, open_page, settle
from contacts.engine.platform import site_platform
from contacts.engine.planning import UnfillableField
from contacts.engine.review import Review, fingerprint, reason_to_stop
from contacts.engine.runtime import BrowserSession
from contacts.engine.resources import install_resource_blocking
from contacts.engine.form_choice import best_contact_form
from contacts.engine.scanning import scan_frame, scan_frames
from contacts.engine.stepping import StepProblem, asks_how_to_reply, field_key, leads_on, next_step
from contacts.engine.submitting import next_button, press, submit_button
from contacts.engine.types import ContactResult, Customer, EngineOptions, Hooks, call_hook
from contacts.engine.verifying import start_watch, stop_watch, verify

MAX_STEPS = 5  # pages of a multi-step form
SCREENSHOT_TIMEOUT_MS = 4000
CLOSE_TIMEOUT_MS = 5000
# Past its own timeout an attempt still closes its context (bounded above); beyond this
# the engine loop is taken to be blocked.
ENGINE_GRACE_S = 30


class Outcome(Exception):
    """Ends the attempt early with a status and a one-line reason."""

    def __init__(self, status: str, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class Attempt:
    """The state of one attempt, so every exit path can report what it got to."""

    def __init__(self, customer: Customer, options: EngineOptions, hooks: Hooks, review: Review | None = None) -> None:
        self.customer = customer
        self.review = review
        self.options = options
        self.hooks = hooks
        self.clock = Clock(options.timeout_s, hooks.should_stop)
        self.result = ContactResult(status=outcomes.FAILED)
        self.phase = ""
        self._phase_started = 0.0
        self.page = None
        self.busy: BusyPlace | None = None
        self.decoration: AnimationHold | None = None  # the visit's hold on endless animations

    async def enter(self, phase: str, *, may_stop: bool = True) -> None:
        self._close_phase()
        self.phase = phase
        self._phase_started = time.monotonic()
        if phase == outcomes.FINDING_FORM and not self.result.platform:
            # The site's own page has loaded and settled: the best moment to see what it runs on.
            self.result.platform = await site_platform(self.page)
        await call_hook(self.hooks.on_phase, phase)
        if may_stop:
            await self.clock.check()

    def _close_phase(self) -> None:
        if self.phase:
            spent = time.monotonic() - self._phase_started
            self.result.phase_timings[self.phase] = round(self.result.phase_timings.get(self.phase, 0) + spent, 3)

    async def screenshot(self, name: str) -> None:
        if self.page is None:
            return
        try:
            self.result.screenshots[name] = await self.page.screenshot(
                type="jpeg", quality=60, timeout=SCREENSHOT_TIMEOUT_MS
            )
        except (PlaywrightError, asyncio.TimeoutError):
            pass  # evidence is welcome, never essential

    def finish(self) -> ContactResult:
        self._close_phase()
        if self.page is not None:
            try:
                self.result.final_url = self.page.url
            except PlaywrightError:
                pass
        self.result.elapsed_s = round(self.clock.elapsed_s(), 3)
        return self.result


WEB_SCHEMES = ("http", "https")
# A scheme ("javascript:", "file:") as opposed to a port ("dealer.com:8080").
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(?!\d)", re.IGNORECASE)


def normalise_url(url: str) -> str:
    """The http(s) address to open for what a dealer's website field holds ("dealer.com"
    means https://dealer.com). Any other scheme (file:, data:, javascript:, chrome:,
    ftp:, about:, blob:) ends the attempt: the engine opens web sites and nothing else."""
    url = re.sub(r"[\t\n\r]", "", url).strip()  # as a browser would read it
    if _SCHEME.match(url) is None:
        url = "https://" + url.lstrip("/")
    parts = urlsplit(url)
    if parts.scheme.lower() not in WEB_SCHEMES:
        raise Outcome(outcomes.FAILED,
                      f"Only web addresses (http or https) can be contacted, not {parts.scheme.lower()}: ones.")
    if not parts.hostname:
        raise Outcome(outcomes.FAILED, f"Not a web address: {url[:100]}")
    return url


def contact_dealer(
    website_url: str,
    customer: Customer,
    *,
    session: BrowserSession,
    options: EngineOptions | None = None,
    hooks: Hooks | None = None,
    review: Review | None = None,
) -> ContactResult:
    """attempt_contact() from any thread but the engine's: runs it there and waits.

    The attempt ends itself at its timeout; if it has not within ENGINE_GRACE_S more, it
    is cancelled, the engine loop is replaced if it has stopped answering, and this
    raises TimeoutError.
    """
    options = options or session.options
    try:
        return session.run(
            attempt_contact(website_url, customer, session=session, options=options, hooks=hooks, review=review),
            timeout=options.timeout_s + ENGINE_GRACE_S,
        )
    except TimeoutError:
        session.abandon_engine_if_blocked()
        raise


async def attempt_contact(
    website_url: str,
    customer: Customer,
    *,
    session: BrowserSession,
    options: EngineOptions | None = None,
    hooks: Hooks | None = None,
    review: Review | None = None,
) -> ContactResult:
    """Find the dealer's contact form, fill it for `customer`, submit once, and report.

    With a `review` (engine/review.py) it stops at the filled form as `awaiting_review`
    with the fields and the form's fingerprint, or sends the person's approved values if
    the form is still the one they reviewed.

    Never raises for anything a site does; the result says what happened. The whole
    attempt, navigations included, is cut off at `options.timeout_s`; closing its
    context afterwards is bounded too.
    """
    options = options or session.options
    attempt = Attempt(customer, options, hooks or Hooks(), review)
    context = None
    try:
        async with asyncio.timeout(options.timeout_s):
            url = normalise_url(website_url)
            await _refuse_private_target(url, options)
            attempt.busy = BusyPlace(session.pool.busy_gate(options))
            await attempt.busy.take()
            context = await session.pool.new_context(options)
            await install_resource_blocking(context)
            attempt.page = await context.new_page()
            attempt.decoration = await hold_endless_animations(attempt.page)  # frames nobody sees
            await _run(attempt, url)
    except Outcome as done:
        attempt.result.status, attempt.result.error = done.status, done.error
        if attempt.phase == outcomes.FILLING and "form" not in attempt.result.screenshots:
            await attempt.screenshot("form")  # shows the person which field stopped us
    except Cancelled:
        attempt.result.status, attempt.result.error = outcomes.CANCELLED, "Cancelled before submitting."
    except (TimedOut, TimeoutError):
        _timed_out(attempt)
    except PlaywrightError as exc:
        if attempt.clock.remaining_s() <= 0:
            _timed_out(attempt)
        else:
            _broke(attempt, exc)
    except Exception as exc:  # a bug or a browser crash must still produce a result
        _broke(attempt, exc)
    finally:
        if attempt.busy is not None:
            attempt.busy.give_back()
        result = attempt.finish()
        if not result.platform:
            result.platform = await site_platform(attempt.page)
        await _close_quietly(attempt.page, context)
    return result


def _timed_out(attempt: Attempt) -> None:
    if attempt.result.submit_pressed:
        attempt.result.status = outcomes.UNCONFIRMED
        attempt.result.error = "Submitted, but the site did not confirm in time."
    else:
        attempt.result.status = outcomes.FAILED
        attempt.result.error = f"Timed out after {attempt.options.timeout_s:g} s while {attempt.phase or 'starting'}."


def _broke(attempt: Attempt, exc: Exception) -> None:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    if attempt.result.submit_pressed:
        attempt.result.status = outcomes.UNCONFIRMED
        attempt.result.error = f"Submitted, but checking the result failed: {first_line}"
    else:
        attempt.result.status = outcomes.FAILED
        attempt.result.error = f"The browser failed while {attempt.phase or 'starting'}: {first_line}"


async def _close_quietly(page, context) -> None:
    for closable in (page, context):
        if closable is None:
            continue
        try:
            closing = closable.close(reason="attempt finished") if closable is context else closable.close()
            await asyncio.wait_for(closing, CLOSE_TIMEOUT_MS / 1000)
        except Exception:
            pass  # a crashed browser has already let go of it; a hung one is recycled


async def _refuse_private_target(url: str, options: EngineOptions) -> None:
    """The egress proxy's rule, applied to the start address before any browser work, so
    that a refusal there is a sentence rather than a blocked page."""
    parts = urlsplit(url)
    policy = EgressPolicy(options.egress_allowlist)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await asyncio.to_thread(policy.address_for, parts.hostname, port)
    except HostNotFound:
        raise Outcome(outcomes.FAILED, "The site's address could not be found (DNS lookup failed).") from None
    except RefusedAddress as refused:
        raise Outcome(outcomes.FAILED, f"Refusing to contact a private network address ({refused.address}).") from None
    except ValueError:
        raise Outcome(outcomes.FAILED, f"Not a web address: {url[:100]}") from None


async def _run(attempt: Attempt, url: str) -> None:
    page, clock, options = attempt.page, attempt.clock, attempt.options

    await attempt.enter(outcomes.OPENING)
    budget_ms = min(options.navigation_timeout_ms, clock.remaining_ms())
    try:
        response = await open_page(page, url, budget_ms)
    except PageProblem as problem:
        # A navigation cut short by our own deadline is a timeout: given all the time that was
        # left (whole milliseconds, so it may end a hair before the deadline), it ends at it.
        if budget_ms < options.navigation_timeout_ms and clock.remaining_s() < 0.1:
            raise TimedOut() from None
        await clock.check()
        raise Outcome(outcomes.FAILED, str(problem)) from None
    await settle(page, min(3000, clock.remaining_ms()))
    await clock.check()

    await attempt.enter(outcomes.FINDING_FORM)
    try:
        if response is not None and response.status >= 400:
            # Bot walls answer 403/503 with a challenge page: that is a CAPTCHA, not an outage.
            scans = await scan_frames(page)
            if scans and captcha.challenge_on_page(scans[0].data):
                await attempt.screenshot("form")
                raise Outcome(outcomes.CAPTCHA, captcha.challenge_on_page(scans[0].data))
            raise Outcome(outcomes.FAILED, f"The site answered with HTTP {response.status}.")
        found = await find_contact_form(page, page.url or url, clock, options.navigation_timeout_ms,
                                       attempt.customer.vehicle)
    except SiteChallenge as challenge:
        await attempt.screenshot("form")
        raise Outcome(outcomes.CAPTCHA, str(challenge)) from None
    if found is None:
        raise Outcome(outcomes.NO_FORM, "No contact form was found on the site.")
    frame, form = found.scan.frame, found.form
    guard = captcha.captcha_guarding(form, found.scan.data)
    if guard:
        await attempt.screenshot("form")
        raise Outcome(outcomes.CAPTCHA, f"The contact form is protected by a CAPTCHA ({guard}); nothing was sent.")

    await attempt.enter(outcomes.FILLING)
    if options.min_dwell_s > 0:
        attempt.busy.give_back()  # from here it mostly waits: typing at a person's pace, then the dwell
    await dismiss_overlays(page)
    try:
        form, button = await _fill_all_steps(attempt, frame, form)
    except FillProblem as problem:
        if not problem.stale:
            raise Outcome(outcomes.FAILED, str(problem)) from None
        # Script-built forms may re-render while we type: find the form again, start over.
        form = await _form_again(frame)
        if form is None:
            raise Outcome(outcomes.FAILED, "The contact form disappeared while it was being filled.") from None
        attempt.result.fields.clear()
        try:
            form, button = await _fill_all_steps(attempt, frame, form)
        except FillProblem as again:
            raise Outcome(outcomes.FAILED, str(again)) from None
    await attempt.screenshot("form")
    if attempt.review is not None:
        attempt.result.fingerprint = fingerprint(attempt.result.fields, form)
        stop = reason_to_stop(attempt.review, attempt.result.fingerprint)
        if stop is not None:
            raise Outcome(outcomes.AWAITING_REVIEW, stop)
    if options.dry_run:
        raise Outcome(outcomes.UNCONFIRMED, "Dry run: filled but not submitted.")
    # Human pace: plugins silently drop leads sent sooner after the page loaded.
    await dwell(frame, options.min_dwell_s, clock, attempt.busy, attempt.decoration)
    await _no_captcha_since(attempt, frame, form)

    await attempt.enter(outcomes.SUBMITTING)
    watch = await start_watch(page, frame, form["dc"])
    if await call_hook(attempt.hooks.on_submit_pressed) is False:
        # The caller's cancel won the race for the click: nothing is sent.
        stop_watch(page, watch)
        raise Outcome(outcomes.CANCELLED, "Stopped before sending: cancelled by the user; nothing was submitted.")
    attempt.result.submit_pressed = True
    try:
        await press(frame, button)
        # Past the click there is no stopping: cancelling now would hide a real submission.
        await attempt.enter(outcomes.VERIFYING, may_stop=False)
        status, error = await verify(page, frame, form["dc"], watch, clock)
    finally:
        stop_watch(page, watch)
    await settle(page, 1500)
    await attempt.screenshot("result")
    attempt.result.status, attempt.result.error = status, error


async def _no_captcha_since(attempt: Attempt, frame, form: dict) -> None:
    """Stop if a CAPTCHA guards the form now: sites add theirs late (on a field's focus,
    on a timer, on the first interaction), after the form was first read."""
    scan = await scan_frame(frame)
    if not scan:
        return
    now = next((f for f in scan["forms"] if f["dc"] == form["dc"]), form)
    guard = captcha.captcha_guarding(now, scan)
    if guard:
        await attempt.screenshot("form")  # the filled form with the CAPTCHA that appeared
        raise Outcome(outcomes.CAPTCHA, f"The contact form is protected by a CAPTCHA ({guard}); nothing was sent.")


async def _form_again(frame) -> dict | None:
    scan = await scan_frame(frame)
    return best_contact_form(scan["forms"]) if scan else None


async def _fill_all_steps(attempt: Attempt, frame, form: dict) -> tuple[dict, dict]:
    """Fill every step of the form; return the form as its last step shows it and its
    final submit control (not pressed)."""
    done: set[str] = set()
    for step_number in range(MAX_STEPS):
        try:
            # Read again after every choice: filling changes forms (fields appear, lists load,
            # submit buttons enable); `form` comes back as it stands once this step is filled.
            # Steps are tracked by field_key: a plugin that redraws the form drops our tags.
            skip = {f["dc"] for f in form["fields"] if field_key(f) in done}
            approved = dict(attempt.review.approved) if attempt.review and attempt.review.sending else None
            filled, form = await fill_form(frame, form, attempt.customer, attempt.clock, skip=skip,
                                           pace_s=attempt.options.min_dwell_s, approved=approved)
        except UnfillableField as missing:
            raise Outcome(outcomes.FAILED, missing.sentence()) from None
        attempt.result.fields.extend(filled)
        done.update(field_key(f) for f in form["fields"] if f["visible"])
        button = submit_button(form)
        step = next_button(form) if button is None else None
        if button is None and step is None:
            raise Outcome(outcomes.FAILED, "The contact form has no button to send it.")
        if button is None and not leads_on(step, form, done):
            button = step  # "Continue" on a one-page form sends it: it is the submit
        if button is not None:
            if step_number and not asks_how_to_reply(attempt.result.fields):
                # A wizard that never asked how to reach the customer was not a contact form.
                raise Outcome(outcomes.NO_FORM, "The multi-step form never asks for an email or phone; nothing was sent.")
            return form, button
        await attempt.clock.check()
        try:
            form = await next_step(frame, form, step, attempt.clock)
        except StepProblem as problem:
            attempt.result.submit_pressed = problem.status == outcomes.SUBMITTED
            raise Outcome(problem.status, str(problem)) from None
    raise Outcome(outcomes.FAILED, "The contact form has more steps than expected.")
