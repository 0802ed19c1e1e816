"""The egress proxy: every connection Chromium makes goes through it, and it applies the
network rule (`network_guard.EgressPolicy`) to each one.

A route hook in the browser sees requests, not connections: not redirect hops, not
traffic from workers, not WebRTC, and it resolves names apart from Chromium. The proxy
sees every connection (Chromium is launched with `--proxy-server` pointing here and
`--proxy-bypass-list=<-loopback>`, so loopback goes through it too), resolves each host
once, refuses non-public addresses and connects to the exact address it checked.

It is proxy.py (a maintained proxy library) running inside the worker process, on a
loopback port of its own: one listening socket, a thread that accepts, and proxy.py's
threaded handler for each connection. proxy.py's own server (`proxy.Proxy`) starts
acceptor *processes*, which a worker full of threads should not fork; its threaded
handler is the same code its `--threaded` mode runs. Measured: starting it takes about
a millisecond; it adds no process and a few MB (bench/README.md).

A refusal is an HTTP answer the engine can recognise (`REFUSAL_HEADER`): for plain HTTP
the page shows it (the screenshot says what was blocked), for HTTPS and WebSockets
Chromium reports a failed tunnel. A connection that fails upstream is answered the same
way, with the reason (refused, timed out), so the engine can put it into words.
"""

from __future__ import annotations

import collections
import html
import logging
import socket
import threading
import time
from typing import Any

import proxy.http.handler
from proxy.common.flag import FlagParser
from proxy.common.utils import text_
from proxy.core.work.threaded import start_threaded_work
from proxy.http.exception import HttpRequestRejected, ProxyConnectionFailed
from proxy.http.proxy import HttpProxyBasePlugin, HttpProxyPlugin

from contacts.engine.network_guard import (
    EgressPolicy,
    HostNotFound,
    RefusedAddress,
    is_public_address,
    normalise_host,
)

log = logging.getLogger(__name__)

# Set on every answer the proxy makes up itself; its value is one of REFUSAL_KINDS.
REFUSAL_HEADER = "X-DealerContact-Egress"
REASON_HEADER = "X-DealerContact-Egress-Reason"
ADDRESS_HEADER = "X-DealerContact-Egress-Address"  # the private address, when that is why
PRIVATE, UNRESOLVABLE, CONNECT_REFUSED, CONNECT_TIMEOUT, UNREACHABLE = (
    "private", "unresolvable", "connection-refused", "timed-out", "unreachable")

# A connection Chromium leaves idle is closed after this long (proxy.py's --timeout).
IDLE_TIMEOUT_S = 30

# proxy.py's threaded handler wakes every 25 ms to check for inactivity, even on a quiet
# connection: measured, 20 idle tunnels (a few pages' worth) cost 5.8% of a core, 0.2%
# at 0.5 s. Waking later delays nothing else: each connection has its own thread, which
# select() wakes the moment either side can be read or written.
if getattr(proxy.http.handler, "DEFAULT_SELECTOR_SELECT_TIMEOUT", 0) < 0.5:
    proxy.http.handler.DEFAULT_SELECTOR_SELECT_TIMEOUT = 0.5


def _refusal(status: int, kind: str, reason: str, address: str = "") -> HttpRequestRejected:
    body = (
        "<!doctype html><html><head><meta charset=utf-8><title>Blocked by DealerContact</title></head>"
        "<body style='font:16px sans-serif;margin:3em'><h1>Blocked by DealerContact</h1>"
        f"<p>The browser did not connect: {html.escape(reason)}.</p></body></html>"
    ).encode()
    return HttpRequestRejected(
        status_code=status,
        reason=b"Forbidden" if status == 403 else b"Bad Gateway",
        headers={
            REFUSAL_HEADER.encode(): kind.encode(),
            REASON_HEADER.encode(): reason.encode("ascii", "replace"),
            **({ADDRESS_HEADER.encode(): address.encode()} if address else {}),
            b"Content-Type": b"text/html; charset=utf-8",
            b"Cache-Control": b"no-store",
        },
        body=body,
    )


