"""The engine's runtime: one asyncio loop per OS process, with one Playwright driver, one
Chromium and the egress proxy all of that Chromium's traffic goes through.

Playwright's objects belong to the event loop that made them, so the engine runs on one
asyncio loop in a thread of its own (`EngineRuntime`), and any thread hands it work with
`BrowserSession.run()`. Attempts overlap on that loop: while one waits for a page,
another fills a form. A driver per thread (the sync API's way) cost about 80 MB each,
and a browser server to share one Chromium between them 90 MB more.

Every Chromium is launched behind the process's egress proxy (`egress.py`), which lets it
reach the public internet and the allowed hosts and nothing else, with WebRTC kept to the
proxy, and with its own sandbox wherever the machine allows (`sandbox.py`). Each attempt
gets a fresh context: service workers blocked, downloads refused.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any, Awaitable, TypeVar

import psutil

from contacts.engine.busy import BusyGate
from contacts.engine.discovery import find_browser_executable
from contacts.engine.network_guard import EgressPolicy, parse_allowlist
from contacts.engine.sandbox import LaunchPlan, launch_plans, note_unsandboxed

if TYPE_CHECKING:
    from contacts.engine.egress import EgressProxy

T = TypeVar("T")
log = logging.getLogger(__name__)

# These keep Chromium from phoning home: on a closed network those connections fail by
# the dozen and slow it (and the egress proxy would refuse them anyway).
CHROMIUM_ARGS = [
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


def egress_args(proxy_url: str) -> list[str]:
    """Every connection through the egress proxy, loopback included (Chromium otherwise
    connects to loopback directly), and WebRTC kept to it: no UDP that is not proxied,
    and HTTP proxies carry none, so WebRTC can only use TURN over TCP through the proxy.
    Chromium's own resolver answers nothing (the proxy resolves every name), so whatever
    might try to go around the proxy could not even look a name up."""
    return [
        f"--proxy-server={proxy_url}",
        "--proxy-bypass-list=<-loopback>",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # the proxy itself
    ]


LAUNCH_TIMEOUT_S = 30
CLOSE_TIMEOUT_S = 10
# A context that hangs while closing must not keep a retired Chromium alive for ever.
RETIRED_BROWSER_GRACE_S = 1
# After its close, a Chromium has this long to exit before it is killed.
EXIT_GRACE_S = 3

# A current desktop Chrome on Windows: what most visitors to a dealer site look like.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
VIEWPORT = {"width": 1366, "height": 900}


class BrowserLaunchFailed(RuntimeError):
    pass


async def launch_chromium(playwright, plan: LaunchPlan, proxy_url: str, headless: bool = True,
                          extra_args: tuple[str, ...] = ()) -> Any:
    """One Chromium as the engine runs it: started as `plan` says (sandboxed where it can
    be), every connection through the egress proxy at `proxy_url`."""
    return await playwright.chromium.launch(
        executable_path=plan.executable or None,
        headless=headless,
        chromium_sandbox=plan.sandboxed,  # Playwright adds --no-sandbox unless told otherwise
        args=[*plan.args, *CHROMIUM_ARGS, *MEMORY_SAVING_ARGS, *egress_args(proxy_url), *extra_args],
        env=plan.env,
        handle_sigint=False,
        timeout=LAUNCH_TIMEOUT_S * 1000,
    )


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
        if thread.is_alive():
            # The threads asyncio.to_thread() used (reading the process table) end here,
            # not some moment after: loop.close() only tells them to, without waiting.
            try:
                asyncio.run_coroutine_threadsafe(loop.shutdown_default_executor(), loop).result(timeout)
            except Exception:
                pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()


class Generation:
    """One launched Chromium and the contexts opened on it."""

    def __init__(self, browser: Any, pid: int | None) -> None:
        self.browser = browser
        # Held from the launch, so that ending it later can never hit a process that
        # took the number over after it (psutil checks the start time).
        self.process = _process(pid)
        self.attempts = 0  # contexts opened on it
        self.open_contexts = 0
        self.retired = False  # no new contexts; closed when its last context closes
        self.crashed = False
        browser.on("disconnected", lambda _browser: self._gone())

    def _gone(self) -> None:
        self.crashed = True

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def usable(self) -> bool:
        return not self.crashed and not self.retired and self.browser.is_connected()


class BrowserPool:
    """The Playwright driver, the Chromium and the egress proxy of the engine loop.
    Loop-only: every method but kill() runs on the engine thread.

    A Chromium is launched on first use, relaunched after a crash, and recycled after
    `options.recycle_after` contexts: long-lived Chromiums grow, and a fresh one is cheap.
    Attempts still running on a retired one finish there; it closes after them. The
    egress proxy starts with the first Chromium and serves every one after it; its
    allowlist is the process's (ALLOWED_PRIVATE_HOSTS), fixed while the pool lives.
    """

    def __init__(self) -> None:
        self._playwright: Any = None
        self._starting = asyncio.Lock()  # binds to the engine loop on first use
        self.current: Generation | None = None
        self.generations: list[Generation] = []
        self.launches = 0  # Chromiums launched by this pool (tests, logs)
        self._plans: list[LaunchPlan] | None = None  # ways to start Chromium, best first
        self.launch_plan: LaunchPlan | None = None  # the one that worked
        self.driver_pid: int | None = None
        self.egress: "EgressProxy | None" = None
        self._busy: BusyGate | None = None

    def busy_gate(self, options) -> BusyGate:
        """The process's places for attempts doing CPU work (busy.py; options.busy_attempts,
        fixed at the first attempt as the allowlist is)."""
        if self._busy is None:
            self._busy = BusyGate(options.busy_attempts)
        return self._busy

    @property
    def browser_pid(self) -> int | None:
        """The process id of the Chromium new contexts open in (tests, logs)."""
        return self.current.pid if self.current is not None and self.current.usable else None

    def _egress_for(self, options) -> "EgressProxy":
        allowed = parse_allowlist(options.egress_allowlist)
        if self.egress is None:
            from contacts.engine.egress import EgressProxy  # proxy.py: only where a browser runs

            self.egress = EgressProxy(EgressPolicy(allowed)).start()
        elif set(self.egress.policy.allowed) != set(allowed):
            raise ValueError(
                "the engine's allowed private hosts are fixed while it runs: "
                f"{', '.join(map(str, self.egress.policy.allowed)) or 'none'}, not "
                f"{', '.join(map(str, allowed)) or 'none'}"
            )
        return self.egress

    async def new_context(self, options) -> Any:
        """A fresh BrowserContext for one attempt, behind the egress proxy."""
        from playwright.async_api import Error as PlaywrightError

        self._egress_for(options)
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
        return context

    async def _open_context(self, generation: Generation) -> Any:
        try:
            context = await generation.browser.new_context(
                viewport=VIEWPORT,
                user_agent=USER_AGENT,
                locale="en-US",
                ignore_https_errors=False,
                # A service worker outlives the page and fetches on its own; none is needed.
                service_workers="block",
                accept_downloads=False,
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
        if self._plans is None:
            # Looking for Playwright's own browser starts a driver: do it once, off the loop.
            executable = await asyncio.to_thread(find_browser_executable, options.browser_executable, options.headless)
            self._plans = launch_plans(executable, options.browser_user)
        egress = self._egress_for(options)
        failures: list[str] = []
        for plan in list(self._plans):
            known = set(chromium_main_pids())
            try:
                browser = await launch_chromium(self._playwright, plan, egress.url, options.headless)
            except Exception as exc:
                failures.append((str(exc).strip().splitlines() or [type(exc).__name__])[0])
                if len(self._plans) > 1 and self.launches == 0:
                    self._plans.remove(plan)  # never worked here: do not try it again
                    continue
                raise BrowserLaunchFailed(f"The browser did not start: {failures[-1]}") from exc
            if self.launch_plan is not plan:
                self.launch_plan = plan
                note_unsandboxed(plan, failures[0] if failures else "")
            generation = Generation(browser, await _new_process(chromium_main_pids, known))
            self.generations.append(generation)
            self.launches += 1
            return generation
        raise BrowserLaunchFailed(f"The browser did not start: {failures[0] if failures else 'no way to start it'}")

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
        # A close that hung, or a Chromium slow to exit, must not leave a browser with no
        # contexts holding its memory for the rest of the worker's life.
        await _ended(generation.process, EXIT_GRACE_S)

    def kill(self) -> None:
        """End the driver and every Chromium with signals, from any thread (abandon())."""
        # Browsers first: the driver would close them, but it does not answer SIGTERM
        # promptly, and a polite close needs the blocked loop. Each through the handle held
        # since its launch, which never signals a process that took its number over.
        for generation in self.generations:
            if generation.process is not None:
                try:
                    generation.process.kill()
                except psutil.Error:
                    pass  # gone already, or not ours
        if self.driver_pid:
            try:
                os.kill(self.driver_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.egress is not None:
            self.egress.stop()

    async def close(self) -> None:
        """Close every Chromium, stop the driver and the egress proxy (bounded)."""
        for generation in list(self.generations):
            await self._close_generation(generation)
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            try:
                await asyncio.wait_for(playwright.stop(), CLOSE_TIMEOUT_S)
            except Exception:
                pass
        if self.egress is not None:
            self.egress.stop()


def _process(pid: int | None) -> psutil.Process | None:
    try:
        return psutil.Process(pid) if pid else None
    except psutil.Error:
        return None


async def _ended(process: psutil.Process | None, grace_s: float) -> None:
    """Give `process` `grace_s` to exit, then kill it."""
    if process is None:
        return
    deadline = time.monotonic() + grace_s
    try:
        while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() >= deadline:
                process.kill()
                return
            await asyncio.sleep(0.05)
    except psutil.Error:
        pass  # gone meanwhile, or not ours to end


async def _new_process(find, known: set[int], wait_s: float = 2.0) -> int | None:
    """The one process `find()` lists that is not in `known`. The process table can lag a
    busy machine by a moment, so it is asked again briefly; None if still unsure."""
    deadline = time.monotonic() + wait_s
    while True:
        new = [pid for pid in await asyncio.to_thread(find) if pid not in known]
        if len(new) == 1 or time.monotonic() >= deadline:
            return new[0] if len(new) == 1 else None
        await asyncio.sleep(0.05)


def descendant_pids(root: int | None = None, skip: set[int] = frozenset()) -> list[int]:
    """Every process below `root` (this process by default), leaving out the processes in
    `skip` and everything below them. One pass over the process table (asking each process
    for its children reads the whole table once per process)."""
    root = root or os.getpid()
    children: dict[int, list[int]] = {}
    for process in psutil.process_iter(["ppid"]):
        ppid = process.info["ppid"]
        if ppid is not None:
            children.setdefault(ppid, []).append(process.pid)
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in skip:
                found.append(child)
                todo.append(child)
    return found


def _command_line(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def _driver_pids() -> list[int]:
    """Playwright drivers this process started (node running Playwright's CLI run-driver)."""
    return [child.pid for child in psutil.Process().children() if "run-driver" in _command_line(child.pid)]


def chromium_main_pids() -> list[int]:
    """Chromium browser processes below this process (the driver launches them): the ones
    started with Playwright's pipe and without a --type of their own."""
    found = []
    for pid in descendant_pids():
        args = _command_line(pid)
        if "--remote-debugging-pipe" in args and not any(a.startswith("--type=") for a in args):
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
