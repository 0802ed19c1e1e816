"""Finding and launching the browser the engine drives.

One Chromium per OS process, shared by every thread: Playwright's sync objects belong to
the thread that made them, so each thread's BrowserSession has its own Playwright driver,
but they all connect to the same browser server (one Chromium), which this module starts.
Ten Chromium processes per worker thread were most of a batch's memory.

Not connect_over_cdp: every CDP client attaches to every page in the browser, and
Playwright dismisses a dialog nobody on *its* connection listens to, so one thread would
answer another thread's confirm() with "cancel".
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
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

# Background features a headless form filler never uses. Measured with a 12-dealer batch
# at 4 threads (peak PSS, one sample each, so +-50 MB is noise): no extra flags 1015 MB;
# these plus site-per-process/IsolateOrigins disabled and --renderer-process-limit=4,
# 1046 MB (renderers cannot be shared across contexts, so the limit does nothing here);
# adding --no-zygote, 1121 MB (renderers no longer share the zygote's pages). None of
# them saved memory measurably; only these harmless ones are kept.
MEMORY_SAVING_ARGS = [
    "--disable-gpu",
    "--disable-extensions",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]

SYSTEM_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

LAUNCH_TIMEOUT_S = 30
TERMINATE_GRACE_S = 3
RETIRED_BROWSER_GRACE_S = 1


class BrowserNotFound(RuntimeError):
    pass


class BrowserLaunchFailed(RuntimeError):
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


# --- the shared Chromium -------------------------------------------------------------------


# Started with Playwright's own Node.js: the public `launchServer` of the bundled
# playwright-core launches Chromium and serves it to any number of Playwright clients,
# each of which sees only the contexts it made (so its dialogs, routes and pages go to it
# alone). It prints the endpoint and the browser's pid, and ends the browser when its
# stdin closes, that is when this process ends however it ends.
_SERVER_SCRIPT = r"""
const { chromium } = require(process.argv[1]);
const options = JSON.parse(process.argv[2]);
chromium.launchServer(options).then((server) => {
  console.log(JSON.stringify({ endpoint: server.wsEndpoint(), pid: server.process().pid }));
  server.on("close", () => process.exit(0));
  const stop = () => server.close().finally(() => process.exit(0));
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
}, (error) => { console.error(String(error)); process.exit(1); });
"""


class SharedChromium:
    """One browser server and its Chromium (a "generation"), shared by every session.

    Counters are changed only under the registry's lock.
    """

    def __init__(self, executable: str, headless: bool) -> None:
        import json

        from playwright._impl._driver import compute_driver_executable

        node, cli = compute_driver_executable()
        self.attempts = 0  # contexts opened on it, by every session
        self.open_contexts = 0
        self.retired = False  # no new contexts; ends when its last context closes
        launch_options = {
            "executablePath": executable,
            "headless": headless,
            "args": [*CHROMIUM_ARGS, *MEMORY_SAVING_ARGS],
            "host": "127.0.0.1",
            "handleSIGINT": False,
            "timeout": LAUNCH_TIMEOUT_S * 1000,
        }
        self._log = tempfile.TemporaryFile()
        # Its own process group, so shutdown can end Chromium's processes with it.
        self.process = subprocess.Popen(
            [str(node), "-e", _SERVER_SCRIPT, str(Path(cli).parent), json.dumps(launch_options)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, start_new_session=True,
        )
        self.server_pid = self.process.pid
        try:
            started = self._read_start_line()
        except BaseException:
            self.terminate()
            raise
        self.endpoint, self.pid = started["endpoint"], started["pid"]

    def _read_start_line(self) -> dict:
        import json
        import select

        deadline = time.monotonic() + LAUNCH_TIMEOUT_S + 5
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                if line.startswith(b"{"):
                    return json.loads(line)
                if not line:
                    break
        self._log.seek(0)
        tail = self._log.read().decode(errors="replace").strip()[-500:]
        raise BrowserLaunchFailed(f"The browser server did not start (exit code {self.process.poll()}): {tail}")

    def alive(self) -> bool:
        if self.process.poll() is not None:
            return False
        try:  # Chromium may have died under a live server
            return Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    def terminate(self) -> None:
        """End the server and Chromium (bounded: SIGTERM, then SIGKILL to the whole
        process group); idempotent. Playwright removes the profile it made."""
        try:
            self.process.stdin.close()  # the server closes Chromium and exits
        except OSError:
            pass
        try:
            self.process.wait(TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.server_pid, signal.SIGKILL)  # whatever outlived it
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        self.process.stdout.close()
        self._log.close()


class _Registry:
    """This process's Chromium generations and the sessions using them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: SharedChromium | None = None
        self.generations: list[SharedChromium] = []  # current and retired, still running
        self.sessions = 0
        self.executable = ""
        self.launches = 0

    def chromium_for_attempt(self, options) -> tuple[SharedChromium, bool]:
        """The generation the next context should open on, counted as in use; and whether
        it was launched by this call."""
        ended = []
        launched = False
        with self.lock:
            current = self.current
            if current is not None and not current.alive():
                ended.append(current)  # crashed or killed: start again
                self._forget(current)
                current = None
            if current is not None and current.attempts >= options.recycle_after:
                # Long-lived Chromiums grow; a fresh one is cheap. Attempts still running
                # on the old one finish there.
                current.retired = True
                if current.open_contexts == 0:
                    ended.append(current)
                    self._forget(current)
                self.current = current = None
            if current is None:
                # Looking for Playwright's own browser starts a driver: do it once.
                self.executable = self.executable or find_browser_executable(options.browser_executable)
                current = SharedChromium(self.executable, options.headless)
                self.current = current
                self.generations.append(current)
                self.launches += 1
                launched = True
            current.attempts += 1
            current.open_contexts += 1
        for chromium in ended:
            chromium.terminate()
        return current, launched

    def context_closed(self, chromium: SharedChromium) -> None:
        with self.lock:
            chromium.open_contexts -= 1
            done = chromium.retired and chromium.open_contexts <= 0
            if done:
                self._forget(chromium)
        if done:
            # Not at once: this runs inside the context's close event, and the close call
            # that fired it still waits for its answer from this browser.
            timer = threading.Timer(RETIRED_BROWSER_GRACE_S, chromium.terminate)
            timer.daemon = True
            timer.start()

    def _forget(self, chromium: SharedChromium) -> None:
        if chromium in self.generations:
            self.generations.remove(chromium)
        if self.current is chromium:
            self.current = None

    def session_opened(self) -> None:
        with self.lock:
            self.sessions += 1

    def session_closed(self) -> None:
        with self.lock:
            self.sessions -= 1
            if self.sessions > 0:
                return
            ending, self.generations, self.current = self.generations, [], None
        for chromium in ending:
            chromium.terminate()

    def shutdown(self) -> None:
        with self.lock:
            ending, self.generations, self.current = self.generations, [], None
        for chromium in ending:
            chromium.terminate()


