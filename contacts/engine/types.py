"""Plain data types at the engine's boundary: what goes in and what comes out."""

from __future__ import annotations

import os
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Customer:
    """The person asking for a quote, as the engine needs them.

    `message` is already rendered for the dealer being contacted.
    """

    first_name: str
    last_name: str
    email: str
    phone: str  # E.164, for example "+13105550123"
    zip_code: str
    message: str
    vehicle_year: str = ""
    vehicle_make: str = ""
    vehicle_model: str = ""
    vehicle_trim: str = ""
    preferred_contact: str = "email"  # email, phone or text
    city: str = ""
    state: str = ""  # two-letter code
    # Answers to questions a form may require (codes and defaults in engine/answers.py).
    current_customer: str = "no"
    trade_in: str = "no"
    financing: str = "undecided"
    heard_about: str = "internet"
    best_time: str = "any"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def vehicle(self) -> str:
        parts = [self.vehicle_year, self.vehicle_make, self.vehicle_model, self.vehicle_trim]
        return " ".join(p for p in parts if p)

    @property
    def phone_digits(self) -> str:
        """Ten-digit US number without the country code."""
        digits = "".join(ch for ch in self.phone if ch.isdigit())
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        return digits


@dataclass
class FilledField:
    kind: str  # for example "first_name", "email", "message", "consent"
    label: str  # what the site calls the field
    value: str  # what was typed, chosen or ticked
    # For review before sending (engine/review.py): what names the field across runs,
    # how a person edits it (text, textarea, select, radio, checkbox), and a list's or
    # radio group's choices as the form offers them.
    key: str = ""
    type: str = ""
    options: tuple[str, ...] = ()


@dataclass
class ContactResult:
    status: str  # one of outcomes.OUTCOMES
    error: str = ""  # one line a user understands; empty when there is nothing to say
    fields: list[FilledField] = field(default_factory=list)
    # name -> JPEG bytes; "form" is the filled form before submitting, "result" after.
    screenshots: dict[str, bytes] = field(default_factory=dict)
    phase_timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    final_url: str = ""
    platform: str = ""  # what the site is built on, from its markup (engine.platform); "" unknown
    submit_pressed: bool = False
    elapsed_s: float = 0.0
    fingerprint: str = ""  # the filled form's shape, when the attempt was reviewed (engine/review.py)


def _noop(*_args, **_kwargs) -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class Hooks:
    """How the caller follows and steers one attempt.

    Each may be a plain function, called on the engine loop (so it must be quick and must
    not touch the Django ORM), or a coroutine function, awaited there; the worker's hooks
    are coroutines that wait for the Huey worker thread to do the database work.
    """

    on_phase: Callable[[str], Any] = _noop
    # Called (and must return) immediately before the one and only submit click, so the
    # caller can durably record that a submission may have happened. Returning False
    # (and only False) refuses the click: the attempt ends cancelled, nothing sent.
    on_submit_pressed: Callable[[], Any] = _noop
    # Returns True when the user cancelled; checked between steps, never after submit.
    should_stop: Callable[[], Any] = _never


async def call_hook(hook, *args):
    """Call one of the caller's Hooks: a plain function (quick, run on the engine loop) or
    a coroutine function (awaited, for hooks that wait on another thread)."""
    answer = hook(*args)
    if inspect.isawaitable(answer):
        answer = await answer
    return answer


def default_busy_attempts() -> int:
    """Two per core: an attempt's CPU work interleaves with its waits on the network."""
    return 2 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class EngineOptions:
    timeout_s: float = 90.0  # overall limit for one dealer
    navigation_timeout_ms: int = 20_000
    action_timeout_ms: int = 5_000
    # Hosts the browser may reach although they are private (ALLOWED_PRIVATE_HOSTS):
    # "host" for any port, "host:port" for one. Everything else must be public.
    allowed_private_hosts: tuple[str, ...] = ()
    allow_private_targets: bool = False  # the old switch: the same as allowing LOOPBACK_ALLOWLIST
    dry_run: bool = False  # fill and screenshot, never submit
    headless: bool = True
    browser_executable: str = ""
    recycle_after: int = 25  # attempts per browser before relaunching it
    # Human pace (pace.py): seconds on the form page before submitting, counted from when
    # it loaded, each text field started with a few key presses; 0 turns both off.
    min_dwell_s: float = 5.0
    # Attempts of one process that may load, search, submit and verify at once: the work
    # that needs the CPU. An attempt gives its place back while it only waits (typing at
    # a person's pace, the dwell), so many more attempts than this can be open (runner.py).
    busy_attempts: int = field(default_factory=default_busy_attempts)
    browser_user: str = "nobody"  # who the browser runs as when the worker is root (sandbox.py)

    @property
    def egress_allowlist(self) -> tuple[str, ...]:
        """Every allowed private host, the old switch's included."""
        from contacts.engine.network_guard import LOOPBACK_ALLOWLIST

        hosts = (*self.allowed_private_hosts, *(LOOPBACK_ALLOWLIST if self.allow_private_targets else ()))
        return tuple(dict.fromkeys(hosts))
