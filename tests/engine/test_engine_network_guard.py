"""The browser reaches the public internet and the allowed hosts, nothing else: every way a
page can make Chromium connect somewhere, tried against a private "canary" listener.

The fixture sites on 127.0.0.1 stand for the public internet (the test allowlist names
127.0.0.1 and localhost, as dealercontact/test_settings.py does); the canary listens on
127.0.0.2 (or ::1), which is loopback too but not allowed. Each probe must leave the
canary without a single connection, and the egress proxy must have refused it. The same
probe aimed at an allowed listener must reach it: that is what shows the probe is live,
so a probe that never fires cannot pass.
"""

from __future__ import annotations

import asyncio
import io
import time
from urllib.parse import parse_qs, quote

import pytest
from playwright.async_api import Error as PlaywrightError

from contacts.engine import outcomes
from contacts.engine.egress import EgressProxy
from contacts.engine.network_guard import EgressPolicy
from contacts.engine.runtime import launch_chromium
from tests.engine.conftest import THANKS, Listener, Reply, page

pytestmark = pytest.mark.browser


def _redirect(status: int):
    def answer(info) -> Reply:
        return Reply("", status=status, headers={"Location": parse_qs(info["query"])["to"][0]})

    return answer


WORKER = "new Worker(URL.createObjectURL(new Blob([`CODE`], {type: 'text/javascript'})))"
SHARED_WORKER = "new SharedWorker(URL.createObjectURL(new Blob([`CODE`], {type: 'text/javascript'})))"

# Pages that reach for {target} (an http URL), {ws} (the same as a WebSocket URL), {host}
# and {port}, or for {redirect302}/{redirect307}: a public page that redirects there.
PAGE_PROBES = {
    "iframe": '<iframe src="{target}"></iframe>',
    "image": '<img src="{target}">',
    "css": '<link rel="stylesheet" href="{target}">',
    "fetch": "<script>fetch('{target}', {mode: 'no-cors'}).catch(() => 0)</script>",
    "xhr": "<script>const x = new XMLHttpRequest(); x.open('GET', '{target}'); x.send()</script>",
    "beacon": "<script>navigator.sendBeacon('{target}', 'lead=stolen')</script>",
    "event source": "<script>new EventSource('{target}')</script>",
    "page web socket": "<script>new WebSocket('{ws}')</script>",
    "meta refresh": '<meta http-equiv="refresh" content="0;url={target}">',
    "window.open": "<script>window.open('{target}')</script>",
    "dedicated worker fetch": "<script>" + WORKER.replace("CODE", "fetch('{target}').catch(() => 0)") + "</script>",
    "dedicated worker web socket": "<script>" + WORKER.replace("CODE", "new WebSocket('{ws}')") + "</script>",
    "shared worker fetch": "<script>" + SHARED_WORKER.replace("CODE", "fetch('{target}').catch(() => 0)") + "</script>",
    "302 image": '<img src="{redirect302}">',
    "302 iframe": '<iframe src="{redirect302}"></iframe>',
    "307 iframe": '<iframe src="{redirect307}"></iframe>',
    "307 form post": '<form method="post" action="{redirect307}"><input name="email" value="alice.buyer@example.org">'
                     "</form><script>document.forms[0].submit()</script>",
    "webrtc turn over tcp": """<script>
        const pc = new RTCPeerConnection({iceTransportPolicy: 'relay', iceServers: [
            {urls: 'turn:{host}:{port}?transport=tcp', username: 'user', credential: 'secret'}]});
        pc.createDataChannel('leads');
        pc.createOffer().then((offer) => pc.setLocalDescription(offer));
        </script>""",
}

# Top-level navigations the test makes itself.
NAVIGATIONS = {
    "direct navigation": "{target}",
    "302 top level": "{redirect302}",
    "307 top level": "{redirect307}",
}


def _public_site(make_site, extra: dict | None = None):
    return make_site({"/r302": _redirect(302), "/r307": _redirect(307), **(extra or {})})


