"""The network rule (network_guard.py) and the egress proxy that applies it (egress.py),
without a browser: which addresses are public, what the allowlist lets through, one
lookup per connection, and what the proxy answers on the wire."""

from __future__ import annotations

import socket

import pytest

from contacts.engine.egress import EgressProxy
from contacts.engine.network_guard import (
    AllowedHost,
    EgressPolicy,
    HostNotFound,
    RefusedAddress,
    is_public_address,
    normalise_host,
    parse_allowed_host,
    parse_allowlist,
)
from contacts.engine.sandbox import WRAPPER, launch_plans
from contacts.engine.types import EngineOptions
from tests.engine.conftest import Listener

PUBLIC = ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2001:4860:4860::8888",
          "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]
NOT_PUBLIC = {
    "loopback": ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1"],
    "private": ["10.0.0.1", "172.16.5.4", "192.168.1.1", "fc00::1", "fd12:3456::1"],
    "link-local and cloud metadata": ["169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0"],
    "CGNAT": ["100.64.0.1", "100.127.255.254"],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1"],
    "reserved and broadcast": ["240.0.0.1", "255.255.255.255"],
    "unspecified": ["0.0.0.0", "::", "0.1.2.3"],
    "documentation and benchmarking": ["192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "2001:db8::1"],
    "IPv4-mapped": ["::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:7f00:1"],
    "IPv4-compatible": ["::127.0.0.1", "::8.8.8.8"],
    "NAT64": ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b:1::1"],
    "6to4 and Teredo": ["2002:7f00:1::", "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "site-local": ["fec0::1"],
    "not an address": ["", "localhost", "127.1", "example.com"],
}


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_public(address):
    assert is_public_address(address)


@pytest.mark.parametrize("address", [a for group in NOT_PUBLIC.values() for a in group])
def test_no_other_address_is(address):
    assert not is_public_address(address)


def test_ip_literals_compare_in_one_spelling():
    assert normalise_host("[::FFFF:127.0.0.1]") == "::ffff:7f00:1"
    assert normalise_host("LocalHost.") == "localhost"
    assert normalise_host("[0:0::1]") == "::1"


@pytest.mark.parametrize("entry, parsed", [
    ("127.0.0.1", AllowedHost("127.0.0.1")),
    ("localhost:8000", AllowedHost("localhost", 8000)),
    ("[::1]:8443", AllowedHost("::1", 8443)),
    ("::1", AllowedHost("::1")),
    ("[::1]", AllowedHost("::1")),
    (" Sandbox.Internal ", AllowedHost("sandbox.internal")),
])
def test_allowlist_entries(entry, parsed):
    assert parse_allowed_host(entry) == parsed


@pytest.mark.parametrize("entry", ["", "localhost:http", "localhost:0", "localhost:70000", "[::1]x", "http://x/",
                                   "*.internal", "10.0.0.0/8", "dealer .example"])
def test_bad_allowlist_entries_say_so(entry):
    with pytest.raises(ValueError):
        parse_allowed_host(entry)


def test_old_switch_means_the_loopback_allowlist():
    assert EngineOptions(allow_private_targets=True).egress_allowlist == ("127.0.0.1", "localhost")
    assert EngineOptions(allowed_private_hosts=("localhost:8000",), allow_private_targets=True).egress_allowlist == (
        "localhost:8000", "127.0.0.1", "localhost")
    assert EngineOptions().egress_allowlist == ()
    assert parse_allowlist(["localhost", "LOCALHOST"]) == (AllowedHost("localhost"),)


def _lookups(answers: dict[str, tuple[str, ...]]):
    asked: list[str] = []

    def resolve(host: str) -> tuple[str, ...]:
        asked.append(host)
        if host not in answers:
            raise HostNotFound(host)
        return answers[host]

    return resolve, asked


def test_the_policy_allows_public_names_and_refuses_private_ones():
    resolve, asked = _lookups({"dealer.example": ("93.184.216.34",), "intranet.example": ("10.1.2.3",),
                               "mixed.example": ("93.184.216.34", "127.0.0.1")})
    policy = EgressPolicy([], resolver=resolve)
    assert policy.address_for("dealer.example", 443) == "93.184.216.34"
    with pytest.raises(RefusedAddress) as refused:
        policy.address_for("intranet.example", 80)
    assert refused.value.address == "10.1.2.3"
    with pytest.raises(RefusedAddress):
        policy.address_for("mixed.example", 443)  # any private answer refuses the name
    with pytest.raises(HostNotFound):
        policy.address_for("nowhere.example", 443)  # fails closed
    assert asked == ["dealer.example", "intranet.example", "mixed.example", "nowhere.example"]


def test_literals_and_localhost_names_need_no_lookup():
    resolve, asked = _lookups({})
    policy = EgressPolicy([], resolver=resolve)
    assert policy.address_for("8.8.8.8", 80) == "8.8.8.8"
    for host in ("127.0.0.1", "localhost", "x.localhost", "[::1]", "0.0.0.0", "[::ffff:127.0.0.1]"):
        with pytest.raises(RefusedAddress):
            policy.address_for(host, 80)
    assert asked == []


def test_the_allowlist_matches_the_host_as_named_and_the_port_when_given():
    resolve, _asked = _lookups({"rebind.example": ("127.0.0.1",)})
    policy = EgressPolicy(["127.0.0.1", "localhost:8000"], resolver=resolve)
    assert policy.address_for("127.0.0.1", 5432) == "127.0.0.1"
    assert policy.address_for("localhost", 8000) == "127.0.0.1"
    for host, port in [("localhost", 6379), ("x.localhost", 8000), ("127.0.0.2", 80), ("::1", 80),
                       ("rebind.example", 80), ("[::ffff:127.0.0.1]", 80)]:
        with pytest.raises(RefusedAddress):
            policy.address_for(host, port)


# --- the proxy on the wire -------------------------------------------------------------------


def _through(proxy: EgressProxy, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and request.startswith(b"CONNECT") and b" 200 " in answer.split(b"\r\n")[0]:
                break
        return answer


@pytest.fixture
def proxy_with():
    started: list[EgressProxy] = []

    def start(allowed=(), resolver=None) -> EgressProxy:
        policy = EgressPolicy(allowed, resolver=resolver) if resolver else EgressPolicy(allowed)
        proxy = EgressProxy(policy).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def test_the_proxy_refuses_with_an_answer_the_engine_recognises(proxy_with, canary):
    proxy = proxy_with(["127.0.0.1"])
    answer = _through(proxy, f"GET {canary.url()} HTTP/1.1\r\nHost: {canary.authority}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403")
    assert b"X-DealerContact-Egress: private" in answer and b"Blocked by DealerContact" in answer
    tunnel = _through(proxy, f"CONNECT {canary.authority} HTTP/1.1\r\nHost: {canary.authority}\r\n\r\n".encode())
    assert tunnel.startswith(b"HTTP/1.1 403")
    canary.drain()
    assert canary.connections == 0
    assert list(proxy.refused) == [("127.0.0.2", canary.port, "private")] * 2


def test_the_proxy_connects_to_the_address_it_checked_with_one_lookup(proxy_with):
    # A rebinding name: the first answer is the allowed listener, any later one the canary.
    allowed = Listener("127.0.0.1")
    answers = iter([("127.0.0.1",)] + [("127.0.0.2",)] * 5)
    asked = []

    def rebinding(host):
        asked.append(host)
        return next(answers)

    proxy = proxy_with(["rebind.example"], resolver=rebinding)
    try:
        answer = _through(proxy, f"GET http://rebind.example:{allowed.port}/ HTTP/1.1\r\n"
                                 f"Host: rebind.example:{allowed.port}\r\n\r\n".encode())
    finally:
        allowed.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert asked == ["rebind.example"]
    assert allowed.first_lines == ["GET / HTTP/1.1"]


def test_the_proxy_fails_closed_when_a_name_does_not_resolve(proxy_with):
    proxy = proxy_with()
    answer = _through(proxy, b"GET http://no-such-dealer.invalid/ HTTP/1.1\r\nHost: no-such-dealer.invalid\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403") and b"X-DealerContact-Egress: unresolvable" in answer


def test_the_proxy_names_a_refused_connection(proxy_with):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    proxy = proxy_with(["127.0.0.1"])
    answer = _through(proxy, f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 502") and b"X-DealerContact-Egress: connection-refused" in answer


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "self.example"])
def test_the_proxy_will_not_proxy_to_itself(host, proxy_with):
    proxy = proxy_with(["127.0.0.1", "localhost", "self.example"], resolver=lambda _name: ("127.0.0.1",))
    answer = _through(proxy, f"GET http://{host}:{proxy.port}/ HTTP/1.1\r\nHost: {host}:{proxy.port}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403") and b"own proxy" in answer


def read_response(connection: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length, however the bytes arrive (headers and
    body may come in separate reads)."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := connection.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


def test_a_kept_alive_connection_cannot_be_turned_to_another_host(proxy_with, canary, make_site):
    # Plain HTTP through a proxy reuses the client's connection: a later request on it for
    # another host must go neither down the first host's upstream nor anywhere else.
    site = make_site({"/first": "first", "/second": "second"})  # keeps connections alive
    host = site.url.removeprefix("http://").rstrip("/")
    proxy = proxy_with(["127.0.0.1"])
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as connection:
        connection.sendall(f"GET {site.url}first HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        first = read_response(connection)
        connection.sendall(f"GET {canary.url('/second')} HTTP/1.1\r\nHost: {canary.authority}\r\n\r\n".encode())
        rest = b""
        while chunk := connection.recv(65536):
            rest += chunk
    canary.drain()
    assert first.startswith(b"HTTP/1.1 200") and rest == b""  # closed: the browser retries afresh
    assert canary.connections == 0
    assert site.hits == ["GET /first"]


# --- Chromium's sandbox ---------------------------------------------------------------------


def test_as_root_the_browser_is_started_as_an_unprivileged_user_first(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    plans = launch_plans("/usr/lib/chromium/chromium-headless-shell", "nobody")
    assert plans[0].executable == str(WRAPPER) and plans[0].sandboxed and plans[0].as_user == "nobody"
    assert plans[0].env["DC_BROWSER_EXECUTABLE"] == "/usr/lib/chromium/chromium-headless-shell"
    assert [plan.sandboxed for plan in plans] == [True, False, False]
    assert "SECRET_KEY" not in plans[0].env and "DATABASE_URL" not in plans[0].env


def test_without_a_user_to_run_as_it_says_why_there_is_no_sandbox(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    (plan,) = launch_plans("/usr/bin/chromium", "no-such-user-here")
    assert not plan.sandboxed and "--no-sandbox" in plan.args and "no-such-user-here" in plan.why_not


def test_not_root_the_sandbox_is_asked_for_directly(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    plans = launch_plans("/usr/bin/chromium")
    assert plans[0].executable == "/usr/bin/chromium" and plans[0].sandboxed and plans[0].args == []


def test_a_browser_without_its_sandbox_is_logged_once(monkeypatch, caplog):
    from contacts.engine import sandbox

    monkeypatch.setattr(sandbox, "_warned", False)
    monkeypatch.setattr("os.geteuid", lambda: 0)
    (plan,) = launch_plans("/usr/bin/chromium", "no-such-user-here")
    with caplog.at_level("WARNING", logger="contacts.engine.sandbox"):
        sandbox.note_unsandboxed(plan)
        sandbox.note_unsandboxed(plan)
        sandbox.note_unsandboxed(launch_plans("/usr/bin/chromium", "nobody")[0])  # sandboxed: nothing to say
    assert len(caplog.records) == 1
    assert "WITHOUT Chromium's sandbox" in caplog.text and "no-such-user-here" in caplog.text


def test_the_proxy_reaches_ipv6_hosts_it_allows(proxy_with):
    # Public sites answer on IPv6 too; here an allowed ::1 stands in for one.
    listener = Listener("::1", reply=b"v6 ok")
    proxy = proxy_with(["::1", "v6.example"], resolver=lambda _name: ("::1",))
    try:
        answers = [_through(proxy, f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                   for host in (listener.authority, f"v6.example:{listener.port}")]
    finally:
        listener.close()
    assert [answer.endswith(b"v6 ok") for answer in answers] == [True, True]
