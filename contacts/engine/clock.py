"""The attempt's deadline and the user's cancel button, checked between steps."""

from __future__ import annotations

import time

from contacts.engine.types import call_hook


class TimedOut(Exception):
    pass


class Cancelled(Exception):
    pass


class Clock:
    def __init__(self, timeout_s: float, should_stop) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + timeout_s
        self.timeout_s = timeout_s
        self._should_stop = should_stop

    def remaining_s(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def remaining_ms(self) -> int:
        return max(1, int(self.remaining_s() * 1000))

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    async def check(self) -> None:
        """Raise Cancelled if the user asked to stop, TimedOut past the deadline."""
        if await call_hook(self._should_stop):
            raise Cancelled()
        if time.monotonic() >= self.deadline:
            raise TimedOut()