def _fill(template: str, site, listener: Listener) -> str:
    target = listener.url("/secret")
    host = f"[{listener.host}]" if ":" in listener.host else listener.host
    values = {
        "{target}": target, "{ws}": listener.url("/socket", scheme="ws"), "{host}": host, "{port}": str(listener.port),
        "{redirect302}": f"{site.url}r302?to={quote(target, safe='')}",
        "{redirect307}": f"{site.url}r307?to={quote(target, safe='')}",
    }
    for name, value in values.items():
        template = template.replace(name, value)
    return template


def wait_for(predicate, within_s: float = 15) -> bool:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _refused(browser_session, port: int) -> bool:
    return any(refused_port == port for _host, refused_port, _kind in list(browser_session.pool.egress.refused))


def _visit(browser_session, url: str, until) -> None:
    """Open `url` in a fresh context and keep it open until `until()` holds (or 15 s)."""

    async def visit():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            try:
                await tab.goto(url, wait_until="commit")
            except PlaywrightError:
                pass  # a refused HTTPS or WebSocket tunnel fails the navigation itself
            return await asyncio.to_thread(wait_for, until)
        finally:
            await context.close()

    return browser_session.run(visit())


def _probe_url(make_site, probe: str, listener: Listener) -> str:
    if probe in NAVIGATIONS:
        site = _public_site(make_site)
        return _fill(NAVIGATIONS[probe], site, listener)
    site = _public_site(make_site)
    site.routes["/probe"] = page(_fill(PAGE_PROBES[probe], site, listener))
    return site.url + "probe"


ALL_PROBES = [*NAVIGATIONS, *PAGE_PROBES]


@pytest.mark.parametrize("probe", ALL_PROBES)
def test_the_probe_never_reaches_a_private_address(probe, make_site, browser_session, canary):
    refused = _visit(browser_session, _probe_url(make_site, probe, canary),
                     until=lambda: _refused(browser_session, canary.port))
    canary.drain()
    assert canary.connections == 0, canary.first_lines
    assert refused, "the egress proxy never saw the attempt"


@pytest.mark.parametrize("probe", ALL_PROBES)
def test_the_same_probe_reaches_an_allowed_host(probe, make_site, browser_session):
    allowed = Listener("127.0.0.1")
    try:
        reached = _visit(browser_session, _probe_url(make_site, probe, allowed), until=lambda: allowed.connections > 0)
    finally:
        allowed.close()
    assert reached, f"{probe} did not fire: the test above would prove nothing"


def test_a_web_socket_opened_in_a_worker_is_refused_too(make_site, browser_session, canary):
    # Playwright routes WebSockets only in pages and frames; the proxy sees every connection.
    site = _public_site(make_site)
    code = f"const ws = new WebSocket('{canary.url('/w', scheme='ws')}'); ws.onclose = (e) => postMessage('closed ' + e.code);"
    site.routes["/probe"] = page("<script>const worker = " + WORKER.replace("CODE", code) + ";\n"
                                 "worker.onmessage = (e) => { window.seen = e.data; };</script>")

    async def visit():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            await tab.goto(site.url + "probe")
            await tab.wait_for_function("window.seen", timeout=10_000)
            return await tab.evaluate("window.seen")
        finally:
            await context.close()

    assert browser_session.run(visit()) == "closed 1006"
    canary.drain()
    assert canary.connections == 0


# Every way to write loopback that URL parsers accept: the first group names 127.0.0.2 (the
# canary), the second ::1, the third 127.0.0.1 by a name or an address that is not allowed
# (only the exact names on the allowlist are).
SPELLINGS_OF_127_0_0_2 = ["127.2", "0x7f000002", "2130706434", "0177.0.0.2", "0x7f.0.0.2", "[::ffff:127.0.0.2]",
                          "[::ffff:7f00:2]"]
SPELLINGS_OF_LOOPBACK = ["x.localhost", "dealer.localhost", "0.0.0.0", "0"]


