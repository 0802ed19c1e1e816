"""The browser session and the attempt's limits: guard, timeouts, cancelling, crashes, recycling."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import replace

import pytest

from contacts.engine import contact_dealer, outcomes
from contacts.engine.runtime import chromium_main_pids
from contacts.engine.types import Hooks
from tests.engine.conftest import CUSTOMER, OPTIONS, THANKS, Reply, page, wait_until_gone
from tests.engine.test_engine_contact import PLAIN_FORM

pytestmark = pytest.mark.browser


def test_it_refuses_a_private_start_address(canary, contact):
    result = contact(canary.url())
    assert result.status == outcomes.FAILED
    assert result.error == "Refusing to contact a private network address (127.0.0.2)."
    canary.drain()
    assert canary.connections == 0


@pytest.mark.parametrize("address", ["file:///etc/passwd", "chrome://settings", "data:text/html,<form>",
                                     "javascript:alert(1)", "ftp://dealer.example/", "java\nscript:alert(1)",
                                     "about:blank", "view-source:http://127.0.0.1/"])
def test_it_refuses_every_scheme_but_http_and_https(address, browser_session):
    from contacts.engine import contact_dealer

    launches = browser_session.launches
    result = contact_dealer(address, CUSTOMER, session=browser_session, options=OPTIONS)
    assert result.status == outcomes.FAILED
    assert result.error.startswith("Only web addresses (http or https) can be contacted")
    assert browser_session.launches == launches and not result.screenshots


def test_an_address_without_a_scheme_is_https(make_site, contact):
    # dealer.com:8080 is a host and a port, not a scheme; https to a plain HTTP fixture fails
    # in TLS, which shows the scheme that was used.
    site = make_site({"/": PLAIN_FORM})
    result = contact(site.url.removeprefix("http://"))
    assert result.status == outcomes.FAILED
    assert site.hits == []


def test_the_proxy_refuses_page_requests_to_private_addresses(canary, browser_session):
    async def visit():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            seen = []
            tab.on("requestfinished", lambda request: seen.append(request))
            tab.on("requestfailed", lambda request: seen.append(request))
            # A page from elsewhere (set_content has no network origin) pointing at loopback.
            await tab.set_content(f'<img src="{canary.url("/pixel.gif")}" onerror="window.done = true">')
            await tab.wait_for_function("window.done")
            while not seen:
                await asyncio.sleep(0.02)  # the event trails the page's by a moment
            return seen[0].url
        finally:
            await context.close()

    # The image fails (Chromium will not show the proxy's HTML refusal as an image).
    assert browser_session.run(visit()) == canary.url("/pixel.gif")
    canary.drain()
    assert canary.connections == 0
    assert ("127.0.0.2", canary.port, "private") in browser_session.pool.egress.refused


def test_downloads_are_refused(make_site, browser_session):
    site = make_site({"/": page('<a href="/brochure.pdf">Brochure</a>'),
                      "/brochure.pdf": Reply(b"%PDF-1.4 secret", content_type="application/pdf",
                                             headers={"Content-Disposition": "attachment; filename=brochure.pdf"})})

    async def visit():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            await tab.goto(site.url)
            async with tab.expect_download() as started:
                await tab.click("a")
            download = await started.value
            return await download.failure()
        finally:
            await context.close()

    # Chromium was told to deny it: nothing is written to the worker's disk.
    assert browser_session.run(visit()) == "Pass 'accept_downloads=True' when you are creating your browser context."


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


def test_a_refused_click_sends_nothing(make_site, contact):
    """The caller's on_submit_pressed answers False (a cancel won the race for the row): the
    attempt ends cancelled at the submit moment and the site receives nothing."""
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    phases = []
    hooks = Hooks(on_phase=phases.append, on_submit_pressed=lambda: False)
    result = contact(site.url, hooks=hooks)
    assert result.status == outcomes.CANCELLED and "Stopped before sending" in result.error
    assert site.received == [] and not result.submit_pressed
    assert phases[-1] == "submitting"


def test_it_relaunches_a_browser_that_crashed(make_site, browser_session):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    first = contact_dealer(site.url, CUSTOMER, session=browser_session, options=OPTIONS)
    launches = browser_session.launches
    killed = browser_session.browser_pid
    assert killed in chromium_main_pids()
    os.kill(killed, signal.SIGKILL)
    wait_until_gone(killed, within_s=5)
    second = contact_dealer(site.url, CUSTOMER, session=browser_session, options=OPTIONS)
    assert first.status == outcomes.SUBMITTED, first.error
    assert second.status == outcomes.SUBMITTED, second.error
    assert browser_session.launches == launches + 1
    assert browser_session.browser_pid not in (None, killed)
    assert len(site.received) == 2


def test_it_recycles_the_browser_after_the_configured_number_of_attempts(make_site, browser_session):
    site = make_site({"/": PLAIN_FORM, "POST /send": THANKS})
    every_two = replace(OPTIONS, recycle_after=2)
    # Whatever ran before, this attempt leaves a fresh Chromium with one attempt on it.
    contact_dealer(site.url, CUSTOMER, session=browser_session, options=replace(OPTIONS, recycle_after=1))
    launches = browser_session.launches
    statuses = [contact_dealer(site.url, CUSTOMER, session=browser_session, options=every_two).status
                for _ in range(5)]
    assert statuses == [outcomes.SUBMITTED] * 5
    # The first ran on the Chromium launched above, then two on each of two new ones.
    assert browser_session.launches == launches + 2
    assert browser_session.browser_pid in chromium_main_pids()