class EgressRulePlugin(HttpProxyBasePlugin):
    """Checks each connection before proxy.py makes it, and names the address to use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked: tuple[str, int, str] | None = None  # (host, port, address)

    def before_upstream_connection(self, request):
        host, port = normalise_host(text_(request.host or b"")), int(request.port or 0)
        policy: EgressPolicy = self.flags.egress_policy
        try:
            address = policy.address_for(host, port)
        except RefusedAddress as refused:
            kind = UNRESOLVABLE if isinstance(refused, HostNotFound) else PRIVATE
            log.info("egress refused %s:%s: %s", host, port, refused)
            self.flags.egress_refused.append((host, port, kind))
            raise _refusal(403, kind, str(refused), refused.address) from None
        if port in self.flags.egress_own_ports and not is_public_address(address):
            # However the name was spelled: the proxy must never be its own upstream.
            self.flags.egress_refused.append((host, port, PRIVATE))
            raise _refusal(403, PRIVATE, "the browser's own proxy is not a web site")
        self._checked = (host, port, address)
        return request

    def resolve_dns(self, host: str, port: int):
        # The address checked above, never a second lookup (which DNS rebinding would answer).
        if self._checked is None or self._checked[:2] != (normalise_host(host), port):
            raise _refusal(403, PRIVATE, f"{host} was not checked")  # cannot happen: fail closed
        return self._checked[2], None

    def handle_client_request(self, request):
        # A kept-alive client connection is tied to the upstream it first opened: a
        # request for any other host must not be sent down it.
        if self._checked is not None and request.host is not None and (
            normalise_host(text_(request.host)), int(request.port or 0)) != self._checked[:2]:
            raise HttpRequestRejected()  # closes; Chromium retries on a fresh connection
        return request


class EgressHttpProxyPlugin(HttpProxyPlugin):
    """proxy.py's HTTP proxy, answering a failed upstream connection with its reason."""

    def connect_upstream(self) -> None:
        try:
            super().connect_upstream()
        except ProxyConnectionFailed as failed:
            reason = failed.reason
            if "ConnectionRefused" in reason:
                raise _refusal(502, CONNECT_REFUSED, "the site refused the connection") from None
            if "timed out" in reason or "Timeout" in reason:
                raise _refusal(502, CONNECT_TIMEOUT, "the site did not answer in time") from None
            raise _refusal(502, UNREACHABLE, "the site could not be reached") from None


class EgressProxy:
    """proxy.py serving on 127.0.0.1:<free port> in this process, applying `policy`."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []  # a thread per open connection
        self.port = 0
        # The latest refusals, (host, port, kind), newest last: for logs and tests.
        self.refused: collections.deque[tuple[str, int, str]] = collections.deque(maxlen=256)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "EgressProxy":
        listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = listener.getsockname()[1]
        # Refusals are logged here, once each, by name; proxy.py's own lines repeat them.
        logging.getLogger("proxy").setLevel(logging.ERROR)
        self.flags = FlagParser.initialize(
            ["--disable-http-proxy", "--timeout", str(IDLE_TIMEOUT_S), "--log-level", "WARNING"],
            plugins=[EgressHttpProxyPlugin, EgressRulePlugin],
            threaded=True,
            port=self.port,
        )
        self.flags.egress_policy = self.policy
        self.flags.egress_refused = self.refused
        self.flags.egress_own_ports = {self.port}
        self._socket = listener
        self._thread = threading.Thread(target=self._accept, name="egress-proxy", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._socket is not None
        while not self._stopping.is_set():
            try:
                connection, address = self._socket.accept()
            except OSError:
                return  # closed by stop()
            if self._stopping.is_set():
                connection.close()
                return
            try:
                _work, thread = start_threaded_work(self.flags, connection, address)
                self._workers = [worker for worker in self._workers if worker.is_alive()] + [thread]
            except Exception:
                log.exception("the egress proxy could not serve a connection")
                connection.close()

    def stop(self, wait_s: float = 3) -> None:
        """Stop accepting, and give the open connections `wait_s` to end (they end with
        their browser, which is closed first). Idempotent."""
        self._stopping.set()
        listener, self._socket = self._socket, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        deadline = time.monotonic() + wait_s
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