@pytest.mark.parametrize("spelling", SPELLINGS_OF_127_0_0_2)
def test_no_spelling_of_a_loopback_address_gets_through(spelling, browser_session, canary):
    refused = _visit(browser_session, f"http://{spelling}:{canary.port}/", until=lambda: _refused(browser_session, canary.port))
    canary.drain()
    assert canary.connections == 0
    assert refused


def test_ipv6_loopback_is_refused(browser_session):
    canary = Listener("::1")
    try:
        refused = _visit(browser_session, canary.url(), until=lambda: _refused(browser_session, canary.port))
        canary.drain()
        assert canary.connections == 0
        assert refused
    finally:
        canary.close()


@pytest.mark.parametrize("spelling", SPELLINGS_OF_LOOPBACK)
def test_loopback_names_and_the_unspecified_address_are_refused(spelling, browser_session):
    # 127.0.0.1 is allowed by that name only: x.localhost and 0.0.0.0 (which Linux
    # connects to loopback) reach the same listener, and must not.
    canary = Listener("127.0.0.1")
    try:
        refused = _visit(browser_session, f"http://{spelling}:{canary.port}/",
                         until=lambda: _refused(browser_session, canary.port))
        canary.drain()
        assert canary.connections == 0
        assert refused
    finally:
        canary.close()


LITERAL_SPELLINGS_OF_127_0_0_1 = ["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0x7f.1", "127.0.0.1.",
                                  "[::ffff:127.0.0.1]", "[::1]", "localhost", "x.localhost", "[::]", "0.0.0.0"]


def test_with_a_port_allowlist_no_spelling_of_127_0_0_1_reaches_another_port(make_site, browser_session):
    """`make run`'s allowlist names the app's own port: the spellings above, aimed at
    another port of 127.0.0.1 (a database, a cache), reach nothing, while the allowed
    port answers whichever way it is spelled."""
    browser_session.run(_open_and_close(browser_session))  # the driver is up and the launch plan known
    site = make_site({"/": page("<h1>sandbox dealer</h1>")})
    site_port = site.server.server_port
    canary = Listener("127.0.0.1")
    proxy = EgressProxy(EgressPolicy([f"127.0.0.1:{site_port}", f"localhost:{site_port}"])).start()

    async def visit() -> list[str]:
        browser = await launch_chromium(browser_session.pool._playwright, browser_session.pool.launch_plan, proxy.url)
        try:
            tab = await browser.new_page()
            for spelling in LITERAL_SPELLINGS_OF_127_0_0_1:
                try:
                    await tab.goto(f"http://{spelling}:{canary.port}/")
                except PlaywrightError:
                    pass  # a URL Chromium will not even open is refused too
            allowed = []
            for spelling in ("127.1", "0x7f000001", "localhost"):
                await tab.goto(f"http://{spelling}:{site_port}/")
                allowed.append(await tab.inner_text("h1"))
            return allowed
        finally:
            await browser.close()

    try:
        allowed = browser_session.run(visit())
        canary.drain()
    finally:
        proxy.stop()
        canary.close()
    assert canary.connections == 0
    assert allowed == ["sandbox dealer"] * 3
    assert {port for _host, port, _kind in proxy.refused} == {canary.port}


def test_a_name_that_does_not_resolve_is_refused(browser_session):
    url = "http://no-such-dealer.invalid:8080/"
    refused = _visit(browser_session, url, until=lambda: any(
        (host, kind) == ("no-such-dealer.invalid", "unresolvable") for host, _port, kind in browser_session.pool.egress.refused))
    assert refused


SERVICE_WORKER_PAGE = """<script>
const container = WHERE;
container.register('/sw.js').then(
    (registration) => { window.seen = registration ? 'registered' : 'blocked'; },
    () => { window.seen = 'refused'; });
</script>"""


@pytest.mark.parametrize("where", ["navigator.serviceWorker", "(() => { const f = document.createElement('iframe'); "
                                   "document.body.append(f); return f.contentWindow.navigator.serviceWorker; })()"],
                         ids=["page", "fresh iframe"])
