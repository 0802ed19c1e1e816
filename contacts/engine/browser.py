"""Finding and launching the browser the engine drives."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Chromium refuses to start as root without --no-sandbox. The rest keep it from
# phoning home: on a closed network those connections fail by the dozen and slow it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-default-apps",
    "--mute-audio",
]

SYSTEM_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserNotFound(RuntimeError):
    pass


def playwright_bundled_executable() -> str:
    """Playwright's own Chromium, if `playwright install chromium` has been run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return ""
    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:
        return ""
    return path if path and Path(path).exists() else ""


def find_browser_executable(configured: str = "") -> str:
    """BROWSER_EXECUTABLE if set, else Playwright's own browser, else a Chromium on PATH."""
    configured = configured or os.environ.get("BROWSER_EXECUTABLE", "")
    if configured:
        path = shutil.which(configured) or configured
        if not Path(path).exists():
            raise BrowserNotFound(f"BROWSER_EXECUTABLE points to {configured!r}, which does not exist")
        return path
    bundled = playwright_bundled_executable()
    if bundled:
        return bundled
    for name in SYSTEM_BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserNotFound(
        "No browser found: set BROWSER_EXECUTABLE, run `playwright install chromium`, "
        "or install Chromium (Debian: apt-get install chromium)"
    )


# A current desktop Chrome on Windows: what most visitors to a dealer site look like.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
VIEWPORT = {"width": 1366, "height": 900}


class BrowserSession:
    """One Chromium for one thread: launched on first use, relaunched after a crash,
    recycled after `options.recycle_after` attempts, each attempt in a fresh context.

    Playwright's sync objects belong to the thread that created them, so a session must
    only be used (and closed) on one thread.
    """

    def __init__(self, options=None) -> None:
        from contacts.engine.types import EngineOptions

        self.options = options or EngineOptions()
        self._playwright = None
        self._browser = None
        self._attempts_on_browser = 0
        self._executable = ""
        self.launches = 0  # how many browsers this session has started (tests, logs)

    def __enter__(self) -> "BrowserSession":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def new_context(self, options=None):
        """A fresh BrowserContext for one attempt, guarded unless private targets are allowed."""
        from contacts.engine.network_guard import install_private_network_guard

        from playwright.sync_api import Error as PlaywrightError

        options = options or self.options
        try:
            context = self._open_context()
        except PlaywrightError:
            # The browser died since it was last seen alive (is_connected() only learns
            # of it when the driver's events are pumped): start a new one, once.
            self._drop_browser()
            context = self._open_context()
        context.set_default_timeout(options.action_timeout_ms)
        context.set_default_navigation_timeout(options.navigation_timeout_ms)
        if not options.allow_private_targets:
            install_private_network_guard(context)
        return context

    def _open_context(self):
        browser = self._ready_browser()
        self._attempts_on_browser += 1
        return browser.new_context(
            viewport=VIEWPORT,
            user_agent=USER_AGENT,
            locale="en-US",
            ignore_https_errors=False,
            # Service workers would fetch outside context.route, around the guard.
            service_workers="block",
        )

    def _ready_browser(self):
        if self._browser is not None and not self._browser.is_connected():
            self._drop_browser()  # crashed or killed: start again
        if self._browser is not None and self._attempts_on_browser >= self.options.recycle_after:
            self._drop_browser()  # long-lived Chromiums grow; a fresh one is cheap
        if self._browser is None:
            if self._playwright is None:
                from playwright.sync_api import sync_playwright

                self._playwright = sync_playwright().start()
            # Looking for Playwright's own browser starts a driver: do it once per session.
            self._executable = self._executable or find_browser_executable(self.options.browser_executable)
            self._browser = self._playwright.chromium.launch(
                executable_path=self._executable,
                headless=self.options.headless,
                args=CHROMIUM_ARGS,
                timeout=30_000,
            )
            self._attempts_on_browser = 0
            self.launches += 1
        return self._browser

    @property
    def browser(self):
        """The running browser, or None before first use and after close."""
        return self._browser

    def _drop_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                browser.close(reason="recycled")
            except Exception:
                pass  # already gone; the driver reaps it

    def close(self) -> None:
        """Close the browser and the Playwright driver; safe to call more than once.

        Stopping the driver ends its browsers too, so a hung browser cannot hold this up.
        """
        self._drop_browser()
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            try:
                playwright.stop()
            except Exception:
                pass
