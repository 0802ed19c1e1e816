"""Finding, launching and sharing the browser the engine drives.

One Playwright driver and one Chromium per OS process, shared by every attempt the
process runs. Playwright's objects belong to the event loop that made them, so the
engine runs on one asyncio loop in a thread of its own (`EngineRuntime`), and any thread
hands it work with `BrowserSession.run()`. Attempts overlap on that loop: while one
waits for a page, another fills a form. A driver per thread (the sync API's way) cost
about 80 MB each, and a browser server to share one Chromium between them 90 MB more.

Headless, the engine prefers Chromium's headless shell ("old headless"): measured with
four attempts at once, it holds about 480 MB where the full browser in its new headless
mode held 790 MB, and finished the same pages in a third of the time.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

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

# Measured (peak PSS, four attempts at once, one sample each so +-30 MB is noise): the
# headless shell saved 300 MB; without the software rasterizer the GPU process holds
# 54 MB instead of 88 (pages and screenshots still render in software; only WebGL, which
# no contact form needs, goes). --in-process-gpu, a network service in process, a
# smaller V8 young generation in renderers and disabling process swaps saved nothing
# measurable. The rest are background features a form filler never uses.
MEMORY_SAVING_ARGS = [
    "--disable-gpu",
    "--disable-software-rasterizer",
    "--disable-extensions",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]

# Headless shells first when headless: Debian's package (its /usr/bin entry is a shell
# script that does not exec, so the binary itself is preferred), then other builds.
SYSTEM_HEADLESS_SHELLS = (
    "/usr/lib/chromium/chromium-headless-shell",
    "chromium-headless-shell",
    "chrome-headless-shell",
    "headless_shell",
)
SYSTEM_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

LAUNCH_TIMEOUT_S = 30
CLOSE_TIMEOUT_S = 10
# A context that hangs while closing must not keep a retired Chromium alive for ever.
RETIRED_BROWSER_GRACE_S = 1


class BrowserNotFound(RuntimeError):
    pass


class BrowserLaunchFailed(RuntimeError):
    pass


def playwright_bundled_executable() -> str:
    """Playwright's own Chromium, if `playwright install chromium` has been run.

    Starts a driver of its own, so call it off the engine loop (and rarely).
    """
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


def _system_browser(headless: bool) -> str:
    names = (*SYSTEM_HEADLESS_SHELLS, *SYSTEM_BROWSER_NAMES) if headless else SYSTEM_BROWSER_NAMES
    for name in names:
        path = name if name.startswith("/") and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return ""


# What find_browser_executable() returns when Playwright's own browsers are installed:
# launch without an executable and let Playwright pick (its headless shell when headless).
PLAYWRIGHT_OWN = ""


def find_browser_executable(configured: str = "", headless: bool = True) -> str:
    """BROWSER_EXECUTABLE if set, else Playwright's own browser (PLAYWRIGHT_OWN), else a
    Chromium on this machine, its headless shell first when headless."""
    configured = configured or os.environ.get("BROWSER_EXECUTABLE", "")
    if configured:
        path = shutil.which(configured) or configured
        if not Path(path).exists():
            raise BrowserNotFound(f"BROWSER_EXECUTABLE points to {configured!r}, which does not exist")
        return path
    if playwright_bundled_executable():
        return PLAYWRIGHT_OWN
    path = _system_browser(headless)
    if path:
        return path
    raise BrowserNotFound(
        "No browser found: set BROWSER_EXECUTABLE, run `playwright install chromium`, "
        "or install Chromium (Debian: apt-get install chromium-headless-shell chromium)"
    )


# A current desktop Chrome on Windows: what most visitors to a dealer site look like.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
VIEWPORT = {"width": 1366, "height": 900}


# --- the engine's loop ----------------------------------------------------------------------


class EngineRuntime:
    """The process's engine loop: a daemon thread running asyncio, and on it one
    Playwright driver and the Chromium generations it launched (a `BrowserPool`).

    Started on first use; `shutdown()` ends the browser, the driver and the thread, and
    the next use starts them again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.pool: BrowserPool | None = None

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=serve, name="contact-engine", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread, self.pool = loop, thread, BrowserPool()
            return self._loop

    def in_engine_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, coro: Awaitable[T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the engine loop; its Future may be waited on from any thread."""
        loop = self._ensure_started()
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """Run `coro` on the engine loop and wait for it (never call this from the loop).

        Raises TimeoutError after `timeout` seconds, once the coroutine has been cancelled.
        """
        if self.in_engine_thread():
            if asyncio.iscoroutine(coro):
                coro.close()  # never to run: do not leave it to warn as "never awaited"
            raise RuntimeError("EngineRuntime.run() called from the engine loop itself; await instead")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the engine did not finish within {timeout} s") from None

    def abandon(self) -> None:
        """Give up on a loop that no longer answers (something blocked it): new work goes to
        a fresh loop, driver and Chromium; the old driver and its browsers are ended with
        signals, since asking them politely needs the blocked loop."""
        with self._lock:
            pool, self._loop, self._thread, self.pool = self.pool, None, None, None
        if pool is not None:
            pool.kill()

    def shutdown(self, timeout: float = CLOSE_TIMEOUT_S + 5) -> None:
        """Close the browser and the driver, then stop the loop thread. Idempotent."""
        with self._lock:
            loop, thread, pool = self._loop, self._thread, self.pool
            self._loop = self._thread = self.pool = None
        if loop is None or thread is None:
            return
        if thread.is_alive() and pool is not None:
            try:
                asyncio.run_coroutine_threadsafe(pool.close(), loop).result(timeout)
            except Exception:
                pass  # a hung driver is killed with the process group below
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()


class Generation:
    """One launched Chromium and the contexts opened on it."""

    def __init__(self, browser: Any, pid: int | None) -> None:
        self.browser = browser
        self.pid = pid
        self.attempts = 0  # contexts opened on it
        self.open_contexts = 0
        self.retired = False  # no new contexts; closed when its last context closes
        self.crashed = False
        browser.on("disconnected", lambda _browser: self._gone())

    def _gone(self) -> None:
        self.crashed = True

    @property
    def usable(self) -> bool:
        return not self.crashed and not self.retired and self.browser.is_connected()


class BrowserPool:
    """The Playwright driver and Chromium of the engine loop. Loop-only: every method
    runs on the engine thread.

    A Chromium is launched on first use, relaunched after a crash, and recycled after
    `options.recycle_after` contexts: long-lived Chromiums grow, and a fresh one is cheap.
    Attempts still running on a retired one finish there; it closes after them.
    """

    def __init__(self) -> None:
        self._playwright: Any = None
        self._starting = asyncio.Lock()  # binds to the engine loop on first use
        self.current: Generation | None = None
        self.generations: list[Generation] = []
        self.launches = 0  # Chromiums launched by this pool (tests, logs)
        self._executable: str | None = None
        self.driver_pid: int | None = None

    @property
    def browser_pid(self) -> int | None:
        """The process id of the Chromium new contexts open in (tests, logs)."""
        return self.current.pid if self.current is not None and self.current.usable else None

    async def new_context(self, options) -> Any:
        """A fresh BrowserContext for one attempt, guarded unless private targets are allowed."""
        from playwright.async_api import Error as PlaywrightError

        from contacts.engine.network_guard import install_private_network_guard

        generation = await self._generation_for_attempt(options)
        try:
            context = await self._open_context(generation)
        except PlaywrightError:
            # It died since it was last seen alive (_open_context has let go of it):
            # launch again, once.
            generation.crashed = True
            generation = await self._generation_for_attempt(options)
            context = await self._open_context(generation)
        context.set_default_timeout(options.action_timeout_ms)
        context.set_default_navigation_timeout(options.navigation_timeout_ms)
        if not options.allow_private_targets:
            await install_private_network_guard(context)
        return context

    async def _open_context(self, generation: Generation) -> Any:
        try:
            context = await generation.browser.new_context(
                viewport=VIEWPORT,
                user_agent=USER_AGENT,
                locale="en-US",
                ignore_https_errors=False,
                # Service workers would fetch outside context.route, around the guard.
                service_workers="block",
            )
        except BaseException:
            self._release(generation)
            raise
        context.once("close", lambda _context: self._release(generation))
        return context

    async def _generation_for_attempt(self, options) -> Generation:
        """The Chromium the next context opens in, counted as in use."""
        async with self._starting:  # one launch at a time, however many attempts ask
            current = self.current
            if current is not None and current.usable and current.attempts >= options.recycle_after:
                current.retired = True
                if current.open_contexts == 0:
                    await self._close_generation(current)
                current = self.current = None
            if current is None or not current.usable:
                if current is not None:
                    await self._close_generation(current)  # crashed: whatever is left of it
                current = self.current = await self._launch(options)
            current.attempts += 1
            current.open_contexts += 1
            return current

    async def _launch(self, options) -> Generation:
        if self._playwright is None:
            from playwright.async_api import async_playwright

            known = set(_driver_pids())
            self._playwright = await async_playwright().start()
            self.driver_pid = await _new_process(_driver_pids, known)
        if self._executable is None:
            # Looking for Playwright's own browser starts a driver: do it once, off the loop.
            self._executable = await asyncio.to_thread(
                find_browser_executable, options.browser_executable, options.headless
            )
        known = set(chromium_main_pids())
        try:
            browser = await self._playwright.chromium.launch(
                executable_path=self._executable or None,
                headless=options.headless,
                args=[*CHROMIUM_ARGS, *MEMORY_SAVING_ARGS],
                handle_sigint=False,
                timeout=LAUNCH_TIMEOUT_S * 1000,
            )
        except Exception as exc:
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise BrowserLaunchFailed(f"The browser did not start: {first_line}") from exc
        generation = Generation(browser, await _new_process(chromium_main_pids, known))
        self.generations.append(generation)
        self.launches += 1
        return generation

    def _release(self, generation: Generation) -> None:
        generation.open_contexts -= 1
        if generation.retired and generation.open_contexts <= 0 and generation in self.generations:
            # Not at once: this runs inside the context's close event, and the close
            # call that fired it still waits for its answer from this browser.
            asyncio.get_running_loop().call_later(
                RETIRED_BROWSER_GRACE_S, lambda: asyncio.ensure_future(self._close_generation(generation))
            )

    async def _close_generation(self, generation: Generation) -> None:
        if generation in self.generations:
            self.generations.remove(generation)
        if self.current is generation:
            self.current = None
        try:
            await asyncio.wait_for(generation.browser.close(), CLOSE_TIMEOUT_S)
        except Exception:
            pass  # a crashed browser is already gone; stopping the driver ends the rest

    def kill(self) -> None:
        """End the driver and every Chromium with signals, from any thread (abandon())."""
        # Browsers first: the driver would close them, but it does not answer SIGTERM
        # promptly, and a polite close needs the blocked loop.
        for pid in [generation.pid for generation in self.generations] + [self.driver_pid]:
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    async def close(self) -> None:
        """Close every Chromium and stop the driver (bounded)."""
        for generation in list(self.generations):
            await self._close_generation(generation)
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            try:
                await asyncio.wait_for(playwright.stop(), CLOSE_TIMEOUT_S)
            except Exception:
                pass


async def _new_process(find, known: set[int], wait_s: float = 2.0) -> int | None:
    """The one process `find()` lists that is not in `known`. Read off /proc, which can
    lag a busy machine by a moment, so it is asked again briefly; None if still unsure."""
    deadline = time.monotonic() + wait_s
    while True:
        new = [pid for pid in await asyncio.to_thread(find) if pid not in known]
        if len(new) == 1 or time.monotonic() >= deadline:
            return new[0] if len(new) == 1 else None
        await asyncio.sleep(0.05)


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # it ended while we looked
            children.setdefault(parent, []).append(int(entry.name))
    return children


def descendant_pids(root: int | None = None, skip: set[int] = frozenset()) -> list[int]:
    """Every process below `root` (this process by default), read off /proc, leaving out
    the processes in `skip` and everything below them."""
    children, found, todo = _children_by_parent(), [], [root or os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in skip:
                found.append(child)
                todo.append(child)
    return found


def _command_line(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def _driver_pids() -> list[int]:
    """Playwright drivers this process started (node running Playwright's CLI run-driver)."""
    return [pid for pid in _children_by_parent().get(os.getpid(), []) if b"run-driver" in _command_line(pid)]


def chromium_main_pids() -> list[int]:
    """Chromium browser processes below this process (the driver launches them): the ones
    started with Playwright's pipe and without a --type of their own."""
    found = []
    for pid in descendant_pids():
        args = _command_line(pid)
        if b"--remote-debugging-pipe" in args and not any(a.startswith(b"--type=") for a in args):
            found.append(pid)
    return found


_runtime = EngineRuntime()
atexit.register(_runtime.shutdown)


class BrowserSession:
    """A handle on the process's engine, usable from any thread: `run()` a coroutine on
    the engine loop, open contexts, see the browser's pid. Sessions are counted; when the
    last one closes, the browser and the driver end (they start again on next use).
    """

    _open_sessions = 0
    _count_lock = threading.Lock()

    def __init__(self, options=None) -> None:
        from contacts.engine.types import EngineOptions

        self.options = options or EngineOptions()
        self._runtime = _runtime
        self._closed = False
        with BrowserSession._count_lock:
            BrowserSession._open_sessions += 1

    def __enter__(self) -> "BrowserSession":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def run(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """Run a coroutine on the engine loop and wait for its result."""
        return self._runtime.run(coro, timeout)

    def submit(self, coro: Awaitable[T]) -> concurrent.futures.Future[T]:
        return self._runtime.submit(coro)

    async def new_context(self, options=None) -> Any:
        """A fresh context for one attempt (await it on the engine loop)."""
        return await self.pool.new_context(options or self.options)

    @property
    def pool(self) -> BrowserPool:
        self._runtime._ensure_started()
        assert self._runtime.pool is not None
        return self._runtime.pool

    @property
    def launches(self) -> int:
        """Chromiums launched in this process since the engine last started."""
        return self._runtime.pool.launches if self._runtime.pool is not None else 0

    @property
    def browser_pid(self) -> int | None:
        return self._runtime.pool.browser_pid if self._runtime.pool is not None else None

    def abandon_engine_if_blocked(self, wait_s: float = 10) -> bool:
        """If the engine loop does not answer within `wait_s` (something blocked it), move
        every session to a fresh one (EngineRuntime.abandon); whether it did."""
        try:
            self._runtime.run(asyncio.sleep(0), timeout=wait_s)
            return False
        except TimeoutError:
            log.error("the contact engine's loop is not answering; starting a fresh one")
            self._runtime.abandon()
            return True

    def close(self) -> None:
        """Let go of the engine; the last session to close ends the browser. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with BrowserSession._count_lock:
            BrowserSession._open_sessions -= 1
            last = BrowserSession._open_sessions <= 0
        if last:
            self._runtime.shutdown()
