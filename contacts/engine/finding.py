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
from contacts.engine.form_choice import best_contact_form, closed_contact_forms, form_purpose
from contacts.engine.pages import PageProblem, open_page, settle
from contacts.engine.scanning import FrameScan, scan_frames

_JS = Path(__file__).parent / "js"
LINKS_JS = (_JS / "page_links.js").read_text()
DISMISS_JS = (_JS / "dismiss_overlays.js").read_text()
OPENERS_JS = (_JS / "openers.js").read_text()

# Offline: never let tldextract fetch the public suffix list.
_extract = tldextract.TLDExtract(suffix_list_urls=())

# What a link or button says it leads to, strongest first. A contact form is as often
# behind "Request Info" or "Get a Quote" as behind "Contact Us"; a trade appraisal,
# finance or service link leads to a form for something else.
_SAYS_CONTACT = re.compile(
    r"\bcontacts?\b|get in touch|send (us )?a message|message us|email us|reach us|write to us"
    r"|talk to us|let'?s talk|connect with us|reach out|send us an? (e-?mail|note|message)|drop us a line"
    r"|cont[aá]ct(enos|anos|o|e)\b|escr[ií]b(enos|anos)|env[ií]enos un mensaje|hablemos|h[aá]blenos",
    re.I,
)
_SAYS_INQUIRY = re.compile(
    r"request (more )?info(rmation)?|get more info(rmation)?|info(rmation)? request"
    r"|(get|request) (a |your |my )?(free )?quote|(get|request|unlock) (an? |your |my |the |our |today'?s )?(e-?price|best price|internet price|price)"
    r"|(check|confirm) (vehicle )?availability|is (it|this) (still )?available|ask (us )?a question|have a question|make an inquiry|inquire|enquire"
    r"|(solicitar|pedir|obtener|recibir) (m[aá]s )?informaci[oó]n|(solicitar|pedir|obtener) (una |su )?cotizaci[oó]n|\bcotiza(r|ci[oó]n)\b"
    r"|hacer una pregunta|tiene una pregunta|(consultar|verificar|confirmar) disponibilidad",
    re.I,
)
# A test drive request reaches sales too, but its form often wants a date and a time.
_SAYS_TEST_DRIVE = re.compile(
    r"\btest[- ]drive\b|prueba de manejo",
    re.I,
)
_SAYS_PLACE = re.compile(
    r"hours (&|and) directions|directions|visit us|find us|locations? (&|and) hours|\bhours\b|horario|ubicaci[oó]n|c[oó]mo llegar",
    re.I,
)
# A tab or button naming the sales department on its own ("Sales", "New & Used Sales",
# "Ventas"): on a page of department tabs, the one holding the form for buying a car.
_SAYS_SALES_DEPARTMENT = re.compile(
    r"^\W*((new|used|pre-?owned|new (&|and) (used|pre-?owned)|vehicle|car) )?sales( (department|team|dept\.?))?\W*$"
    r"|^\W*(departamento de )?ventas\W*$",
    re.I,
)
_SAYS_ABOUT = re.compile(r"^\W*(about( us)?|about the dealership|dealership info|our dealership|sobre nosotros|qui[eé]nes somos)\W*$", re.I)
# Links to forms that are not for reaching sales, and to pages with no form for it.
_SAYS_ELSEWHERE = re.compile(
    r"\b(trade|apprais|sell (us )?(your|my) (car|vehicle)|what'?s my car worth|instant (cash )?offer|we buy"
    r"|financ|credit|pre-?qualif|pre-?approv|payment calculator|leas(e|ing)\b|(?<!customer )service|parts\b|accessor|body shop|collision"
    r"|careers?\b|jobs?\b|employment|privacy|terms\b|log ?in\b|sign ?in\b|my account|register|inventory|specials\b|reviews?\b"
    r"|tasaci[oó]n|intercambio|vend(e|a) (tu|su)|financ?iamiento|cr[eé]dito|servicio|refacciones|repuestos|empleo|inventario)",
    re.I,
)
# Words the engine reads in link addresses. A fixture site's name must hold none of them:
# every address of the site carries it (tests/test_fixture_server.py).
CONTACT_LINK_HREF = re.compile(
    r"contact|get-in-touch|hours-and-directions|directions|contacto|request-info|more-info|get-a-quote|request-a-quote"
    r"|test-drive|availability|ask-a-question|inquiry|enquiry|solicitar|cotiza|prueba-de-manejo",
    re.I,
)
_HREF_SAYS_CONTACT = re.compile(r"contact|get-in-touch|contacto", re.I)
_HREF_SAYS_ELSEWHERE = re.compile(
    r"\b(trade|apprais|sell-(us-)?your|financ|credit|pre-?qualif|pre-?approv|service|parts\b|careers?\b|jobs?\b|privacy"
    r"|login|account|inventory|tasacion|servicio|credito)",
    re.I,
)
COMMON_CONTACT_PATHS = (
    "/contact-us", "/contact", "/contactus.htm", "/contact-us/", "/contact.htm", "/contact-us.htm",
    "/about-us/contact", "/hours-and-directions", "/contactus",
)
LABEL_MAX_CHARS = 60  # longer texts are paragraphs or cards, not a link's name
FOLLOW_FROM = 4  # weaker links (an "About Us") only after the site's stronger ones and the usual paths
MAX_PAGES = 4  # pages the site links to, visited beyond the first
MAX_GUESSES = 4  # usual contact paths tried when the site's own links found nothing
_POLL_S = 0.25
OPENING_S = 1.5  # how long an opened accordion or tab may take to show its form