def test_a_service_worker_cannot_be_registered(where, make_site, browser_session, canary):
    sw = f"self.addEventListener('install', () => fetch('{canary.url('/sw')}'));"
    site = _public_site(make_site, {"/sw.js": Reply(sw, content_type="text/javascript")})
    site.routes["/probe"] = page(SERVICE_WORKER_PAGE.replace("WHERE", where))

    async def visit():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            await tab.goto(site.url + "probe")
            await tab.wait_for_function("window.seen", timeout=10_000)
            return await tab.evaluate("window.seen"), await tab.evaluate(
                "navigator.serviceWorker.getRegistrations().then((all) => all.length)")
        finally:
            await context.close()

    seen, registrations = browser_session.run(visit())
    canary.drain()
    assert canary.connections == 0
    assert "GET /sw.js" not in site.hits
    assert seen in ("blocked", "refused") and registrations == 0


def test_traffic_goes_where_the_proxy_resolved_never_where_chromium_did(browser_session):
    """DNS rebinding: Chromium's resolver (--host-resolver-rules) says rebind.test is the
    canary; the proxy's own lookup says it is 127.0.0.1. The connection goes to the
    proxy's answer, and when that answer is private and not allowed, nowhere."""
    browser_session.run(_open_and_close(browser_session))  # the driver is up and the launch plan known
    canary, decoy = _listeners_on_one_port()
    lookups: list[str] = []

    def proxy_lookup(host: str) -> tuple[str, ...]:
        lookups.append(host)
        return ("127.0.0.1",)

    allowing = EgressProxy(EgressPolicy(["rebind.test"], resolver=proxy_lookup)).start()
    refusing = EgressProxy(EgressPolicy([], resolver=proxy_lookup)).start()
    rules = f"--host-resolver-rules=MAP rebind.test {canary.host}"

    async def visit(proxy: EgressProxy) -> None:
        browser = await launch_chromium(browser_session.pool._playwright, browser_session.pool.launch_plan, proxy.url,
                                        extra_args=(rules,))
        try:
            tab = await browser.new_page()
            await tab.goto(f"http://rebind.test:{canary.port}/")
            await tab.goto(f"http://rebind.test:{canary.port}/again")
        finally:
            await browser.close()

    try:
        browser_session.run(visit(allowing))
        browser_session.run(visit(refusing))
        canary.drain()
        decoy.drain()
    finally:
        allowing.stop()
        refusing.stop()
        canary.close()
        decoy.close()
    assert canary.connections == 0
    assert decoy.first_lines[:2] == ["GET / HTTP/1.1", "GET /again HTTP/1.1"]
    assert ("rebind.test", canary.port, "private") in refusing.refused
    assert len(lookups) == len(decoy.first_lines) + 2  # one lookup a connection, the refused ones too


async def _open_and_close(session) -> None:
    await (await session.new_context()).close()


def _listeners_on_one_port() -> tuple[Listener, Listener]:
    for _ in range(20):
        canary = Listener("127.0.0.2")
        try:
            return canary, Listener("127.0.0.1", canary.port)
        except OSError:
            canary.close()
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


# --- whole attempts -------------------------------------------------------------------------


def _is_canary_red(jpeg: bytes) -> bool:
    from PIL import Image

    red, green, blue = Image.open(io.BytesIO(jpeg)).convert("RGB").resize((1, 1)).getpixel((0, 0))
    return red > 200 and green < 80 and blue < 80


CONTACT_FORM = page("""<h1>Contact Valley Motors</h1>
<form method="post" action="/send?to={to}">
  <label>First name <input name="first_name" required></label>
  <label>Last name <input name="last_name" required></label>
  <label>Email <input type="email" name="email" required></label>
  <label>Message <textarea name="message"></textarea></label>
  <button type="submit">Send</button>
</form>""")


