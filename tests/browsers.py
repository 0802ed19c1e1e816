"""The browser of the person using the app in browser tests (not the engine's)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from playwright.sync_api import Browser, sync_playwright

from contacts.engine.discovery import find_browser_executable
from contacts.engine.runtime import CHROMIUM_ARGS


@contextmanager
def person_browser() -> Iterator[Browser]:
    """A plain Chromium for a test's journey through the app.

    As root Chromium needs --no-sandbox; the engine's own browser keeps its sandbox by
    running as an unprivileged user (contacts/engine/sandbox.py). Playwright's sync API
    runs an event loop, so the ORM refuses to run inside this block: query after it.
    """
    args = [*CHROMIUM_ARGS, "--no-sandbox"] if os.geteuid() == 0 else list(CHROMIUM_ARGS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_browser_executable() or None, args=args)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_htmx(page) -> None:
    """Wait until no htmx request is in flight (a field validated as the user left it),
    so its swap cannot move a button from under the next click."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=30_000)


def log_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")


def complete_and_save_profile(page) -> None:
    """On the profile form, fill in the journeys' customer from the email on and save."""
    page.fill("#id_email", "dana.shopper@example.org")
    page.fill("#id_phone", "310 555 0188")
    page.fill("#id_zip_code", "90210")
    page.check("input[name=preferred_contact][value=email]")
    page.fill("#id_vehicle_year", "2024")
    page.fill("#id_vehicle_make", "Toyota")
    page.fill("#id_vehicle_model", "RAV4")
    page.locator("#id_vehicle_model").blur()
    wait_for_htmx(page)
    page.get_by_role("button", name="Save customer").click()
    page.wait_for_url(lambda u: "/profiles/new/" not in u)
