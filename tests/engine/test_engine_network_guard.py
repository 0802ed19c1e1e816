"""The private-network guard on WebSockets, which request routing never sees: with private
targets not allowed, nothing must reach a loopback listener, however the page dials it."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace

import pytest

from contacts.engine.network_guard import forbidden_address_for
from tests.engine.conftest import OPTIONS, Reply

pytestmark = pytest.mark.browser


class Listener:
    """A raw TCP listener on 127.0.0.1 that notes the first line of every connection: the
    WebSocket handshake's request line, when anything gets through."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _address = self._socket.accept()
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(2)
                try:
                    first_line = connection.recv(1024).split(b"\r\n", 1)[0]
                except OSError:
                    first_line = b""
                self.arrived.append(first_line.decode("latin-1"))

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def listener():
    opened = Listener()
    yield opened
    opened.close()


# Three ways a page reaches loopback: an address, a *.localhost name (Chromium answers
# those with loopback itself) and a WebSocket constructor taken from a fresh iframe.
DIALLING_PAGE = """<script>
window.seen = [];
const dial = (name, url, Socket = WebSocket) => {
  const ws = new Socket(url);
  for (const type of ['open', 'error', 'close'])
    ws.addEventListener(type, (e) => seen.push(`${name} ${type}${e.code ? ' ' + e.code : ''}`));
};
dial('address', 'ws://127.0.0.1:PORT/address');
dial('name', 'ws://dealer.localhost:PORT/name');
const frame = document.createElement('iframe');
document.documentElement.appendChild(frame);
dial('iframe', 'ws://127.0.0.1:PORT/iframe', frame.contentWindow.WebSocket);
</script>"""


def _show(browser_session, html: str, until: str, allow_private_targets: bool = False):
    """Show `html` in a page of a fresh context, wait until the expression `until` holds and
    a little longer, and return what the page noted in `window.seen`."""

    async def visit():
        context = await browser_session.new_context(replace(OPTIONS, allow_private_targets=allow_private_targets))
        try:
            tab = await context.new_page()
            # A page from elsewhere (set_content has no network origin) reaching for loopback.
            await tab.set_content(html)
            await tab.wait_for_function(until, timeout=5000)
            await tab.wait_for_timeout(300)  # time for a connection that slipped through to land
            return await tab.evaluate("window.seen")
        finally:
            await context.close()

    return browser_session.run(visit())


def _dial_from_a_page(browser_session, listener, allow_private_targets: bool) -> list[str]:
    return _show(browser_session, DIALLING_PAGE.replace("PORT", str(listener.port)),
                 until="seen.filter((s) => s.includes(' close')).length === 3",
                 allow_private_targets=allow_private_targets)


def test_the_guard_refuses_web_sockets_to_loopback_before_connecting(browser_session, listener):
    seen = _dial_from_a_page(browser_session, listener, allow_private_targets=False)
    assert listener.arrived == []
    # The page is told the connection closed, as when a server cannot be reached.
    assert sorted(seen) == ["address close 1006", "iframe close 1006", "name close 1006"]


def test_without_the_guard_the_same_web_sockets_reach_the_listener(browser_session, listener):
    _dial_from_a_page(browser_session, listener, allow_private_targets=True)
    assert sorted(listener.arrived) == ["GET /address HTTP/1.1", "GET /iframe HTTP/1.1", "GET /name HTTP/1.1"]


def test_the_guard_counts_localhost_names_as_loopback(make_site, browser_session):
    assert forbidden_address_for("http://localhost/") == "127.0.0.1"
    assert forbidden_address_for("wss://chat.dealer.localhost:8443/socket") == "127.0.0.1"
    site = make_site({"/pixel.gif": Reply(b"GIF89a", content_type="image/gif")})
    named = site.url.replace("127.0.0.1", "dealer.localhost")
    _show(browser_session, f'<img src="{named}pixel.gif" onerror="window.seen = true">', until="window.seen")
    assert site.hits == []


WORKER_PAGE = """<script>
const source = "const ws = new WebSocket('ws://127.0.0.1:PORT/worker'); ws.onclose = () => postMessage('closed');";
const worker = new Worker(URL.createObjectURL(new Blob([source])));
worker.onmessage = () => { window.seen = true; };
</script>"""


@pytest.mark.xfail(strict=True, reason="Playwright routes WebSockets in pages and frames, not in Web Workers")
def test_a_web_socket_opened_in_a_worker_is_refused_too(browser_session, listener):
    _show(browser_session, WORKER_PAGE.replace("PORT", str(listener.port)), until="window.seen")
    assert listener.arrived == []
