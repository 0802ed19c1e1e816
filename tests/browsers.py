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
