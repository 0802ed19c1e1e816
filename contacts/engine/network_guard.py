"""Which addresses the browser may reach: the public internet, and the allowed hosts.

A dealer's page is written by anyone (a CSV import, an OpenStreetMap edit, a compromised
site), so nothing it makes the browser do may reach this machine or its network. The
rule lives here and is applied by the egress proxy (`egress.py`) to every connection
Chromium makes, redirects, workers and WebRTC included, and once more by the runner to
the start address so that a refusal there reads as a sentence.

- A host is resolved once; every address it resolves to must be public, and the
  connection goes to the exact address that was checked (no second lookup for a DNS
  rebinding answer to slip into). A name that does not resolve is refused.
- Public means globally routable unicast: loopback, private, link-local (the cloud
  metadata service at 169.254.169.254 among them), CGNAT (100.64/10), multicast,
  reserved, unspecified and documentation ranges are not, and neither are the IPv6 forms
  that carry an IPv4 address inside (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible
  ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) when that address is not.
- `ALLOWED_PRIVATE_HOSTS` lets named hosts through whatever they resolve to: `host` for
  any port, `host:port` for one. The host is matched as the URL names it, so allowing
  `127.0.0.1` does not allow `127.0.0.2`, `[::1]` or a DNS name that resolves to
  127.0.0.1, and allowing `localhost` does not allow `x.localhost`.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Callable, Iterable

# What ALLOW_PRIVATE_TARGETS=1 (the old switch) stands for: this machine's loopback by
# the names a development setup uses.
LOOPBACK_ALLOWLIST = ("127.0.0.1", "localhost")

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class UnresolvableHost(Exception):
    pass


class RefusedAddress(Exception):
    """The connection may not be made; the message says why, for a person. `address` is
    the private address found, if that is the reason."""

    def __init__(self, reason: str, address: str = "") -> None:
        super().__init__(reason)
        self.address = address


class HostNotFound(RefusedAddress):
    """Refused because the name did not resolve: the rule fails closed."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (and would reach through a translator)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_public_address(address: str) -> bool:
    """Whether `address` (an IP literal; an IPv6 zone is ignored) is globally routable
    unicast. Anything that is not an address at all is not public."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _IPV4_COMPATIBLE or ip.teredo is not None:
            return False  # deprecated or a tunnel endpoint: never a dealer's server
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_public_address(str(inner))
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


def normalise_host(host: str) -> str:
    """A host as it is compared: lower case, no IPv6 brackets, no trailing dot, IP
    literals in their one canonical spelling."""
    host = host.strip().lower().strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def is_localhost_name(host: str) -> bool:
    # Chromium answers these names with loopback itself, whatever DNS says (RFC 6761).
    return host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True)
class AllowedHost:
    host: str
    port: int | None = None  # None: every port

    def matches(self, host: str, port: int) -> bool:
        return self.host == host and self.port in (None, port)

    def __str__(self) -> str:
        if self.port is None:
            return self.host
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_allowed_host(entry: str) -> AllowedHost:
    """`host`, `host:port`, `[v6]` or `[v6]:port`; ValueError with a readable message."""
    text = entry.strip()
    if not text:
        raise ValueError("an empty entry")
    port: int | None = None
    if text.startswith("["):
        inside, _, rest = text[1:].partition("]")
        host, port_text = inside, rest[1:] if rest.startswith(":") else rest
        if rest and not rest.startswith(":"):
            raise ValueError(f"{entry!r} is not host, host:port or [IPv6]:port")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a bare IPv6 address or a plain name
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{entry!r} has no valid port")
        port = int(port_text)
    host = normalise_host(host)
    if not _HOST_NAME.fullmatch(host) and not _is_ip(host):
        raise ValueError(f"{entry!r} is not a host name or address (no wildcards, schemes or paths)")
    return AllowedHost(host, port)


_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def parse_allowlist(entries: Iterable[str]) -> tuple[AllowedHost, ...]:
    return tuple(dict.fromkeys(parse_allowed_host(entry) for entry in entries))


def system_resolve(host: str) -> tuple[str, ...]:
    """Every address the system resolver gives `host` (one lookup)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnresolvableHost(host) from exc
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnresolvableHost(host)
    return addresses


class EgressPolicy:
    """The rule: `address_for(host, port)` is the one address a connection to `host` may
    go to, or RefusedAddress. Thread-safe; holds no cache, so each connection is checked
    on what its own lookup said."""

    def __init__(self, allowed: Iterable[str | AllowedHost] = (),
                 resolver: Callable[[str], tuple[str, ...]] = system_resolve) -> None:
        self.allowed = tuple(a if isinstance(a, AllowedHost) else parse_allowed_host(a) for a in allowed)
        self.resolver = resolver

    def is_allowed(self, host: str, port: int) -> bool:
        host = normalise_host(host)
        return any(entry.matches(host, port) for entry in self.allowed)

    def addresses(self, host: str) -> tuple[str, ...]:
        """`host`'s addresses: itself if a literal, loopback for localhost names, else one
        lookup. Raises UnresolvableHost."""
        host = normalise_host(host)
        if not host:
            raise UnresolvableHost(host)
        try:
            return (str(ipaddress.ip_address(host)),)
        except ValueError:
            pass
        if is_localhost_name(host):
            return ("127.0.0.1", "::1")
        return tuple(normalise_host(a) for a in self.resolver(host))

    def address_for(self, host: str, port: int) -> str:
        """The address to connect to for `host`:`port`, checked; RefusedAddress if none may be."""
        name = normalise_host(host)
        try:
            addresses = self.addresses(name)
        except UnresolvableHost:
            raise HostNotFound(f"the address of {name or 'an empty host'} could not be found") from None
        if self.is_allowed(name, port):
            return addresses[0]
        private = [a for a in addresses if not is_public_address(a)]
        if private:
            shown = name if name == private[0] else f"{name} ({private[0]})"
            raise RefusedAddress(f"{shown} is a private network address", private[0])
        return addresses[0]
