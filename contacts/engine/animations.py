"""Holding a page's animations still, where they cost CPU and tell the engine nothing.

Real dealer pages animate for as long as they are open (a spinner, a promotions ticker, a
pulsing chat button, a hero slider), and headless Chromium works out every frame of it:
about a ninth of a core per page on the bench's animated sites, so a worker running many
attempts spends its cores drawing frames nobody sees.

One hold for the attempt's whole visit (`hold_endless_animations`), through DevTools'
Animation domain, which reports every animation of the page as it starts (those already
running when it is enabled too, shadow trees included) and pauses one by id as the pause
button of its animations panel does; a paused animation asks for no more frames:
- for the whole visit, animations that run longer than any attempt (ENDLESS_S, or for
  ever) are the page's decoration, never a step of its form, which opens or shows a field
  in a second or two. Everything shorter runs as usual.
- for the human-pace wait (pace.py, `everything_held`), everything, shorter ones included,
  those running as the wait begins and those that start during it (a slider's next slide,
  due every few seconds), held while nothing on the page is being done, then moved on to
  where each would have ended by then, rather than played on through the submit.
  The same session does it: a second one for the wait cost a session opened and closed per
  attempt, and, asked for only where something had moved before the wait, missed what
  started during it.
Only the animations' own clock stops; the page's timers and animation frames run, it
stays visible and focused. Holding the document's whole timeline instead (playback rate
0) left every animation running at rate 0, each still asking for a frame 60 times a
second: a waiting page cost about a quarter of an animating one, and any other DevTools
session leaving the page set the rate back to 1.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import Callable

from playwright.async_api import Error as PlaywrightError

# An animation running longer than this (all its iterations and delays) is decoration:
# longer than an attempt takes to fill its form, and than any opening of a panel or a step.
ENDLESS_S = 10.0


def end_ms(animation: dict) -> float | None:
    """Where an animation (the protocol's Animation object) ends on its own clock, in ms:
    its delays and all its iterations; None for one that runs for ever or whose timing is
    not told plainly. Pure."""
    source = animation.get("source") or {}
    iterations = source.get("iterations")  # null for infinite: JSON has no Infinity
    if iterations is None:
        return None
    try:
        return float((source.get("delay") or 0) + (source.get("duration") or 0) * iterations + (source.get("endDelay") or 0))
    except (TypeError, ValueError):
        return None


def runs_longer_than_an_attempt(animation: dict) -> bool:
    """Whether an animation runs for ever or longer than ENDLESS_S in all. Pure."""
    if (animation.get("source") or {}).get("iterations") is None:
        return True
    end = end_ms(animation)
    return end is not None and end > ENDLESS_S * 1000  # timing told otherwise: let it run


def seconds_left(animation: dict) -> float:
    """How long a running animation has left, all its iterations and delays, from the
    moment it is reported; ENDLESS_S where its timing says for ever or is not told plainly.
    Pure."""
    end = end_ms(animation)
    if end is None:
        return ENDLESS_S
    try:
        rate = float(animation.get("playbackRate") or 1) or 1
        return max(0.0, (end - float(animation.get("currentTime") or 0)) / abs(rate) / 1000)
    except (TypeError, ValueError):
        return ENDLESS_S


def every_animation(_animation: dict) -> bool:
    return True


class AnimationHold:
    """Pauses, one by one, every running animation of the page that `which` picks, those
    running at the start and each that starts while held. Animations the page itself has
    paused are left alone, and only those held are played again on release. For a while
    (`everything_held`), it holds every animation, those it lets run included."""

    def __init__(self, page, which: Callable[[dict], bool] = every_animation) -> None:
        self.page = page
        self.which = which
        self.session = None
        self.held: list[str] = []
        # The animations let run, by id, with when each should end (time.monotonic()): those
        # still running are held with everything else for a while.
        self._let_run: dict[str, float] = {}
        self._end_ms: dict[str, float] = {}  # where each of those and of the held for now ends
        self._held_for_now: list[str] | None = None  # inside everything_held()
        self._pausing: set[asyncio.Task] = set()
        self._releasing = False

    async def start(self) -> "AnimationHold":
        try:
            self.session = await self.page.context.new_cdp_session(self.page)
            self.session.on("Animation.animationStarted", self._started)
            await self.session.send("Animation.enable")
            # The animations already running are reported with the answer: held before
            # whatever comes next begins.
            await self._paused_so_far()
        except PlaywrightError:
            pass  # the page has gone, or refuses: it animates on
        return self

    def _started(self, event: dict) -> None:
        animation = event.get("animation") or {}
        if "id" not in animation or self._releasing:
            return
        if animation.get("playState") != "running" or animation.get("pausedState"):
            return  # the page's own pause stays the page's
        if self.which(animation):
            self._pause(animation["id"], self.held)
            return
        end = end_ms(animation)
        if end is not None:
            self._end_ms[animation["id"]] = end
        if self._held_for_now is not None:
            self._pause(animation["id"], self._held_for_now)
        else:
            now = time.monotonic()
            self._let_run = {key: ends for key, ends in self._let_run.items() if ends > now}
            self._end_ms = {key: ms for key, ms in self._end_ms.items() if key in self._let_run or key == animation["id"]}
            self._let_run[animation["id"]] = now + seconds_left(animation)

    def _pause(self, animation_id: str, held: list[str]) -> None:
        held.append(animation_id)
        task = asyncio.ensure_future(self._set_paused(animation_id, True))
        self._pausing.add(task)
        task.add_done_callback(self._pausing.discard)

    async def _set_paused(self, animation_id: str, paused: bool) -> None:
        # One id a call: a call naming an animation that has gone (its element removed)
        # stops at it.
        try:
            await self.session.send("Animation.setPaused", {"animations": [animation_id], "paused": paused})
        except PlaywrightError:
            pass  # ended or removed meanwhile

    async def _finished(self, animation_id: str) -> None:
        """Moved on to its end, then let go: where it would have been had it run through
        the hold, in one frame instead of the rest of its run."""
        end = self._end_ms.get(animation_id)
        if end is not None:
            try:
                await self.session.send("Animation.seekAnimations", {"animations": [animation_id], "currentTime": end})
            except PlaywrightError:
                pass  # ended or removed meanwhile
        await self._set_paused(animation_id, False)

    async def _paused_so_far(self) -> None:
        if self._pausing:
            await asyncio.gather(*self._pausing, return_exceptions=True)

    @asynccontextmanager
    async def everything_held(self):
        """Hold every animation of the page for the duration, those this hold lets run and
        still running as well as each that starts meanwhile (a slider's next slide, due
        every few seconds), and afterwards, whatever happens inside, move each on to its
        end: the state it would have reached by then had it run, which the page (and its
        `animationend` listeners) see in one frame. Playing them on from where they were
        held instead kept a slider sliding through the submit and the verify, frames a
        batch paid for: 155 dealers/min against 163 finishing them (bench/README.md). On a
        page where nothing is moving, that is no protocol call at all."""
        if self.session is None or self._releasing or self._held_for_now is not None:
            yield
            return
        held: list[str] = []
        self._held_for_now = held
        now = time.monotonic()
        for animation_id in [key for key, end in self._let_run.items() if end > now]:
            self._pause(animation_id, held)
        self._let_run.clear()
        try:
            await self._paused_so_far()  # held before the wait's first moment
            yield
        finally:
            self._held_for_now = None
            await self._paused_so_far()
            await asyncio.gather(*(self._finished(animation_id) for animation_id in held))
            self._end_ms.clear()

    async def release(self) -> None:
        self._releasing = True
        if self.session is None:
            return
        try:
            self.session.remove_listener("Animation.animationStarted", self._started)
            await self._paused_so_far()
            await asyncio.gather(*(self._set_paused(animation_id, False) for animation_id in self.held))
            await self.session.send("Animation.disable")
            await self.session.detach()
        except PlaywrightError:
            pass  # the page has gone


async def hold_endless_animations(page) -> AnimationHold:
    """From now until the page closes, hold every animation that runs longer than an
    attempt, in every document the page shows (the hold follows its navigations)."""
    return await AnimationHold(page, runs_longer_than_an_attempt).start()
