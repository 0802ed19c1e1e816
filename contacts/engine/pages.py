"""Opening a page and letting it settle, with failures turned into sentences."""

from __future__ import annotations

import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

_NET_ERRORS = [
    (re.compile(r"ERR_NAME_NOT_RESOLVED|ERR_NAME_RESOLUTION_FAILED"), "The site's address could not be found (DNS lookup failed)."),
    (re.compile(r"ERR_CONNECTION_REFUSED"), "The site refused the connection."),
    (re.compile(r"ERR_CONNECTION_(RESET|CLOSED|ABORTED)|ERR_EMPTY_RESPONSE"), "The site closed the connection."),
    (re.compile(r"ERR_(CONNECTION_)?TIMED_OUT|ERR_TIMED_OUT"), "The site did not answer in time."),
    (re.compile(r"ERR_CERT|ERR_SSL"), "The site's HTTPS certificate is not valid."),
    (re.compile(r"ERR_TOO_MANY_REDIRECTS"), "The site redirects in a loop."),
    (re.compile(r"ERR_BLOCKED_BY_CLIENT"), "The browser blocked the page."),
    # An HTTPS site (or a hop of it) the egress proxy refused or could not connect to.
    (re.compile(r"ERR_TUNNEL_CONNECTION_FAILED"), "The site could not be reached (its address is private, or it did not accept the connection)."),
    (re.compile(r"ERR_PROXY_CONNECTION_FAILED"), "The browser's egress proxy is not answering."),
    (re.compile(r"ERR_ADDRESS_UNREACHABLE|ERR_INTERNET_DISCONNECTED|ERR_NETWORK"), "The site could not be reached."),
]


class PageProblem(Exception):
    """The page could not be opened; the message is for the user."""


# What an answer the egress proxy made up itself (contacts/engine/egress.py) means.
_EGRESS_REFUSALS = {
    "private": "The site led to a private network address{detail}, which the browser never connects to.",
    "unresolvable": "The site's address could not be found (DNS lookup failed).",
    "connection-refused": "The site refused the connection.",
    "timed-out": "The site did not answer in time.",
    "unreachable": "The site could not be reached.",
}


async def egress_refusal(response) -> str:
    """The sentence for a response the egress proxy made instead of the site, or ""."""
    from contacts.engine.egress import ADDRESS_HEADER, REFUSAL_HEADER

    if response is None:
        return ""
    try:
        kind = await response.header_value(REFUSAL_HEADER)
        address = await response.header_value(ADDRESS_HEADER) if kind == "private" else ""
    except PlaywrightError:
        return ""
    if kind not in _EGRESS_REFUSALS:
        return ""
    return _EGRESS_REFUSALS[kind].format(detail=f" ({address})" if address else "")


def describe_navigation_error(exc: Exception) -> str:
    text = str(exc)
    for pattern, sentence in _NET_ERRORS:
        if pattern.search(text):
            return sentence
    if isinstance(exc, PlaywrightTimeout):
        return "The site did not finish loading in time."
    return "The site could not be opened: " + text.splitlines()[0][:160]


async def open_page(page, url: str, timeout_ms: int):
    """Navigate and return the main response (None for same-document pages). A page the
    egress proxy answered in the site's place (a redirect to a private address) is a
    PageProblem too."""
    try:
        response = await page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    except PlaywrightTimeout as exc:
        raise PageProblem(describe_navigation_error(exc)) from exc
    except PlaywrightError as exc:
        raise PageProblem(describe_navigation_error(exc)) from exc
    refusal = await egress_refusal(response)
    if refusal:
        raise PageProblem(refusal)
    return response


async def settle(page, wait_ms: int = 3000) -> None:
    """Wait for the document itself (DOMContentLoaded), never for `load` or network
    idle: a slow ad, a video that never finishes or an analytics long-poll would hold
    either for as long as it likes. Forms that scripts draw later are waited for by
    looking for them (finding.look_on_page), which ends as soon as one is there."""
    try:
        await page.wait_for_load_state("domcontentloaded", timeout=wait_ms)
    except PlaywrightError:
        pass
