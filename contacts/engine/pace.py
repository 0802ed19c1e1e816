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
slider, a pulsing chat button, a spinner), and headless Chromium works out every frame of
it: 24 such pages waiting at once kept both cores busy. So while an attempt waits, all of
the page's animations hold still (animations.py) and, once the wait is over, move on to
where they would have ended by then; a waiting page of the bench's animated sites costs
about 0.007 of a core held, against 0.115 animating (a static page: 0.002). The page's timers and animation frames run, it stays
visible and focused, so time traps see the time pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from playwright.async_api import Error as PlaywrightError

from contacts.engine.animations import AnimationHold
from contacts.engine.busy import BusyPlace

# Typing is spread over this share of the dwell; the rest is reading the form over.
TYPING_SHARE = 0.6
# Keys pressed one by one in a whole form, shared among its text fields (at least
# MIN_KEYS_PER_FIELD each); the rest of each value goes in at once.
KEYS_PER_ATTEMPT = 24
MIN_KEYS_PER_FIELD = 3
MIN_KEY_DELAY_MS = 8
MAX_KEY_DELAY_MS = 120
_CHECK_EVERY_S = 0.5  # a cancel or the deadline is noticed this quickly during the wait
# A wait shorter than this is not worth holding the animations for (a few protocol calls).
MIN_PAUSED_WAIT_S = 0.5

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


async def dwell(frame, min_dwell_s: float, clock, place: BusyPlace | None = None,
                hold: AnimationHold | None = None) -> float:
    """Wait until the form's document has been open `min_dwell_s`; return the seconds
    waited. Idle time on the loop, checked for a cancel and the deadline as it passes,
    every animation of the page held still meanwhile by the visit's `hold` (animations.py).
    `place` (the attempt's place among the busy attempts, busy.py) is given back for the
    wait and taken again after it, first in line, before the animations move on: the
    submit and the verify need the CPU."""
    if min_dwell_s <= 0:
        return 0.0
    spent = await seconds_on_page(frame)
    # Unknown (the frame is going away): wait the whole dwell, never less.
    remaining = max(0.0, min_dwell_s - spent if spent is not None else min_dwell_s)
    if place is not None:
        place.give_back()
    queued = place is not None and place.must_wait()
    until = time.monotonic() + remaining
    hold_still = hold is not None and (remaining >= MIN_PAUSED_WAIT_S or queued)
    async with hold.everything_held() if hold_still else contextlib.nullcontext():
        while (left := until - time.monotonic()) > 0:
            await clock.check()
            await asyncio.sleep(min(_CHECK_EVERY_S, left))
        if place is not None:
            await place.take(finishing=True)
    return remaining
