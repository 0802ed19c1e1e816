"""Dealer website addresses: one normal form, and the key that tells two dealers apart.

The key is the registrable domain ("bobsford.com" for "https://www.bobsford.com/new/"),
so http/https, www and different pages of one site are the same dealer. It is worked
out offline from tldextract's bundled Public Suffix List snapshot: no network, ever.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tldextract
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

MAX_WEBSITE_LENGTH = 500

# Query parameters that only say where a visitor came from; the page is the same without.
TRACKING_PARAMS = frozenset(
    {"gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl"}
)
TRACKING_PREFIXES = ("utm_",)

# Sites on these domains belong to many businesses, told apart by the first path
# segment (facebook.com/BobsFord) or, below, by the whole host name.
SHARED_BY_PATH = frozenset({"facebook.com", "google.com", "instagram.com", "linktr.ee", "yelp.com"})
SHARED_BY_HOST = frozenset({"business.site", "godaddysites.com", "square.site", "weebly.com", "wordpress.com"})

# "mailto:x", "tel:555…", "javascript:…" — but not "example.com:8080/".
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)

_validate_url = URLValidator(schemes=["http", "https"])


class WebsiteError(ValueError):
    """A website that cannot be used; the message says why, for a form or an import report."""


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() and no cache directory: the bundled snapshot only, so this
    # never fetches the list or writes a cache file. Private suffixes (wixsite.com,
    # blogspot.com…) count, so each hosted dealer site gets its own key.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _is_local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normalize_website(raw: str) -> str:
    """The website in normal form, or "" for an empty one; WebsiteError if unusable.

    Adds a scheme (https for names, http for IP addresses and localhost), lower-cases
    scheme and host, drops the default port, the fragment, any user:password and
    tracking parameters such as utm_*, and keeps the path and other parameters.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    if any(ch.isspace() for ch in text):
        raise WebsiteError(f"{text!r} is not a web address (it contains spaces)")
    if text.startswith("//"):
        text = text[2:]
    if "://" not in text:
        if _OTHER_SCHEME.match(text):
            raise WebsiteError(f"{text!r} is not a web address; only http and https sites can be contacted")
        host = re.split(r"[/:?#]", text, maxsplit=1)[0].lower()
        text = ("http://" if _is_local_host(host) else "https://") + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise WebsiteError(f"{raw.strip()!r} is not a web address ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebsiteError(f"{raw.strip()!r} is not a web address; only http and https sites can be contacted")
    if parts.username or parts.password:
        raise WebsiteError(f"{raw.strip()!r} contains a user name or password; enter the site's public address")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebsiteError(f"{raw.strip()!r} has no host name")
    if "." not in host and not _is_local_host(host):
        raise WebsiteError(f"{raw.strip()!r} is not a web address (no domain such as .com)")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)], doseq=True
    )
    url = urlunsplit((scheme, netloc, parts.path or "/", query, ""))
    if len(url) > MAX_WEBSITE_LENGTH:
        raise WebsiteError(f"the web address is longer than {MAX_WEBSITE_LENGTH} characters")
    try:
        _validate_url(url)
    except ValidationError:
        raise WebsiteError(f"{raw.strip()!r} is not a valid web address") from None
    return url


def _is_tracking(param: str) -> bool:
    name = param.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def website_key(raw: str) -> str | None:
    """The dedupe key for a website, or None when there is none.

    The registrable domain for real sites; for IP addresses and localhost, host:port
    plus the path, so several local (sandbox) sites on one server stay distinct.
    """
    url = normalize_website(raw)
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path.rstrip("/").lower()
    if _is_local_host(host):
        return f"{parts.netloc}{path}"
    extracted = _extractor()(host)
    # A host with no public suffix (an intranet name) is keyed by itself, minus "www.".
    domain = extracted.top_domain_under_public_suffix or host.removeprefix("www.")
    if domain in SHARED_BY_PATH:
        first_segment = path.strip("/").split("/", 1)[0]
        return f"{domain}/{first_segment}" if first_segment else domain
    if domain in SHARED_BY_HOST:
        return host.removeprefix("www.")
    return domain
