"""Keeping the browser off private networks: a dealer's page must not make us probe them.

Every request the context makes is checked: its host is resolved (cached) and the request
is aborted when any address is private, loopback, link-local, reserved or multicast.
WebSockets, which request routing never sees, are checked the same way when a page
creates one, and refused before any connection is made.

Limitation: Playwright routes WebSockets by replacing `WebSocket` in each page and frame
with a stand-in, so a WebSocket opened inside a Web Worker is not routed and is not
checked. A page must be written to do that on purpose; the guard does not claim it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from urllib.parse import urlsplit

_cache: dict[str, tuple[str, ...]] = {}
_cache_lock = threading.Lock()
_CACHE_LIMIT = 2048


class UnresolvableHost(Exception):
    pass


def is_forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def _addresses_without_lookup(host: str) -> tuple[str, ...] | None:
    """`host`'s addresses when no DNS lookup is needed (a literal, localhost, cached)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return (host,)
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        # Chromium answers these names with loopback itself, whatever DNS says (RFC 6761).
        return ("127.0.0.1", "::1")
    with _cache_lock:
        return _cache.get(host)


def _host(hostname: str) -> str:
    return hostname.strip("[]").lower()


def resolve(host: str) -> tuple[str, ...]:
    host = _host(host)
    known = _addresses_without_lookup(host)
    if known is not None:
        return known
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(host) from exc
    addresses = tuple(sorted({info[4][0] for info in infos}))
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[host] = addresses
    return addresses


def forbidden_address_for(url: str) -> str:
    """The private address `url` would reach, or "" when it is a public (or non-network) URL.

    Raises UnresolvableHost when the name does not resolve.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss", "ftp") or not parts.hostname:
        return ""
    for address in resolve(parts.hostname):
        if is_forbidden_address(address):
            return address
    return ""


def _needs_lookup(url: str) -> bool:
    host = _host(urlsplit(url).hostname or "")
    return bool(host) and _addresses_without_lookup(host) is None


async def forbidden_address_for_async(url: str) -> str:
    """forbidden_address_for() for the engine loop: a name lookup runs on a helper
    thread, so one slow DNS answer does not stall every attempt on the loop."""
    if _needs_lookup(url):
        return await asyncio.to_thread(forbidden_address_for, url)
    return forbidden_address_for(url)


async def _is_blocked(url: str) -> bool:
    try:
        return bool(await forbidden_address_for_async(url))
    except UnresolvableHost:
        return False  # the browser's own lookup will fail the same way


# What a page sees when its WebSocket is refused: the close code of a connection that
# never opened, as if the server could not be reached.
REFUSED_WEB_SOCKET_CODE = 1006


async def install_private_network_guard(context) -> None:
    async def guard(route) -> None:
        if await _is_blocked(route.request.url):
            await route.abort("blockedbyclient")
        else:
            await route.fallback()

    async def guard_web_socket(web_socket_route) -> None:
        # A routed WebSocket has no server until connect_to_server(): refusing it
        # means closing the page's side before anything is dialled.
        if await _is_blocked(web_socket_route.url):
            await web_socket_route.close(code=REFUSED_WEB_SOCKET_CODE, reason="blocked: private network address")
        else:
            web_socket_route.connect_to_server()  # messages and closes are then relayed both ways

    await context.route("**/*", guard)
    await context.route_web_socket(lambda _url: True, guard_web_socket)
