"""Places for the attempts doing CPU work at once, in one engine process.

Loading a site and searching it for the form is the CPU-heavy part of an attempt; so are
pressing submit and watching the site's answer, which run the page's scripts and render
it again. Typing at a person's pace and the human-pace wait are mostly waiting. With the
wait on, an attempt holds a place while it loads and searches, gives it back once the form
is found, and takes one again after the wait to submit and verify. So many attempts can
wait at once (for throughput) while only a few compete for the cores; and no submit runs
on a machine so saturated that the site's answer comes after the verify gave up, which
is a lead sent and reported `unconfirmed`.

An attempt coming back to submit goes before any attempt waiting to start: finishing an
open page frees its memory and its animations, starting one adds both; and while it waits
for its place its page holds still (pace.dwell). Without the wait an attempt holds its
place from start to end, so extra worker threads cost no memory until a place frees.
"""

from __future__ import annotations

import asyncio
from collections import deque


class BusyGate:
    """A counting gate with two queues: waiters that come back to finish go first.
    Loop-only (the engine loop's), like asyncio.Semaphore."""

    def __init__(self, places: int) -> None:
        self.free = max(1, places)
        self._finishing: deque[asyncio.Future] = deque()
        self._starting: deque[asyncio.Future] = deque()

    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in (*self._finishing, *self._starting))

    async def acquire(self, finishing: bool = False) -> None:
        if self.free > 0:  # never while someone waits: release() hands a place straight on
            self.free -= 1
            return
        queue = self._finishing if finishing else self._starting
        waiter = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a place as it was cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def release(self) -> None:
        for queue in (self._finishing, self._starting):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the place goes straight to it
                    return
        self.free += 1


class BusyPlace:
    """One attempt's hold on a place in the gate (taken and given back at most once each
    time, so every exit path may give it back)."""

    def __init__(self, gate: BusyGate) -> None:
        self._gate = gate
        self.held = False

    async def take(self, finishing: bool = False) -> None:
        if not self.held:
            await self._gate.acquire(finishing)
            self.held = True

    def must_wait(self) -> bool:
        """Whether taking a place now would queue."""
        return not self.held and self._gate.free <= 0

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self._gate.release()
