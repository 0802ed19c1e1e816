"""The browser session and the attempt's limits: guard, timeouts, cancelling, crashes, recycling."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from contacts.engine import BrowserSession, contact_dealer, outcomes
from contacts.engine.types import Hooks
from tests.engine.conftest import CUSTOMER, OPTIONS, THANKS, Reply, page
from tests.engine.test_engine_contact import PLAIN_FORM

pytestmark = pytest.mark.browser


def test_it_refuses_a_private_start_address_when_private_targets_are_not_allowed(make_site, contact):
    site = make_site({"/": PLAIN_FORM})
    result = contact(site.url, allow_private_targets=False)
    assert result.status == outcomes.FAILED
    assert result.error == "Refusing to contact a private network address (127.0.0.1)."
    assert site.hits == []


def test_the_guard_aborts_page_requests_to_private_addresses(make_site, browser_session):
    site = make_site({"/pixel.gif": Reply(b"GIF89a", content_type="image/gif")})
    context = browser_session.new_context(replace(OPTIONS, allow_private_targets=False))
    try:
        tab = context.new_page()
        failed = []
        tab.on("requestfailed", lambda request: failed.append(request.url))
        # A page from elsewhere (set_content has no network origin) pointing at loopback.
        tab.set_content(f'<img src="{site.url}pixel.gif">')
        tab.wait_for_timeout(300)
    finally:
        context.close()
    assert site.hits == []
    assert f"{site.url}pixel.gif" in failed


def test_a_refused_connection_fails_with_a_reason(contact):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = contact(f"http://127.0.0.1:{port}/")
    assert result.status == outcomes.FAILED
    assert result.error == "The site refused the connection."


def test_an_error_page_fails_with_its_status(make_site, contact):
    site = make_site({"/": Reply(page("<h1>Service Unavailable</h1>"), status=503)})
    result = contact(site.url)
    assert result.status == outcomes.FAILED
    assert result.error == "The site answered with HTTP 503."


def test_a_bot_challenge_page_is_a_captcha(make_site, contact):
    challenge = page('<div id="cf-challenge-running">Checking your browser before accessing the site.</div>',
                     title="Just a moment...")
    site = make_site({"/": Reply(challenge, status=403)})
    result = contact(site.url)
    assert result.status == outcomes.CAPTCHA
    assert site.received == []


def test_a_slow_site_times_out_while_opening(make_site, contact):
    site = make_site({"/": Reply(PLAIN_FORM, delay_s=4)})
    started = time.monotonic()
    result = contact(site.url, timeout_s=1.5)
    assert time.monotonic() - started < 4
    assert result.status == outcomes.FAILED
    assert result.error == "Timed out after 1.5 s while opening."


def test_a_cancel_before_submitting_stops_the_attempt(make_site, contact):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    phases = []
    hooks = Hooks(on_phase=phases.append, should_stop=lambda: "filling" in phases)
    result = contact(site.url, hooks=hooks)
    assert result.status == outcomes.CANCELLED
    assert site.received == [] and not result.submit_pressed
    assert phases == ["opening", "finding_form", "filling"]


def test_a_cancel_after_the_click_does_not_hide_the_submission(make_site, contact):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    pressed = []
    hooks = Hooks(on_submit_pressed=lambda: pressed.append(True), should_stop=lambda: bool(pressed))
    result = contact(site.url, hooks=hooks)
    assert result.status == outcomes.SUBMITTED
    assert len(site.received) == 1 and pressed == [True]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _browser_main_pids() -> list[int]:
    """Chromium main processes this test process started (through the Playwright driver)."""
    pids = []
    for pid in _descendants(os.getpid()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--remote-debugging-pipe" in cmdline and not any(a.startswith(b"--type=") for a in cmdline):
            pids.append(pid)
    return pids


def on_own_thread(job):
    """Run job(session) with a second BrowserSession on a thread of its own: Playwright's
    sync API allows one driver per thread, and the shared session holds this one."""
    outcome = {}

    def run():
        try:
            with BrowserSession(replace(OPTIONS, recycle_after=2)) as session:
                outcome["value"] = job(session)
        except BaseException as exc:  # handed back to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_it_relaunches_a_browser_that_crashed(make_site):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    already_running = set(_browser_main_pids())

    def job(session):
        first = contact_dealer(site.url, CUSTOMER, session=session, options=session.options)
        killed = set(_browser_main_pids()) - already_running
        assert killed
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in killed) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = contact_dealer(site.url, CUSTOMER, session=session, options=session.options)
        return first, second, session.launches

    first, second, launches = on_own_thread(job)
    assert first.status == outcomes.SUBMITTED, first.error
    assert second.status == outcomes.SUBMITTED, second.error
    assert launches == 2
    assert len(site.received) == 2


def test_it_recycles_the_browser_after_the_configured_number_of_attempts(make_site):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})

    def job(session):
        statuses = [contact_dealer(site.url, CUSTOMER, session=session, options=session.options).status
                    for _ in range(3)]
        launches = session.launches
        session.close()
        session.close()  # idempotent
        return statuses, launches, session.browser

    statuses, launches, browser = on_own_thread(job)
    assert statuses == [outcomes.SUBMITTED] * 3
    assert launches == 2
    assert browser is None