@dataclass
class Found:
    scan: FrameScan  # the frame the form is in and what was seen there
    form: dict


class SiteChallenge(Exception):
    """The site answered with a bot-challenge interstitial instead of its pages."""


def registrable(host: str) -> str:
    parts = _extract(host)
    return parts.top_domain_under_public_suffix or host


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
        if _is_chat_frame(scan, scans):
            continue
        form = best_contact_form(scan.data["forms"])
        if form is not None and (best is None or _score(form) > _score(best.form)):
            best = Found(scan, form)
    return best


def _is_chat_frame(scan: FrameScan, scans: list[FrameScan]) -> bool:
    url = urlsplit(scan.data["url"])
    return scan is not scans[0] and bool(CHAT_FRAME.search(url.netloc + url.path))


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
        if found:
            return found
        if await open_closed_form(scans, clock):
            # Accordions slide open and tabs fade in: give the opened form a moment to show.
            give_up = max(give_up, time.monotonic() + OPENING_S)
        elif time.monotonic() >= give_up:
            return None
        await page.wait_for_timeout(_POLL_S * 1000)


async def open_closed_form(scans: list[FrameScan], clock) -> bool:
    """Open the best contact form a person would have to open first (a closed accordion
    panel, <details> or a tab not shown first); True if something was clicked."""
    for scan in scans:
        if _is_chat_frame(scan, scans):
            continue
        for form in closed_contact_forms(scan.data["forms"]):
            try:
                openers = await scan.frame.evaluate(OPENERS_JS, form["dc"])
            except PlaywrightError:
                continue
            if not openers:
                continue
            for dc in openers:
                await clock.check()
                target = scan.frame.locator(f'[data-dc="{dc}"]').first
                try:
                    await target.click(timeout=1500)
                except PlaywrightError:
                    # Covered by a sticky bar or a chat bubble: deliver the click to the control itself.
                    try:
                        await target.dispatch_event("click")
                    except PlaywrightError:
                        break
            return True
    return False


async def _links(page) -> list[dict]:
    try:
        return await page.evaluate(LINKS_JS)
    except PlaywrightError:
        return []


async def contact_links(page, start_url: str) -> list[tuple[int, str]]:
    """Same-site links that may lead to the contact form, as (score, address), best first."""
    return rank_links(await _links(page), start_url)


