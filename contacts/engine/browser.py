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
