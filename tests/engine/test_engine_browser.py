"""One Chromium per process, shared by every thread's BrowserSession: sharing, isolation
between threads, crash recovery, recycling, shutdown, and what an attempt needs of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from contacts.engine import BrowserSession
from tests.engine.conftest import OPTIONS, page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until_gone(pid: int, within_s: float = 15) -> bool:
    deadline = time.monotonic() + within_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def in_threads(*jobs):
    """Run each job(session) on its own thread with its own BrowserSession (Playwright's
    sync API wants one driver per thread); their return values, in order."""
    outcomes: list[dict] = [{} for _ in jobs]

    def run(job, outcome):
        try:
            with BrowserSession(OPTIONS) as session:
                outcome["value"] = job(session)
        except BaseException as exc:  # handed back to the test thread
            outcome["error"] = exc

    threads = [threading.Thread(target=run, args=pair) for pair in zip(jobs, outcomes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for outcome in outcomes:
        if "error" in outcome:
            raise outcome["error"]
    return [outcome["value"] for outcome in outcomes]


def test_two_threads_share_one_chromium_and_each_answers_its_own_dialogs(make_site):
    site = make_site({"/": page("<h1>Valley Motors</h1>")})
    both_open = threading.Barrier(2, timeout=60)

    def job(session):
        context = session.new_context()
        try:
            tab = context.new_page()
            tab.on("dialog", lambda dialog: dialog.accept())
            tab.goto(site.url)
            both_open.wait()  # both contexts live at once, in one browser
            # Another connection to the same browser must not dismiss this dialog.
            answers = [tab.evaluate("confirm('Send?')") for _ in range(3)]
            return (session.browser_pid, _alive(session.browser_pid), tab.inner_text("h1"), answers,
                    len(session.browser.contexts))
        finally:
            context.close()

    first, second = in_threads(job, job)
    assert first[0] == second[0]
    assert first[1:] == second[1:] == (True, "Valley Motors", [True, True, True], 1)


def test_a_killed_chromium_is_replaced_at_the_next_context(browser_session):
    browser_session.new_context().close()
    killed = browser_session.browser_pid
    os.kill(killed, signal.SIGKILL)
    assert _wait_until_gone(killed)

    context = browser_session.new_context()
    try:
        tab = context.new_page()
        tab.set_content("<p>alive</p>")
        assert tab.inner_text("p") == "alive"
    finally:
        context.close()
    assert browser_session.browser_pid not in (None, killed)


def test_recycling_starts_a_new_chromium_and_ends_the_old_one_after_its_last_context(browser_session):
    # recycle_after=1 leaves exactly one attempt on the current Chromium, whatever ran before.
    first = browser_session.new_context(replace(OPTIONS, recycle_after=1))
    old_pid = browser_session.browser_pid
    every_two = replace(OPTIONS, recycle_after=2)
    running = browser_session.new_context(every_two)
    assert browser_session.browser_pid == old_pid
    first.close()
    fresh = browser_session.new_context(every_two)
    try:
        assert browser_session.browser_pid not in (None, old_pid)
        # The attempt still running on the old browser is not cut short.
        assert _alive(old_pid)
        tab = running.new_page()
        tab.set_content("<p>still here</p>")
        assert tab.inner_text("p") == "still here"
    finally:
        running.close()
        fresh.close()
    assert _wait_until_gone(old_pid)


def test_the_guard_blocks_loopback_over_the_shared_browser(make_site, browser_session):
    site = make_site({"/": page("<h1>private</h1>")})
    context = browser_session.new_context(replace(OPTIONS, allow_private_targets=False))
    try:
        with pytest.raises(PlaywrightError):
            context.new_page().goto(site.url)
    finally:
        context.close()
    assert site.hits == []


def test_a_cross_site_iframe_is_reachable_through_page_frames(make_site, browser_session):
    inner = make_site({"/form": page('<input name="email"><p id="where">inside</p>')})
    # localhost and 127.0.0.1 are different sites, so this is an out-of-process iframe
    # in the browser server's Chromium.
    inner_url = inner.url.replace("127.0.0.1", "localhost") + "form"
    outer = make_site({"/": page(f'<iframe src="{inner_url}"></iframe>')})
    context = browser_session.new_context()
    try:
        tab = context.new_page()
        tab.goto(outer.url)
        tab.wait_for_load_state("load")
        frame = next(f for f in tab.frames if f.url == inner_url)
        frame.fill("input[name=email]", "alice.buyer@example.org")
        assert frame.input_value("input[name=email]") == "alice.buyer@example.org"
        assert frame.inner_text("#where") == "inside"
        assert tab.screenshot()[:4] == b"\x89PNG"
    finally:
        context.close()


def _run_child(script: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _descendants_script() -> str:
    return """
        import os
        from pathlib import Path
        def descendants(root):
            children = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    except (OSError, IndexError, ValueError):
                        continue
                    children.setdefault(parent, []).append(int(entry.name))
            found, todo = [], [root]
            while todo:
                for child in children.get(todo.pop(), []):
                    found.append(child)
                    todo.append(child)
            return found
    """


def test_closing_the_last_session_leaves_no_browser_processes():
    # A process of its own, so no other test's session keeps the shared browser open.
    child = _run_child(_descendants_script() + """
        import threading
        from contacts.engine import BrowserSession
        from contacts.engine.types import EngineOptions

        options = EngineOptions(allow_private_targets=True)
        first = BrowserSession(options)
        context = first.new_context()
        context.new_page().set_content("<p>x</p>")

        def use_and_close():
            with BrowserSession(options) as second:
                second.new_context().close()

        thread = threading.Thread(target=use_and_close)
        thread.start()
        thread.join()
        print(*descendants(os.getpid()), flush=True)  # drivers, server, Chromium, renderers
        context.close()
        first.close()
        first.close()  # idempotent
        print(*descendants(os.getpid()), flush=True)
    """)
    out, _ = child.communicate(timeout=180)
    assert child.returncode == 0
    while_open, after_close = out.splitlines()
    assert len(while_open.split()) >= 3
    assert after_close == ""
    # Chromium's processes are not our children once the server is gone: look for them.
    assert [pid for pid in map(int, while_open.split()) if not _wait_until_gone(pid, 5)] == []


def test_a_killed_worker_process_takes_its_browser_with_it():
    child = _run_child("""
        import time
        from contacts.engine import BrowserSession
        from contacts.engine.types import EngineOptions

        session = BrowserSession(EngineOptions(allow_private_targets=True))
        session.new_context()
        print(session.browser_pid, flush=True)
        time.sleep(300)
    """)
    try:
        browser_pid = int(child.stdout.readline())
        assert _alive(browser_pid)
    finally:
        child.kill()  # no atexit, no close(): only the server's watch on its stdin is left
        child.wait()
    assert _wait_until_gone(browser_pid)