_registry = _Registry()
atexit.register(_registry.shutdown)


class BrowserSession:
    """One thread's way to the process's shared Chromium: its own Playwright driver and
    connection, a fresh context per attempt. The Chromium is launched on first use,
    relaunched after a crash, recycled after `options.recycle_after` attempts in total, and
    ended when the last session closes (or at exit).

    Playwright's sync objects belong to the thread that created them, so a session must
    only be used (and closed) on one thread.
    """

    def __init__(self, options=None) -> None:
        from contacts.engine.types import EngineOptions

        self.options = options or EngineOptions()
        self._playwright = None
        # This session's connections: to the current Chromium, and to retired ones while
        # a context of this session still runs there.
        self._connections: dict[SharedChromium, object] = {}
        self._chromium: SharedChromium | None = None  # the one new contexts go to
        self._registered = False
        self._open: dict[int, SharedChromium] = {}  # id(context) -> its Chromium
        self.launches = 0  # Chromiums this session has connected to (tests, logs)

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
            context = self._open_context(options)
        except PlaywrightError:
            # The browser died since it was last seen alive: connect again (the registry
            # relaunches it if its process has gone), once.
            self._forget_connection(self._chromium)
            context = self._open_context(options)
        context.set_default_timeout(options.action_timeout_ms)
        context.set_default_navigation_timeout(options.navigation_timeout_ms)
        if not options.allow_private_targets:
            install_private_network_guard(context)
        return context

    def _open_context(self, options):
        if not self._registered:
            _registry.session_opened()
            self._registered = True
        chromium, _ = _registry.chromium_for_attempt(options)
        try:
            browser = self._connected_to(chromium)
            context = browser.new_context(
                viewport=VIEWPORT,
                user_agent=USER_AGENT,
                locale="en-US",
                ignore_https_errors=False,
                # Service workers would fetch outside context.route, around the guard.
                service_workers="block",
            )
        except BaseException:
            _registry.context_closed(chromium)
            raise
        self._open[id(context)] = chromium
        context.on("close", lambda closed: self._context_closed(closed))
        self._drop_idle_connections()
        return context

    def _context_closed(self, context) -> None:
        chromium = self._open.pop(id(context), None)
        if chromium is not None:
            _registry.context_closed(chromium)

    def _connected_to(self, chromium: SharedChromium):
        browser = self._connections.get(chromium)
        if browser is not None and not browser.is_connected():
            self._forget_connection(chromium)
            browser = None
        if browser is None:
            if self._playwright is None:
                from playwright.sync_api import sync_playwright

                self._playwright = sync_playwright().start()
            browser = self._playwright.chromium.connect(chromium.endpoint, timeout=30_000)
            self._connections[chromium] = browser
            self.launches += 1
        self._chromium = chromium
        return browser

    def _drop_idle_connections(self) -> None:
        """Disconnect from retired Chromiums this session no longer has a context on."""
        in_use = set(self._open.values())
        for chromium in list(self._connections):
            if chromium is not self._chromium and chromium not in in_use:
                self._forget_connection(chromium)

    def _forget_connection(self, chromium: SharedChromium | None) -> None:
        browser = self._connections.pop(chromium, None)
        if chromium is self._chromium:
            self._chromium = None
        if browser is not None:
            try:
                # This closes the contexts this connection made and disconnects; the
                # Chromium itself is shared and stays.
                browser.close(reason="reconnecting")
            except Exception:
                pass

    @property
    def browser(self):
        """This session's connection to the running browser, or None before first use and after close."""
        return self._connections.get(self._chromium)

    @property
    def browser_pid(self) -> int | None:
        """The process id of the Chromium new contexts of this session open in (tests, logs)."""
        return self._chromium.pid if self.browser is not None else None

    def close(self) -> None:
        """Disconnect and stop this thread's driver; the last session to close ends the
        Chromium. Safe to call more than once.

        The driver is stopped rather than asked to close anything politely, so a hung
        browser cannot hold this up; the browser server drops a departed client's contexts.
        """
        self._connections, self._chromium = {}, None
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            try:
                playwright.stop()
            except Exception:
                pass
        # Contexts whose close event never came (a crash, or closed with the driver).
        still_open, self._open = list(self._open.values()), {}
        for chromium in still_open:
            _registry.context_closed(chromium)
        if self._registered:
            self._registered = False
            _registry.session_closed()