def label_score(text: str) -> int:
    """How surely a link or button named `text` leads to a sales contact form (pure):
    10 "Contact Us", 8 "Request Info" / "Get a Quote" / "Solicitar información",
    7 "Schedule Test Drive", 5 "Hours & Directions", 2 "About Us", 0 anything else or a
    form for something else."""
    text = " ".join((text or "").split())
    if not text or len(text) > LABEL_MAX_CHARS:
        return 0
    contact = bool(_SAYS_CONTACT.search(text))
    inquiry = bool(_SAYS_INQUIRY.search(text))
    test_drive = bool(_SAYS_TEST_DRIVE.search(text))
    if _SAYS_ELSEWHERE.search(text):
        # "Contact Service", "Value Your Trade", "Apply for Financing": another department's form.
        return 3 if contact or inquiry or test_drive else 0
    if contact:
        return 10
    if inquiry:
        return 8
    if test_drive:
        return 7
    if _SAYS_PLACE.search(text):
        return 5
    if _SAYS_ABOUT.search(text):
        return 2
    return 0


def link_score(link: dict) -> int:
    """The score of one of page_links.js's links, from its names and its address (pure)."""
    # An icon link's text is often its SVG's <title> ("envelope"); what a person is
    # told it does is its aria-label or title, so any of the three may name it.
    score = max(label_score(name) for name in (link["text"], link["aria"], link["title"]))
    path = urlsplit(link["href"]).path
    last_segment = path.rstrip("/").rsplit("/", 1)[-1]
    if _HREF_SAYS_ELSEWHERE.search(last_segment) and score < 8:
        return 0  # /value-your-trade/, /finance/: whatever the link is called
    if _HREF_SAYS_CONTACT.search(path):
        score += 4
    elif CONTACT_LINK_HREF.search(path):
        score += 3
    return score


def rank_links(links: list[dict], start_url: str) -> list[tuple[int, str]]:
    """(score, address) of page_links.js's same-site links that may lead to the contact
    form, best first; equal scores keep the page's order (pure)."""
    best: dict[str, int] = {}
    for link in links:
        href = link["href"]
        if not href or not same_site(href, start_url):
            continue
        href = href.split("#", 1)[0]
        score = link_score(link)
        if score > best.get(href, 0):
            best[href] = score
    return sorted(((score, href) for href, score in best.items()), key=lambda item: -item[0])


def rank_contact_links(links: list[dict], start_url: str) -> list[str]:
    """The addresses of rank_links, best first (pure)."""
    return [href for _, href in rank_links(links, start_url)]


def trigger_score(link: dict) -> int:
    """How surely clicking one of page_links.js's in-place controls shows the sales contact
    form (pure): its name's label_score, and 8 for a department tab for Sales not shown
    yet, whose panel may be fetched only when it is clicked."""
    if not (link["button"] and link["visible"]):
        return 0
    score = max(label_score(link["text"]), label_score(link["aria"]))
    if link.get("tab") and any(_SAYS_SALES_DEPARTMENT.search(name) for name in (link["text"], link["aria"])):
        score = max(score, 8)
    return score


async def modal_triggers(page, vehicle: str = "") -> list[str]:
    """data-dc ids of visible buttons and tabs that may open a contact form in place, best
    first; among equals, the one in the card of the customer's `vehicle` (a listing's
    "Request Info" on every car: its form carries that car's VIN)."""
    links = [link for link in await _links(page) if trigger_score(link) >= 8]
    links.sort(key=lambda link: (-trigger_score(link), -words_in_common(vehicle, link.get("card", ""))))
    return [link["dc"] for link in links[:3]]


def words_in_common(wanted: str, text: str) -> int:
    """How many of `wanted`'s words (a vehicle: year, make, model, trim) `text` holds as
    words, letters and digits only, any case. Pure."""
    words = set(re.findall(r"[^\W_]+", text.lower()))
    return sum(word in words for word in set(re.findall(r"[^\W_]+", wanted.lower())))


