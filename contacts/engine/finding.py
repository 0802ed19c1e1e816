"""Finding the dealer's contact form: on the page, in its frames and shadow roots, behind
a button that opens a modal, or on a contact page the site links to."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import tldextract
from playwright.async_api import Error as PlaywrightError

from contacts.engine import captcha
from contacts.engine.form_choice import best_contact_form, form_purpose
from contacts.engine.pages import PageProblem, open_page, settle
from contacts.engine.scanning import FrameScan, scan_frames

_JS = Path(__file__).parent / "js"
LINKS_JS = (_JS / "page_links.js").read_text()
DISMISS_JS = (_JS / "dismiss_overlays.js").read_text()

# Offline: never let tldextract fetch the public suffix list.
_extract = tldextract.TLDExtract(suffix_list_urls=())

CONTACT_LINK_TEXT = re.compile(
    r"^\s*(contact( us| dealer| the dealership)?|get in touch|hours (&|and) directions|directions|"
    r"cont[aá]ctenos|cont[aá]ctanos|contacto|send (us )?a message|reach us|email us|visit us|locations? (&|and) hours)\s*$",
    re.I,
)
CONTACT_LINK_HREF = re.compile(r"contact|get-in-touch|hours-and-directions|directions|contacto", re.I)
MODAL_TRIGGER_TEXT = re.compile(
    r"^\s*(contact( us)?|get (e-?price|e-?price|a quote|more info)|request (more )?info(rmation)?|ask a question|"
    r"send (us )?a message|message us|email us|check availability|confirm availability|get in touch|"
    r"cont[aá]ctenos|solicitar informaci[oó]n)\s*$",
    re.I,
)
COMMON_CONTACT_PATHS = (
    "/contact-us", "/contact", "/contactus.htm", "/contact-us/", "/contact.htm", "/contact-us.htm",
    "/about-us/contact", "/hours-and-directions", "/contactus",
)
MAX_PAGES = 4  # pages visited beyond the first
_POLL_S = 0.25


@dataclass
class Found:
    scan: FrameScan  # the frame the form is in and what was seen there
    form: dict


class SiteChallenge(Exception):
    """The site answered with a bot-challenge interstitial instead of its pages."""


def registrable(host: str) -> str:
    parts = _extract(host)
    return parts.registered_domain or host


def same_site(url: str, start: str) -> bool:
    a, b = urlsplit(url), urlsplit(start)
    if a.scheme not in ("http", "https"):
        return False
    if not a.hostname or not b.hostname:
        return False
    if a.hostname == b.hostname:
        return True
    return registrable(a.hostname) == registrable(b.hostname) and "." in registrable(a.hostname)


# Chat and texting widgets embed their own small forms; they start a chat, not an inquiry.
CHAT_FRAME = re.compile(
    r"podium|gubagoo|livechat|carchat|contactatonce|activengage|drift\.com|intercom|tawk\.to|zopim|zendesk"
    r"|olark|liveperson|kenect|textus|smooch|messenger|chat",
    re.I,
)


def _best_in(scans: list[FrameScan]) -> Found | None:
    best = None
    for scan in scans:
        if scan is not scans[0] and CHAT_FRAME.search(urlsplit(scan.data["url"]).netloc + urlsplit(scan.data["url"]).path):
            continue
        form = best_contact_form(scan.data["forms"])
        if form is not None and (best is None or _score(form) > _score(best.form)):
            best = Found(scan, form)
    return best


def _score(form: dict) -> int:
    return form_purpose(form)[1]


async def dismiss_overlays(page) -> None:
    try:
        await page.evaluate(DISMISS_JS)
    except PlaywrightError:
        pass


async def look_on_page(page, wait_s: float, clock) -> Found | None:
    """Scan the page until a contact form appears or `wait_s` passes (scripts render late)."""
    give_up = time.monotonic() + wait_s
    while True:
        await clock.check()
        scans = await scan_frames(page)
        if scans:
            reason = captcha.challenge_on_page(scans[0].data)
            if reason:
                raise SiteChallenge(reason)
        found = _best_in(scans)
        if found or time.monotonic() >= give_up:
            return found
        await page.wait_for_timeout(_POLL_S * 1000)


async def _links(page) -> list[dict]:
    try:
        return await page.evaluate(LINKS_JS)
    except PlaywrightError:
        return []


async def contact_links(page, start_url: str) -> list[str]:
    """Same-site links whose text or address says "contact", best first."""
    return rank_contact_links(await _links(page), start_url)


def rank_contact_links(links: list[dict], start_url: str) -> list[str]:
    """The addresses of page_links.js's links that lead to a contact page, best first (pure)."""
    ranked: list[tuple[int, str]] = []
    for link in links:
        href = link["href"]
        if not href or not same_site(href, start_url):
            continue
        href = href.split("#", 1)[0]
        # An icon link's text is often its SVG's <title> ("envelope"); what a person is
        # told it does is its aria-label or title, so any of the three may say "Contact".
        names = [name for name in (link["text"], link["aria"], link["title"]) if name]
        label = next((name for name in names if CONTACT_LINK_TEXT.match(name)), "")
        score = 0
        if label:
            score += 10 if re.search(r"contact|cont[aá]ct", label, re.I) else 5
        if CONTACT_LINK_HREF.search(urlsplit(href).path):
            score += 4
        if score and href not in (u for _, u in ranked):
            ranked.append((score, href))
    ranked.sort(key=lambda item: -item[0])
    return [u for _, u in ranked]


