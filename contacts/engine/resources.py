"""Not downloading what contacting a dealer does not need.

Real dealer pages carry dozens of inventory photos, web fonts, a video, a tag manager
and a dozen analytics and advertising scripts, all from other hosts and often slow. None
of it helps to find, fill or send a contact form, and all of it costs time, memory and
CPU. Each attempt's context therefore:

- aborts images, media (video, audio) and fonts from any host, as an ad blocker would
  (the page sees an ordinary failed load; layout and text stay, so the screenshots are
  still legible evidence), recognised by the extension of their address (see ROUTED);
- answers scripts, stylesheets and frames from well-known analytics, advertising,
  tag-manager, chat and accessibility-overlay hosts at once with nothing: a script that
  does nothing, an empty stylesheet, and for a frame "204 No Content", which leaves it
  blank without a document (so without a renderer process of its own). An empty answer
  rather than a refusal, because page code waits on these scripts' load events more
  often than on their errors. Their other requests (beacons, XHR, long-polls) are
  aborted: answered at once, a poll loop would ask again at once, while a failure makes
  it back off. (The engine never uses chat widgets: they start a chat, not an enquiry.);
- answers web-font stylesheets (Google Fonts, Typekit) with an empty stylesheet: they
  only declare fonts, and a slow one in `<head>` would hold back every script after it.

Images that were not downloaded are drawn transparent until they load (js/unloaded_images.js):
a broken image is still painted, and 40 of them cost a renderer and the GPU process about 10
MB a page in raster tiles, as much as the rest of a heavy page's extra weight.

Never touched: documents (a form in an iframe is a document), scripts and stylesheets
from any other host (form vendors, the dealer platform's own), XHR and fetch, and
anything that is part of a CAPTCHA, whatever its type or host: the engine must still see
a CAPTCHA to report it, and its images are evidence.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

UNLOADED_IMAGES_JS = (Path(__file__).parent / "js" / "unloaded_images.js").read_text()

HEAVY_RESOURCE_TYPES = frozenset({"image", "media", "font"})

# Registrable domains (and every host below them) that serve only analytics, advertising
# or tag management. Nothing here hosts forms, CAPTCHAs or chat: HubSpot, Pardot, Marketo,
# Google (reCAPTCHA lives on google.com, recaptcha.net and gstatic.com) and Cloudflare
# are deliberately absent, as are consent managers and A/B testing tools (page code may
# wait for those before it shows anything).
TRACKER_DOMAINS = frozenset({
    # Google's analytics, tag manager and ad networks
    "google-analytics.com", "googletagmanager.com", "googletagservices.com", "googlesyndication.com",
    "googleadservices.com", "doubleclick.net", "adservice.google.com", "analytics.google.com",
    # social pixels
    "connect.facebook.net", "bat.bing.com", "clarity.ms", "snap.licdn.com", "px.ads.linkedin.com",
    "ads-twitter.com", "analytics.twitter.com", "analytics.tiktok.com", "ct.pinterest.com", "sc-static.net",
    "tr.snapchat.com", "alb.reddit.com",
    # session recording and product analytics
    "hotjar.com", "hotjar.io", "fullstory.com", "mouseflow.com", "crazyegg.com", "luckyorange.com",
    "luckyorange.net", "mixpanel.com", "amplitude.com", "heap.io", "heapanalytics.com", "segment.com",
    "segment.io", "quantserve.com", "quantcount.com", "scorecardresearch.com", "chartbeat.com",
    "chartbeat.net", "mc.yandex.ru", "siteimproveanalytics.com",
    # monitoring beacons
    "nr-data.net", "js-agent.newrelic.com", "bam.nr-data.net",
    # Adobe and Tealium tag management and analytics
    "adobedtm.com", "omtrdc.net", "demdex.net", "2o7.net", "everesttech.net", "tiqcdn.com", "tealiumiq.com",
    "ensighten.com",
    # chat and texting widgets (never a contact form to the engine, see finding.CHAT_FRAME)
    # and accessibility overlays: large bundles, frames and long-polls on every page
    "podium.com", "gubagoo.io", "gubagoo.com", "livechatinc.com", "carchat24.com", "contactatonce.com",
    "activengage.com", "driftt.com", "drift.com", "intercom.io", "intercomcdn.com", "widget.intercom.io",
    "tawk.to", "zopim.com", "olark.com", "liveperson.net", "lpsnmedia.net", "kenect.com",
    "acsbapp.com", "acsbap.com", "userway.org", "audioeye.com",
    # ad exchanges and retargeting (auto retail uses these heavily)
    "adnxs.com", "adsrvr.org", "criteo.com", "criteo.net", "taboola.com", "outbrain.com", "rubiconproject.com",
    "pubmatic.com", "openx.net", "casalemedia.com", "amazon-adsystem.com", "moatads.com", "simpli.fi",
    "adroll.com", "rlcdn.com", "bluekai.com", "agkn.com", "mathtag.com", "turn.com", "yieldmo.com",
})

# Stylesheets that only declare web fonts.
FONT_CSS_HOSTS = frozenset({"fonts.googleapis.com", "use.typekit.net", "p.typekit.net", "fast.fonts.net",
                            "cloud.typography.com"})

# Whatever belongs to a CAPTCHA or bot check is always fetched: scripts, frames, images.
NEVER_BLOCKED = re.compile(r"captcha|securimage|turnstile|challenges\.cloudflare|/cdn-cgi/challenge", re.I)

# What an emptied request is answered with; anything else gets 204 No Content.
EMPTY_BODIES = {
    "script": "text/javascript",
    "stylesheet": "text/css",
}


# Which requests are handed to _answer at all. Every request routed costs a round trip
# from Chromium through the driver to Python, and a dealer page makes a hundred; so only
# addresses that may be blocked are routed: those ending in an image, font or media
# extension, and those of the hosts above. (An image at an address without an
# extension is downloaded; dealer CDNs name their photos .jpg, .png or .webp.)
HEAVY_EXTENSIONS = ("jpe?g|png|gif|webp|avif|bmp|ico|svg|tiff?|heic|woff2?|ttf|otf|eot|"
                    "mp4|webm|m4v|mov|m3u8|ts|mp3|m4a|aac|ogg|oga|wav|flac")
ROUTED = re.compile(
    r"^https?://[^/?#]+/[^?#]*\.(" + HEAVY_EXTENSIONS + r")([?#]|$)"
    r"|^https?://([^/?#]*\.)?(" + "|".join(re.escape(d) for d in sorted(TRACKER_DOMAINS | FONT_CSS_HOSTS)) + r")(:\d+)?([/?#]|$)",
    re.I,
)


def _host_in(host: str, domains: frozenset[str]) -> bool:
    """Whether `host` is one of `domains` or below one of them."""
    while host:
        if host in domains:
            return True
        _, _, host = host.partition(".")
    return False


def decide(url: str, resource_type: str) -> str:
    """What to do with one request: "fetch", "abort" (images, media, fonts, trackers'
    beacons and polls) or "empty" (answer at once with nothing). Pure."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or NEVER_BLOCKED.search(url):
        return "fetch"
    host = (parts.hostname or "").lower()
    if _host_in(host, TRACKER_DOMAINS):
        return "empty" if resource_type in ("script", "stylesheet", "document") else "abort"
    if resource_type in HEAVY_RESOURCE_TYPES:
        return "abort"
    if resource_type == "stylesheet" and host in FONT_CSS_HOSTS:
        return "empty"
    return "fetch"


async def _answer(route) -> None:
    request = route.request
    what = decide(request.url, request.resource_type)
    try:
        if what == "fetch":
            await route.fallback()  # on to the private-network guard, if there is one
        elif what == "abort":
            await route.abort("blockedbyclient")
        else:
            content_type = EMPTY_BODIES.get(request.resource_type)
            await route.fulfill(
                status=200 if content_type else 204,
                content_type=content_type or "text/plain",
                body="",
                headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
            )
    except PlaywrightError:
        pass  # the page or context closed while the request waited: nothing to answer


async def install_resource_blocking(context) -> None:
    """Make `context` skip what a contact attempt does not need (see the module's doc).

    Call it after the private-network guard is installed: Playwright runs the last route
    registered first, so a request this lets through still passes the guard."""
    await context.add_init_script(script=UNLOADED_IMAGES_JS)
    await context.route(ROUTED, _answer)