async def try_modals(page, clock, vehicle: str = "") -> Found | None:
    for dc in await modal_triggers(page, vehicle):
        await clock.check()
        try:
            await page.locator(f'[data-dc="{dc}"]').first.click(timeout=2000)
        except PlaywrightError:
            continue
        found = await look_on_page(page, 1.5, clock)
        if found:
            return found
    return None


async def find_contact_form(page, start_url: str, clock, navigation_timeout_ms: int, vehicle: str = "") -> Found | None:
    """The contact form on the open page or the pages it leads to, or None.

    The order a careful person would take: this page (and what its buttons open), then
    the pages the site's links promise a form on ("Contact Us", then "Request Info",
    "Get a Quote", ..., then "Hours & Directions") and what those pages link to in turn,
    then the paths dealer platforms use, and last the weak leads ("About Us").
    """
    found = await look_on_page(page, 0, clock)
    if found:
        return found
    here = page.url.split("#", 1)[0]
    ranked = await contact_links(page, start_url)
    # A "Contact" link to the open page itself (the menu's current item) says this is
    # the contact page: its form is coming, rendered by script, not somewhere else.
    is_contact_page = any(url == here and score >= 5 for score, url in ranked)
    await dismiss_overlays(page)
    found = await try_modals(page, clock, vehicle)
    if found:
        return found
    strong = [(score, url) for score, url in ranked if score >= FOLLOW_FROM and url != here]
    weak = [url for score, url in ranked if score < FOLLOW_FROM and url != here]
    if not strong or is_contact_page:
        # No contact page to go to, or this is it: give the page's scripts time to render a form.
        found = await look_on_page(page, 2.5, clock)
        if found:
            return found
        if not strong:
            # Script-built menus may have arrived meanwhile.
            ranked = await contact_links(page, start_url)
            strong = [(score, url) for score, url in ranked if score >= FOLLOW_FROM and url != here]
            weak = [url for score, url in ranked if score < FOLLOW_FROM and url != here]
    visited = {here}
    pages_seen = 0
    while strong and pages_seen < MAX_PAGES:
        score, url = strong.pop(0)
        if url in visited:
            continue
        visited.add(url)
        pages_seen += 1
        # A page the site links to as "Contact" or "Request Info" surely has a form coming.
        found = await _look_at(page, url, 2.0 if score >= 8 else 1.0, clock, navigation_timeout_ms, vehicle)
        if found:
            return found
        if found is None:
            # A contact page may only point on ("Email our sales team"): follow what it promises.
            for more in await contact_links(page, start_url):
                if more[0] >= 8 and more[1] not in visited and more not in strong:
                    strong.append(more)
            strong.sort(key=lambda item: -item[0])
    # Guessed paths are a fallback, tried once the site's own links found nothing.
    guesses = 0
    for url in [urljoin(start_url, p) for p in COMMON_CONTACT_PATHS]:
        if url in visited or guesses >= MAX_GUESSES:
            continue
        visited.add(url)
        guesses += 1
        found = await _look_at(page, url, 1.0, clock, navigation_timeout_ms, vehicle)
        if found:
            return found
    for url in weak:
        if url in visited or pages_seen >= MAX_PAGES:
            continue
        visited.add(url)
        pages_seen += 1
        found = await _look_at(page, url, 1.0, clock, navigation_timeout_ms, vehicle)
        if found:
            return found
    return None


async def _look_at(page, url: str, wait_s: float, clock, navigation_timeout_ms: int, vehicle: str = "") -> Found | None | bool:
    """Open `url` and look for the form there (and behind its buttons). False when the page
    could not be opened or answered with an error, None when it holds no contact form."""
    await clock.check()
    try:
        response = await open_page(page, url, min(navigation_timeout_ms, clock.remaining_ms()))
    except PageProblem:
        return False
    if response is not None and response.status >= 400:
        return False
    await settle(page, 2500)
    return await look_on_page(page, wait_s, clock) or await _after_overlays_and_modals(page, clock, vehicle)


async def _after_overlays_and_modals(page, clock, vehicle: str = "") -> Found | None:
    await dismiss_overlays(page)
    return await try_modals(page, clock, vehicle)
