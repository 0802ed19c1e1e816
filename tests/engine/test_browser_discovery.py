"""Which browser the engine launches: BROWSER_EXECUTABLE, else Playwright's own, else the
machine's Chromium, its headless shell first when running headless."""

from __future__ import annotations

import pytest

from contacts.engine import discovery
from contacts.engine.discovery import PLAYWRIGHT_OWN, BrowserNotFound, find_browser_executable


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """An empty PATH of our own and no Playwright browsers; `install(name)` puts one there."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("BROWSER_EXECUTABLE", raising=False)
    monkeypatch.setattr(discovery, "playwright_bundled_executable", lambda: "")
    monkeypatch.setattr(discovery, "SYSTEM_HEADLESS_SHELLS", ("chromium-headless-shell", "headless_shell"))

    def install(name: str) -> str:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
        return str(path)

    return install


def test_it_prefers_the_headless_shell_when_headless(machine):
    full = machine("chromium")
    shell = machine("chromium-headless-shell")
    assert find_browser_executable(headless=True) == shell
    assert find_browser_executable(headless=False) == full


def test_it_falls_back_to_the_full_browser_without_a_headless_shell(machine):
    full = machine("chromium")
    assert find_browser_executable(headless=True) == full


def test_browser_executable_wins_over_everything(machine, monkeypatch):
    machine("chromium-headless-shell")
    chosen = machine("my-chrome")
    monkeypatch.setenv("BROWSER_EXECUTABLE", chosen)
    assert find_browser_executable(headless=True) == chosen
    assert find_browser_executable("my-chrome", headless=True) == chosen  # a name on PATH


def test_a_browser_executable_that_does_not_exist_is_an_error(machine, monkeypatch):
    machine("chromium")
    monkeypatch.setenv("BROWSER_EXECUTABLE", "/nowhere/chrome")
    with pytest.raises(BrowserNotFound, match="BROWSER_EXECUTABLE points to '/nowhere/chrome'"):
        find_browser_executable()


def test_playwrights_own_browser_is_left_to_playwright(machine, monkeypatch):
    machine("chromium")
    monkeypatch.setattr(discovery, "playwright_bundled_executable", lambda: "/root/.cache/ms-playwright/chrome")
    assert find_browser_executable() == PLAYWRIGHT_OWN


def test_no_browser_at_all_says_how_to_get_one(machine):
    with pytest.raises(BrowserNotFound, match="apt-get install chromium-headless-shell chromium"):
        find_browser_executable()
