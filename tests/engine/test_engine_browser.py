"""One engine loop, one Playwright driver and one Chromium per process, shared by every
attempt: overlapping attempts, isolation between them, crash recovery, recycling,
shutdown, and what an attempt needs of the browser."""

from __future__ import annotations

import asyncio
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

from tests.engine.conftest import OPTIONS, Reply, alive, page, wait_until_gone

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_threads_share_one_loop_and_one_chromium_and_each_answers_its_own_dialogs(make_site, browser_session):
    site = make_site({"/": page("<h1>Valley Motors</h1>")})
    both_open = threading.Barrier(2, timeout=60)
    results: list = [None, None]

    async def visit(context):
        tab = await context.new_page()
        tab.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await tab.goto(site.url)
        return tab

    def job(index: int) -> None:
        context = browser_session.run(browser_session.new_context())
        try:
            tab = browser_session.run(visit(context))
            both_open.wait()  # both contexts live at once, in one browser
            answers = [browser_session.run(tab.evaluate("confirm('Send?')")) for _ in range(3)]
            results[index] = (browser_session.browser_pid, browser_session.run(tab.inner_text("h1")), answers,
                              threading.current_thread().name)
        finally:
            browser_session.run(context.close())

    threads = [threading.Thread(target=job, args=(n,), name=f"caller-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    first, second = results
    assert first[0] == second[0] and alive(first[0])
    assert first[1:3] == second[1:3] == ("Valley Motors", [True, True, True])


def test_attempts_overlap_on_the_engine_loop(make_site, browser_session):
    # Two slow pages opened at once take about as long as one: the loop is not serial.
    site = make_site({"/": Reply(page("<h1>slow</h1>"), delay_s=1.5)})

    async def open_slow_page():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            await tab.goto(site.url)
            return await tab.inner_text("h1")
        finally:
            await context.close()

    async def both():
        return await asyncio.gather(open_slow_page(), open_slow_page())

    browser_session.run(open_slow_page())  # the browser is up before timing
    started = time.monotonic()
    assert browser_session.run(both()) == ["slow", "slow"]
    assert time.monotonic() - started < 2.9


def test_a_killed_chromium_is_replaced_at_the_next_context(browser_session):
    browser_session.run(_open_and_close(browser_session))
    killed = browser_session.browser_pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    assert wait_until_gone(killed)

    async def use_again():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            await tab.set_content("<p>alive</p>")
            return await tab.inner_text("p")
        finally:
            await context.close()

    assert browser_session.run(use_again()) == "alive"
    assert browser_session.browser_pid not in (None, killed)


async def _open_and_close(session, options=None):
    context = await session.new_context(options)
    await context.close()


def test_recycling_starts_a_new_chromium_and_ends_the_old_one_after_its_last_context(browser_session):
    async def scenario():
        # recycle_after=1 leaves exactly one attempt on the current Chromium, whatever ran before.
        first = await browser_session.new_context(replace(OPTIONS, recycle_after=1))
        old_pid = browser_session.browser_pid
        every_two = replace(OPTIONS, recycle_after=2)
        running = await browser_session.new_context(every_two)
        same_pid = browser_session.browser_pid
        await first.close()
        fresh = await browser_session.new_context(every_two)
        try:
            new_pid = browser_session.browser_pid
            # The attempt still running on the old browser is not cut short.
            old_alive = alive(old_pid)
            tab = await running.new_page()
            await tab.set_content("<p>still here</p>")
            text = await tab.inner_text("p")
        finally:
            await running.close()
            await fresh.close()
        return old_pid, same_pid, new_pid, old_alive, text

    old_pid, same_pid, new_pid, old_alive, text = browser_session.run(scenario())
    assert same_pid == old_pid
    assert new_pid not in (None, old_pid)
    assert old_alive and text == "still here"
    assert wait_until_gone(old_pid)


def test_a_retired_chromium_whose_close_hangs_is_ended_anyway(browser_session, monkeypatch):
    from contacts.engine import runtime

    monkeypatch.setattr(runtime, "CLOSE_TIMEOUT_S", 0.5)

    async def close_that_hangs(*_args, **_kwargs):
        await asyncio.Event().wait()

    async def scenario():
        first = await browser_session.new_context(replace(OPTIONS, recycle_after=1))
        old = browser_session.pool.current
        every_two = replace(OPTIONS, recycle_after=2)
        running = await browser_session.new_context(every_two)
        await first.close()
        fresh = await browser_session.new_context(every_two)
        assert browser_session.pool.current is not old
        old.browser.close = close_that_hangs  # the old browser never answers its close
        await running.close()  # its last context: the old browser is closed a moment later
        await fresh.close()
        return old.pid

    old_pid = browser_session.run(scenario())
    assert old_pid and wait_until_gone(old_pid)


def test_chromium_goes_through_the_egress_proxy(canary, browser_session):
    async def visit():
        context = await browser_session.new_context()
        try:
            response = await (await context.new_page()).goto(canary.url())
            return response.status, await response.header_value("x-dealercontact-egress")
        finally:
            await context.close()

    assert browser_session.run(visit()) == (403, "private")
    canary.drain()
    assert canary.connections == 0


def test_chromium_runs_in_its_own_sandbox(browser_session):
    """Renderers under seccomp-bpf in user and PID namespaces of their own, with the browser
    dropped to an unprivileged user when the worker is root (sandbox.py)."""
    import psutil

    from contacts.engine.runtime import descendant_pids

    async def renderers():
        context = await browser_session.new_context()
        try:
            await (await context.new_page()).set_content("<p>sandboxed?</p>")
            found = []
            for pid in descendant_pids(browser_session.browser_pid):
                process = psutil.Process(pid)
                if "--type=renderer" in process.cmdline():
                    status = Path(f"/proc/{pid}/status").read_text()
                    found.append((process.username(), status.split("Seccomp:")[1].split()[0],
                                  os.readlink(f"/proc/{pid}/ns/user"), os.readlink(f"/proc/{pid}/ns/pid")))
            return found
        finally:
            await context.close()

    browser_session.run(_open_and_close(browser_session))  # a Chromium is up
    plan = browser_session.pool.launch_plan
    if not plan.sandboxed:
        pytest.skip(f"no sandbox on this machine: {plan.why_not}")
    found = browser_session.run(renderers())
    assert found
    for user, seccomp, user_namespace, pid_namespace in found:
        assert seccomp == "2"  # filtered system calls
        assert user_namespace != os.readlink("/proc/self/ns/user")
        assert pid_namespace != os.readlink("/proc/self/ns/pid")
        assert user != "root"


def test_a_cross_site_iframe_is_reachable_through_page_frames(make_site, browser_session):
    inner = make_site({"/form": page('<input name="email"><p id="where">inside</p>')})
    # localhost and 127.0.0.1 are different sites, so this is an out-of-process iframe.
    inner_url = inner.url.replace("127.0.0.1", "localhost") + "form"
    outer = make_site({"/": page(f'<iframe src="{inner_url}"></iframe>')})

    async def visit():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            await tab.goto(outer.url)
            await tab.wait_for_load_state("load")
            frame = next(f for f in tab.frames if f.url == inner_url)
            await frame.fill("input[name=email]", "alice.buyer@example.org")
            return (await frame.input_value("input[name=email]"), await frame.inner_text("#where"),
                    (await tab.screenshot())[:4])
        finally:
            await context.close()

    assert browser_session.run(visit()) == ("alice.buyer@example.org", "inside", b"\x89PNG")


def test_run_refuses_to_block_the_engine_loop_on_itself(browser_session):
    async def nested():
        browser_session.run(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="engine loop itself"):
        browser_session.run(nested())


def _run_child(script: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_closing_the_last_session_leaves_no_browser_processes():
    # A process of its own, so no other test's session keeps the shared browser open.
    child = _run_child("""
        import threading
        from contacts.engine import BrowserSession
        from contacts.engine.runtime import descendant_pids
        from contacts.engine.types import EngineOptions

        async def open_page(session):
            context = await session.new_context()
            await (await context.new_page()).set_content("<p>x</p>")
            return context

        async def open_and_close(session):
            await (await session.new_context()).close()

        options = EngineOptions(allow_private_targets=True, min_dwell_s=0)
        first = BrowserSession(options)
        context = first.run(open_page(first))

        def use_and_close():
            with BrowserSession(options) as second:
                second.run(open_and_close(second))

        thread = threading.Thread(target=use_and_close)
        thread.start()
        thread.join()
        print(*descendant_pids(), flush=True)  # driver, Chromium, renderers
        first.run(context.close())
        first.close()
        first.close()  # idempotent
        print(*descendant_pids(), flush=True)
        print(threading.active_count(), flush=True)
    """)
    out, _ = child.communicate(timeout=180)
    assert child.returncode == 0
    while_open, after_close, threads_left = out.splitlines()
    assert len(while_open.split()) >= 3
    assert after_close == ""
    assert threads_left == "1"  # the engine loop's thread ended too
    assert [pid for pid in map(int, while_open.split()) if not wait_until_gone(pid, 5)] == []


def test_a_killed_worker_process_takes_its_browser_with_it():
    child = _run_child("""
        import time
        from contacts.engine import BrowserSession
        from contacts.engine.types import EngineOptions

        async def open_context(session):
            return await session.new_context()

        session = BrowserSession(EngineOptions(allow_private_targets=True, min_dwell_s=0))
        session.run(open_context(session))
        print(session.browser_pid, flush=True)
        time.sleep(300)
    """)
    try:
        browser_pid = int(child.stdout.readline())
        assert alive(browser_pid)
    finally:
        child.kill()  # no atexit, no close(): only the driver's watch on its stdin is left
        child.wait()
    assert wait_until_gone(browser_pid)


def test_a_blocked_engine_loop_is_abandoned_for_a_fresh_one():
    # A process of its own: the blocked loop and its driver are this test's alone.
    child = _run_child("""
        import time
        import psutil
        from contacts.engine import BrowserSession
        from contacts.engine.types import EngineOptions

        async def page_text(session):
            context = await session.new_context()
            tab = await context.new_page()
            await tab.set_content("<p>alive</p>")
            return await tab.inner_text("p")

        async def block_the_loop():
            time.sleep(20)  # the kind of bug this guards against: a blocking call on the loop

        session = BrowserSession(EngineOptions(allow_private_targets=True, min_dwell_s=0))
        session.run(page_text(session))
        old_browser, old_driver = session.browser_pid, session.pool.driver_pid
        print(session.abandon_engine_if_blocked(1), flush=True)  # answering: kept
        session.submit(block_the_loop())
        print(session.abandon_engine_if_blocked(1), flush=True)  # blocked: replaced
        print(session.run(page_text(session), timeout=60), flush=True)
        print(old_browser, old_driver, session.browser_pid, session.pool.driver_pid, flush=True)

        def gone(pid, within_s=10):
            deadline = time.monotonic() + within_s
            while time.monotonic() < deadline:
                try:
                    if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                        return True
                except psutil.NoSuchProcess:
                    return True
                time.sleep(0.05)
            return False

        # While the old loop is still blocked (and this process alive): ended by signals.
        print(gone(old_browser), gone(old_driver), flush=True)
    """)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    kept, replaced, text, pids, old_ones_gone = out.splitlines()
    assert (kept, replaced, text) == ("False", "True", "alive")
    old_browser, old_driver, new_browser, new_driver = map(int, pids.split())
    assert new_browser != old_browser and new_driver != old_driver
    assert old_ones_gone == "True True"
