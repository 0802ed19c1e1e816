"""Human pace: time on the form page before submitting, and typing key by key.

Form plugins drop leads that arrive faster than a person could send them (WPForms,
Formidable and Gravity Forms time traps, honeypot timers), often while still showing
"thank you", so a too-quick engine loses leads it reports as sent. Every attempt
therefore stays at least `min_dwell_s` on the form page, counted from when that page
(the document holding the form: an iframe's own load for a form in a frame) was loaded,
and, where the page's scripts listen for key events (key_watch.py), starts each text field
by typing key by key, spread over that time, so they see a person typing rather than
values appearing at once. Where nothing listens, values go in at once: no script can tell.

Only the start of each watched field is typed; the rest goes in at once, as autofill or a
paste would. Every key is an event in the page, a repaint of the box and a frame
composited, and typing every key of a form (200 or so) cost about half a CPU-second per
attempt: as much as loading, searching and filling the site. That made a batch with the
wait on slower than one without, however many attempts waited at once. The anti-spam
scripts of form plugins ask whether keys were pressed and how long the page was open, not
whether every character came from a key (people autofill), so a few keys per field keep
what they look for at a fraction of the cost (KEYS_PER_ATTEMPT, shared among the fields).

The wait is `asyncio.sleep` on the engine loop: other attempts run meanwhile, so a batch
loses no throughput to it as long as enough attempts run at once, and as long as a waiting
page costs nothing. A static page costs nothing, but real dealer pages animate (a hero
slider, a pulsing chat button, a spinner), and headless Chromium draws every frame of it:
24 such pages waiting at once kept both cores busy drawing frames no one sees. So while an
attempt waits, its window is minimized (`drawing_paused`). In headless Chromium that stops
the drawing and nothing else: the page stays visible and focused to its scripts, its timers
and animation frames run as before (time traps see time pass), and no event fires.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from playwright.async_api import Error as PlaywrightError

# Typing is spread over this share of the dwell; the rest is reading the form over.
TYPING_SHARE = 0.6
# Keys pressed one by one in a whole form, shared among its text fields (at least
# MIN_KEYS_PER_FIELD each); the rest of each value goes in at once.
KEYS_PER_ATTEMPT = 24
MIN_KEYS_PER_FIELD = 3
MIN_KEY_DELAY_MS = 8
MAX_KEY_DELAY_MS = 120
_CHECK_EVERY_S = 0.5  # a cancel or the deadline is noticed this quickly during the wait
# A wait shorter than this is not worth minimizing the window for (two protocol calls).
MIN_PAUSED_WAIT_S = 0.5
# Two animation frames: the page has drawn itself again once shown.
NEXT_FRAME_TIMEOUT_S = 2
_NEXT_FRAME_JS = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"

# Seconds since the document's DOMContentLoaded (since its time origin when the
# navigation timing is not there, as in an about:blank frame filled by script).
_SECONDS_ON_PAGE_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const loaded = nav && nav.domContentLoadedEventEnd > 0 ? nav.domContentLoadedEventEnd : 0;
  return (performance.now() - loaded) / 1000;
}"""


def keys_per_field(fields: int) -> int:
    """How many keys to press one by one at the start of each of `fields` text fields. Pure."""
    if fields <= 0:
        return 0
    return max(MIN_KEYS_PER_FIELD, -(-KEYS_PER_ATTEMPT // fields))


def key_delay_ms(min_dwell_s: float, characters: int) -> int:
    """Milliseconds between keys so `characters` are typed in about TYPING_SHARE of the
    dwell (0: no dwell, so no pacing). Pure."""
    if min_dwell_s <= 0 or characters <= 0:
        return 0
    spread = min_dwell_s * 1000 * TYPING_SHARE / characters
    return int(max(MIN_KEY_DELAY_MS, min(MAX_KEY_DELAY_MS, spread)))


async def seconds_on_page(frame) -> float | None:
    """How long ago the frame's document was loaded, by its own clock; None if unknown."""
    try:
        return float(await frame.evaluate(_SECONDS_ON_PAGE_JS))
    except (PlaywrightError, TypeError, ValueError):
        return None


async def dwell(frame, min_dwell_s: float, clock, pause_drawing: bool = True) -> float:
    """Wait until the form's document has been open `min_dwell_s`; return the seconds
    waited. Idle time on the loop, checked for a cancel and the deadline as it passes;
    with `pause_drawing` (headless only: a window someone watches must not vanish), the
    page draws nothing meanwhile."""
    if min_dwell_s <= 0:
        return 0.0
    spent = await seconds_on_page(frame)
    # Unknown (the frame is going away): wait the whole dwell, never less.
    remaining = min_dwell_s - spent if spent is not None else min_dwell_s
    if remaining <= 0:
        return 0.0
    until = time.monotonic() + remaining
    async with drawing_paused(frame.page, pause_drawing and remaining >= MIN_PAUSED_WAIT_S):
        while (left := until - time.monotonic()) > 0:
            await clock.check()
            await asyncio.sleep(min(_CHECK_EVERY_S, left))
    if pause_drawing and remaining >= MIN_PAUSED_WAIT_S:
        await next_frame(frame.page)
    return remaining


@asynccontextmanager
async def drawing_paused(page, pause: bool = True):
    """Minimize the page's window for the duration (each attempt's page has a window of
    its own), and restore it after, whatever happens inside. Where the protocol refuses,
    the page simply goes on drawing."""
    session = window = None
    if pause:
        try:
            session = await page.context.new_cdp_session(page)
            window = (await session.send("Browser.getWindowForTarget"))["windowId"]
            await session.send("Browser.setWindowBounds", {"windowId": window, "bounds": {"windowState": "minimized"}})
        except (PlaywrightError, KeyError, TypeError):
            window = None
    try:
        yield
    finally:
        if session is not None:
            try:
                if window is not None:
                    await session.send("Browser.setWindowBounds", {"windowId": window, "bounds": {"windowState": "normal"}})
                await session.detach()
            except PlaywrightError:
                pass  # the page has gone, and its window with it


async def next_frame(page) -> None:
    """Wait until the page has drawn itself again, so the submit is clicked on a page that
    is on the screen. The top document's frames: a frame inside may be throttled."""
    try:
        await asyncio.wait_for(page.main_frame.evaluate(_NEXT_FRAME_JS), NEXT_FRAME_TIMEOUT_S)
    except (PlaywrightError, asyncio.TimeoutError):
        pass  # the page is going away, or draws no frames: the submit finds out