async def modal_triggers(page) -> list[str]:
    """data-dc ids of visible buttons that open a contact form in place."""
    return [
        link["dc"]
        for link in await _links(page)
        if link["button"] and link["visible"] and MODAL_TRIGGER_TEXT.match(link["text"] or link["aria"] or "")
    ][:3]


async def try_modals(page, clock) -> Found | None:
    for dc in await modal_triggers(page):
        await clock.check()
        try:
            await page.locator(f'[data-dc="{dc}"]').first.click(timeout=2000)
        except PlaywrightError:
            continue
        found = await look_on_page(page, 1.5, clock)
        if found:
            return found
    return None


async def find_contact_form(page, start_url: str, clock, navigation_timeout_ms: int) -> Found | None:
    """The contact form on the open page or the pages it leads to, or None."""
    found = await look_on_page(page, 0, clock)
    if found:
        return found
    here = page.url.split("#", 1)[0]
    links = await contact_links(page, start_url)
    # A "Contact" link to the open page itself (the menu's current item) says this is
    # the contact page: its form is coming, rendered by script, not somewhere else.
    is_contact_page = here in links
    links = [u for u in links if u != here]
    await dismiss_overlays(page)
    found = await try_modals(page, clock)
    if found:
        return found
    if not links or is_contact_page:
        # No contact page to go to, or this is it: give the page's scripts time to render a form.
        found = await look_on_page(page, 2.5, clock)
        if found:
            return found
    visited = {here}
    # The site's own contact links first, then the paths dealer platforms use.
    candidates = links + [urljoin(start_url, p) for p in COMMON_CONTACT_PATHS]
    pages_seen = 0
    for url in candidates:
        if url in visited or pages_seen >= MAX_PAGES:
            continue
        visited.add(url)
        pages_seen += 1
        await clock.check()
        try:
            response = await open_page(page, url, min(navigation_timeout_ms, clock.remaining_ms()))
        except PageProblem:
            continue
        if response is not None and response.status >= 400:
            continue
        await settle(page, 2500)
        # A page the site links to as "Contact" surely has a form coming; a guessed path may not.
        found = await look_on_page(page, 2.0 if url in links else 1.0, clock) or await _after_overlays_and_modals(
            page, clock
        )
        if found:
            return found
    return None


async def _after_overlays_and_modals(page, clock) -> Found | None:
    await dismiss_overlays(page)
    return await try_modals(page, clock)