def test_an_attempt_whose_form_posts_into_a_redirect_to_the_canary_shows_a_refusal(make_site, contact, canary):
    # The 307 would carry the customer's details to the private address.
    site = make_site({"/": CONTACT_FORM.replace("{to}", quote(canary.url("/steal"), safe="")),
                      "/send": _redirect(307)})
    result = contact(site.url)
    canary.drain()
    assert canary.connections == 0
    assert len(site.received) == 1  # the dealer's own server got the form, and only it
    assert result.status == outcomes.FAILED
    assert "403" in result.error
    assert set(result.screenshots) == {"form", "result"}
    assert not _is_canary_red(result.screenshots["result"])
    assert result.final_url == canary.url("/steal")


def test_an_attempt_whose_site_redirects_to_the_canary_fails_with_a_reason(make_site, contact, canary):
    site = make_site({"/": Reply("", status=302, headers={"Location": canary.url("/admin")})})
    result = contact(site.url)
    canary.drain()
    assert canary.connections == 0
    assert result.status == outcomes.FAILED
    assert result.error == "The site led to a private network address (127.0.0.2), which the browser never connects to."
    assert not any(_is_canary_red(shot) for shot in result.screenshots.values())


def test_a_contact_link_to_the_canary_is_not_followed_into(make_site, contact, canary):
    site = make_site({"/": page(f'<h1>Valley Motors</h1><a href="{canary.url("/contact")}">Contact us</a>'),
                      "POST /send": THANKS})
    result = contact(site.url)
    canary.drain()
    assert canary.connections == 0
    assert result.status == outcomes.NO_FORM


# --- UDP: nothing an HTTP proxy could carry, so nothing may leave at all --------------------


class UdpCanary:
    """A UDP socket on 127.0.0.2 that counts every datagram it receives."""

    def __init__(self) -> None:
        import socket
        import threading

        self.datagrams = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.2", 0))
        self.port = self._socket.getsockname()[1]
        self._sentinel = b"drain-" + str(id(self)).encode()
        self._drained = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                data, _address = self._socket.recvfrom(65536)
            except OSError:
                return
            if data == self._sentinel:
                self._drained.set()
            else:
                self.datagrams += 1

    def drain(self) -> None:
        """Return once every datagram sent before this call has arrived (loopback keeps order)."""
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as own:
            own.sendto(self._sentinel, ("127.0.0.2", self.port))
        assert self._drained.wait(5)

    def close(self) -> None:
        self._socket.close()


UDP_PROBES = {
    "webrtc stun": """<script>
        const pc = new RTCPeerConnection({iceServers: [{urls: 'stun:127.0.0.2:PORT'}]});
        pc.createDataChannel('leads');
        pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') window.seen = 'gathered'; };
        pc.createOffer().then((offer) => pc.setLocalDescription(offer));
        </script>""",
    "webrtc turn over udp": """<script>
        const pc = new RTCPeerConnection({iceTransportPolicy: 'relay', iceServers: [
            {urls: 'turn:127.0.0.2:PORT?transport=udp', username: 'user', credential: 'secret'}]});
        pc.createDataChannel('leads');
        pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') window.seen = 'gathered'; };
        pc.createOffer().then((offer) => pc.setLocalDescription(offer));
        </script>""",
    "webtransport (http/3)": """<script>
        try {
          const transport = new WebTransport('https://127.0.0.2:PORT/');
          transport.ready.then(() => { window.seen = 'open'; }, () => { window.seen = 'failed'; });
        } catch (e) { window.seen = 'unsupported'; }
        </script>""",
}


@pytest.mark.parametrize("probe", UDP_PROBES)
def test_no_udp_leaves_the_browser(probe, make_site, browser_session):
    udp = UdpCanary()
    site = _public_site(make_site)
    site.routes["/probe"] = page(UDP_PROBES[probe].replace("PORT", str(udp.port)))

    async def visit():
        context = await browser_session.new_context()
        try:
            tab = await context.new_page()
            await tab.goto(site.url + "probe")
            await tab.wait_for_function("window.seen", timeout=20_000)
            return await tab.evaluate("window.seen")
        finally:
            await context.close()

    try:
        seen = browser_session.run(visit())
        udp.drain()
    finally:
        udp.close()
    assert udp.datagrams == 0
    assert seen != "open"
