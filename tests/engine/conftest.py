"""Engine test fixtures: one shared browser, and small dealer sites served on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import psutil
import pytest

from contacts.engine import BrowserSession
from contacts.engine.types import Customer, EngineOptions

# The fixture sites' hosts, as dealercontact/test_settings.py allows them: every engine
# test runs behind the egress proxy, as production does. 127.0.0.2 and ::1 stay private
# (the canaries below listen there).
ALLOWED_HOSTS = ("127.0.0.1", "localhost")

# No human-pace wait (min_dwell_s) but in the tests that prove it.
OPTIONS = EngineOptions(
    timeout_s=30, navigation_timeout_ms=8000, action_timeout_ms=3000, allowed_private_hosts=ALLOWED_HOSTS, min_dwell_s=0
)

CUSTOMER = Customer(
    first_name="Alice",
    last_name="Buyer",
    email="alice.buyer@example.org",
    phone="+13105550123",
    zip_code="90210",
    message="Hello, I am interested in a 2024 Toyota RAV4 XLE. Please send me your best price.",
    vehicle_year="2024",
    vehicle_make="Toyota",
    vehicle_model="RAV4",
    vehicle_trim="XLE",
    preferred_contact="phone",
    city="Beverly Hills",
    state="CA",
)


@dataclass
class Reply:
    body: str | bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    delay_s: float = 0.0
    headers: dict = field(default_factory=dict)


def page(body: str, title: str = "Valley Motors") -> str:
    return f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>{body}</body></html>"


THANKS = page("<h1>Thank you! We received your message.</h1>")


class Site:
    """A dealer site on 127.0.0.1: `routes` maps "GET /path" or "/path" to a Reply, a page
    string, or a callable(request_info) -> Reply. Every non-GET request is recorded."""

    def __init__(self, routes: dict[str, object]) -> None:
        self.routes = dict(routes)
        self.received: list[dict] = []
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

            def do_PUT(self):
                self._answer("PUT")

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                path = urlsplit(self.path).path
                site.hits.append(f"{method} {path}")
                info = {"method": method, "path": path, "query": urlsplit(self.path).query, "raw": raw}
                if method != "GET":
                    ctype = self.headers.get("Content-Type", "")
                    info["data"] = json.loads(raw) if "json" in ctype and raw else {
                        k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw, keep_blank_values=True).items()
                    }
                    site.received.append(info)
                handler = site.routes.get(f"{method} {path}", site.routes.get(path))
                if handler is None:
                    reply = Reply(page("<h1>Not found</h1>"), status=404)
                elif callable(handler):
                    reply = handler(info)
                elif isinstance(handler, Reply):
                    reply = handler
                else:
                    reply = Reply(handler)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# What a canary answers, should anything reach it: a page no one could mistake in a screenshot.
CANARY_PAGE = b"<!doctype html><body style='background:#f00;margin:0;height:2000px'><h1>PRIVATE CANARY</h1></body>"


class Listener:
    """A raw TCP listener that counts every connection and every byte it receives, and
    answers each connection once with a small HTTP response (`reply`) and closes: a canary
    on an address the browser must never reach, or an allowed one that shows a probe is live."""

    def __init__(self, host: str = "127.0.0.2", port: int = 0, reply: bytes = CANARY_PAGE) -> None:
        self.host = host
        self.connections = 0
        self.bytes = 0
        self.first_lines: list[str] = []
        self._reply = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(reply), reply))
        self._sentinels: set[int] = set()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, port), family=family)
        self.port = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def authority(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{self.authority}{path}"

    def _serve(self) -> None:
        while True:
            try:
                connection, address = self._socket.accept()
            except OSError:
                return  # closed
            if address[1] in self._sentinels:  # drain()'s own connection
                self._sentinels.discard(address[1])
                connection.close()
                continue
            with self._lock:
                self.connections += 1  # here, in accept order, so drain() can rely on it
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(2)
            try:
                data = connection.recv(65536)
                with self._lock:
                    self.bytes += len(data)
                    self.first_lines.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                connection.sendall(self._reply)
            except OSError:
                pass

    def drain(self) -> None:
        """Return once every connection made before this call has been counted: accepted
        in order, so a connection of our own coming through means the earlier ones have."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family) as probe:
            probe.bind((self.host, 0))
            self._sentinels.add(probe.getsockname()[1])
            probe.connect((self.host, self.port))
            probe.settimeout(5)
            try:
                probe.recv(1)  # closed by the listener once accepted
            except OSError:
                pass

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def canary():
    """A listener on 127.0.0.2, a loopback address the test allowlist does not name."""
    listener = Listener("127.0.0.2")
    yield listener
    listener.close()


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie waiting to be reaped does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until_gone(pid: int, within_s: float = 15) -> bool:
    deadline = time.monotonic() + within_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


@pytest.fixture
def make_site():
    sites: list[Site] = []

    def make(routes: dict[str, object]) -> Site:
        site = Site(routes)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


@pytest.fixture(scope="session")
def browser_session():
    with BrowserSession(OPTIONS) as session:
        yield session


@pytest.fixture
def contact(browser_session) -> Callable:
    """contact(url, **option overrides) with the test customer and the shared browser."""
    from dataclasses import replace

    from contacts.engine import contact_dealer

    def run(url: str, customer: Customer = CUSTOMER, hooks=None, **overrides):
        options = replace(OPTIONS, **overrides)
        return contact_dealer(url, customer, session=browser_session, options=options, hooks=hooks)

    return run


# --- The fixture dealer sites under tests/sites (tests/fixture_server.py) -----------------

# Every fixture site is tested with this customer; the sites' expect.json files name its
# values. Prefers email, so preferred-contact controls have one right answer.
STANDARD_CUSTOMER = Customer(
    first_name="Alice",
    last_name="Buyer",
    email="alice.buyer@example.org",
    phone="+13105550123",
    zip_code="90210",
    message=(
        "Hello, I'm interested in the 2024 Toyota RAV4 XLE. Could you send me your best "
        "out-the-door price and what you have available? Thank you, Alice Buyer"
    ),
    vehicle_year="2024",
    vehicle_make="Toyota",
    vehicle_model="RAV4",
    vehicle_trim="XLE",
    preferred_contact="email",
    city="Beverly Hills",
    state="CA",
)

# Some fixture sites are deliberately slow (a form after 1.5 s, a 0.8 s answer).
SITE_TEST_OPTIONS = EngineOptions(
    timeout_s=45, navigation_timeout_ms=10_000, action_timeout_ms=3_000, allowed_private_hosts=ALLOWED_HOSTS, min_dwell_s=0
)


@pytest.fixture(scope="session")
def fixture_server():
    from tests.fixture_server import FixtureServer

    server = FixtureServer().start()
    yield server
    server.stop()
