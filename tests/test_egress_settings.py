"""ALLOWED_PRIVATE_HOSTS and the old ALLOW_PRIVATE_TARGETS switch, read at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("ALLOWED_PRIVATE_HOSTS", "ALLOW_PRIVATE_TARGETS")}
    return subprocess.run(
        [sys.executable, "-c", "import dealercontact.settings as s; print(s.ALLOWED_PRIVATE_HOSTS)"],
        cwd=ROOT, env={**clean, "DEBUG": "1", "VAR_DIR": str(ROOT / "var"), **env}, capture_output=True, text=True,
    )


def test_it_reads_the_allowlist():
    assert _settings(ALLOWED_PRIVATE_HOSTS="127.0.0.1:8000, localhost:8000").stdout.strip() == (
        "['127.0.0.1:8000', 'localhost:8000']")


def test_nothing_private_is_allowed_by_default():
    assert _settings().stdout.strip() == "[]"


def test_the_old_switch_allows_loopback():
    assert _settings(ALLOW_PRIVATE_TARGETS="1", ALLOWED_PRIVATE_HOSTS="sandbox.internal").stdout.strip() == (
        "['sandbox.internal', '127.0.0.1', 'localhost']")


def test_a_bad_entry_stops_start_up_with_its_name():
    run = _settings(ALLOWED_PRIVATE_HOSTS="localhost:http")
    assert run.returncode != 0
    assert "ImproperlyConfigured: ALLOWED_PRIVATE_HOSTS: 'localhost:http' has no valid port" in run.stderr


def test_ensure_browser_says_whether_chromium_will_be_sandboxed(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.BROWSER_USER = "no-such-user-here"
    out = StringIO()
    call_command("ensure_browser", "--no-install", stdout=out)
    if os.geteuid() == 0:
        assert "Chromium's sandbox: off, because the worker runs as root and there is no user 'no-such-user-here'" in (
            out.getvalue())
    else:
        assert "Chromium's sandbox: on" in out.getvalue()
