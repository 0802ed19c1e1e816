"""What a dealer's website is built on, as its own markup says (for the dashboard's CAPTCHA
rate per platform).

Read from signals a site cannot help showing: the generator meta tag, and the hosts and
paths its scripts, styles and images load from (dealer platforms serve their assets from
their own domains: Dealer.com from dealer.com and ddc-prefixed paths, Dealer Inspire
from dealerinspire.com, DealerOn from dealeron.com, …). Dealer platforms are checked
before the general ones they run on (Dealer Inspire is WordPress underneath). Nothing
recognisable: "" (the dashboard shows "Unknown"), never a guess from the dealer's name.
"""

from __future__ import annotations

import asyncio
import re

# (platform, pattern over "generator + asset URLs"), most specific first.
_SIGNATURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        ("Dealer.com", r"\b(?:static|pictures|images)\.dealer\.com\b|/ddc[-_.]|\bddc-(?:site|web)"),
        ("Dealer Inspire", r"dealerinspire\.com|/wp-content/(?:themes|plugins)/dealer-?inspire"),
        ("DealerOn", r"\bdealeron\.(?:com|net)\b|/dealeron[-_/]"),
        ("DealerFire", r"dealerfire\.com"),
        ("Dealer eProcess", r"dealereprocess\.(?:com|net)"),
        ("Sincro (CDK)", r"sincrodigital\.com|cdkglobal\.com|cobalt(?:nitra|group)\.com"),
        ("Fox Dealer", r"foxdealer\.com"),
        ("Overfuel", r"overfuel\.com"),
        ("DealerSocket", r"dealersocket\.com"),
        ("WordPress", r"\bwordpress\b|/wp-content/|/wp-includes/|/wp-json/"),
        ("Drupal", r"\bdrupal\b|/sites/(?:default|all)/(?:files|modules|themes)/"),
        ("Joomla", r"\bjoomla\b"),
        ("Wix", r"\bwix\.com\b|static\.parastorage\.com"),
        ("Squarespace", r"\bsquarespace\b"),
        ("Shopify", r"\bshopify\b|cdn\.shopify\.com"),
        ("Webflow", r"\bwebflow\b"),
        ("Next.js", r"/_next/static/"),
    )
)

# Collected in the page: the generator tag and where assets come from (capped: a page with
# thousands of images says no more about its platform than its first few hundred).
_MARKERS_JS = """() => {
  const gen = [...document.querySelectorAll('meta[name="generator" i]')].map(m => m.content || '');
  const urls = [];
  for (const el of document.querySelectorAll('script[src], link[href], img[src], iframe[src]')) {
    urls.push(el.src || el.href || '');  // resolved: "static/ddc.css" -> "https://…/static/ddc.css"
    if (urls.length >= 400) break;
  }
  const cls = (document.body && document.body.className && String(document.body.className)) || '';
  return {generator: gen.join(' | '), urls, body_class: cls.slice(0, 500)};
}"""

DETECT_TIMEOUT_S = 2.0


def platform_from_markers(generator: str, urls: list[str], body_class: str = "") -> str:
    text = " ".join([generator, body_class, *urls])
    for name, pattern in _SIGNATURES:
        if pattern.search(text):
            return name
    return ""


async def site_platform(page) -> str:
    """The platform of the site `page` shows, or "" (unknown, or the page is gone). Never raises."""
    if page is None:
        return ""
    try:
        markers = await asyncio.wait_for(page.evaluate(_MARKERS_JS), DETECT_TIMEOUT_S)
    except Exception:  # a closed, crashed or hung page: the platform stays unknown
        return ""
    if not isinstance(markers, dict):
        return ""
    return platform_from_markers(
        str(markers.get("generator") or ""), [str(u) for u in markers.get("urls") or []],
        str(markers.get("body_class") or ""),
    )
