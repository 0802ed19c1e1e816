"""Real page weight: images, media, fonts and tracker hosts are not downloaded; what forms
and CAPTCHAs need is; a third party that never finishes does not stop the attempt."""

from __future__ import annotations

import pytest

from contacts.engine import outcomes
from contacts.engine.resources import ROUTED, decide, install_resource_blocking
from tests.engine.conftest import OPTIONS, THANKS, Reply, page

# --- which request gets what (pure) ------------------------------------------------------


@pytest.mark.parametrize("url,kind", [
    ("https://cdn.dealer.example/inventory/rav4-1.jpg", "image"),
    ("https://cdn.dealer.example/i?id=7", "image"),
    ("https://fonts.gstatic.com/s/roboto/v30/KFOmCnqEu92Fr1Mu4mxK.woff2", "font"),
    ("https://videos.dealer.example/walkaround.mp4", "media"),
])
def test_images_media_and_fonts_are_aborted_from_any_host(url, kind):
    assert decide(url, kind) == "abort"


@pytest.mark.parametrize("url,kind", [
    ("https://www.googletagmanager.com/gtm.js?id=GTM-ABC123", "script"),
    ("https://www.google-analytics.com/analytics.js", "script"),
    ("https://connect.facebook.net/en_US/fbevents.js", "script"),
    ("https://securepubads.g.doubleclick.net/tag/js/gpt.js", "script"),
    ("https://tpc.googlesyndication.com/safeframe/1-0-40/html/container.html", "document"),
    ("https://static.hotjar.com/c/hotjar-123.js?sv=6", "script"),
    ("https://bat.bing.com/bat.js", "script"),
    ("https://assets.adobedtm.com/launch-EN123.min.js", "script"),
    ("https://widgets.gubagoo.io/loader.js", "script"),
    ("https://acsbapp.com/apps/app/dist/js/app.js", "script"),
    ("https://fonts.googleapis.com/css2?family=Roboto", "stylesheet"),
])
def test_trackers_and_font_stylesheets_are_answered_empty(url, kind):
    assert decide(url, kind) == "empty"


@pytest.mark.parametrize("url,kind", [
    ("https://region1.google-analytics.com/g/collect?v=2", "ping"),
    ("https://www.google-analytics.com/j/collect?v=1", "xhr"),
    ("https://ws.podium.com/poll?id=3", "fetch"),
    ("https://www.facebook.com/tr?id=1&ev=PageView", "image"),
])
def test_trackers_beacons_and_polls_are_aborted_so_their_loops_back_off(url, kind):
    assert decide(url, kind) == "abort"


@pytest.mark.parametrize("url,kind", [
    ("https://www.google.com/recaptcha/api.js", "script"),
    ("https://www.gstatic.com/recaptcha/releases/abc/recaptcha__en.js", "script"),
    ("https://www.google.com/recaptcha/api2/anchor?k=6Lc", "document"),
    ("https://www.recaptcha.net/recaptcha/api.js", "script"),
    ("https://js.hcaptcha.com/1/api.js", "script"),
    ("https://challenges.cloudflare.com/turnstile/v0/api.js", "script"),
    ("https://dealer.example/securimage/securimage_show.php?sid=1", "image"),
    ("https://dealer.example/captcha.png", "image"),
    ("https://js.hsforms.net/forms/embed/v2.js", "script"),
    ("https://form.jotform.com/241380912345678", "document"),
    ("https://www.dealer.example/contact-us/", "document"),
    ("https://www.dealer.example/api/leads", "fetch"),
    ("https://www.dealer.example/css/site.css", "stylesheet"),
    ("https://cdn.dealer-platform.example/forms.js", "script"),
    ("https://www.google.com/maps/embed?pb=1", "document"),
    ("data:image/png;base64,iVBORw0KGgo=", "image"),
])
def test_what_forms_and_captchas_need_is_fetched(url, kind):
    assert decide(url, kind) == "fetch"


@pytest.mark.parametrize("url,routed", [
    ("https://cdn.dealer.example/inventory/rav4-1.jpg", True),
    ("https://pictures.dealer.example/photos/a/b.JPG?impolicy=resize&w=414", True),
    ("https://cdn.dealer.example/fonts/brand.woff2#v2", True),
    ("https://videos.dealer.example/walkaround.mp4", True),
    ("https://www.googletagmanager.com/gtm.js?id=GTM-ABC123", True),
    ("https://securepubads.g.doubleclick.net:443/tag/js/gpt.js", True),
    ("https://fonts.googleapis.com/css2?family=Roboto", True),
    # Everything else goes straight to the network: no round trip to Python per request.
    ("https://www.dealer.example/", False),
    ("https://www.dealer.example/contact-us/", False),
    ("https://cdn.dealer.example/app.js?v=3", False),
    ("https://www.dealer.example/jpg-gallery/", False),
    ("https://notgoogletagmanager.com/gtm.js", False),
    ("https://www.google.com/recaptcha/api.js", False),
])
def test_only_what_may_be_blocked_is_routed(url, routed):
    assert bool(ROUTED.search(url)) == routed


def test_a_lookalike_host_is_not_a_tracker():
    assert decide("https://notgoogletagmanager.com/gtm.js", "script") == "fetch"
    assert decide("https://googletagmanager.com.dealer.example/x.js", "script") == "fetch"


# --- in the browser ----------------------------------------------------------------------

TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)


def heavy_form(third: str) -> str:
    photos = "".join(f'<img src="{third}photo-{n}.jpg" width="120" height="80" alt="">' for n in range(8))
    return page(f"""
<link rel="stylesheet" href="{third}site.css">
<style>@font-face {{ font-family: Brand; src: url({third}brand.woff2) format("woff2"); }}
body {{ font-family: Brand, sans-serif; }}</style>
<script async src="{third}vendor.js"></script>
<h1>Valley Motors</h1>
<div class="inventory">{photos}</div>
<video src="{third}walkaround.mp4" autoplay muted loop width="320" height="180"></video>
<iframe src="{third}ad.html" width="300" height="250" title="advertisement"></iframe>
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <button type="submit">Send Message</button>
</form>
<script>fetch("{third}long-poll").catch(() => {{}});</script>""")


@pytest.mark.browser
def test_a_heavy_page_downloads_no_images_media_or_fonts_and_is_not_held_by_third_parties(make_site, contact):
    # The third party never finishes: its long-poll, video and ad frame hang for a minute,
    # so the page's load event cannot fire within the attempt.
    hang = 60
    third = make_site({
        "/site.css": Reply(".inventory img{border:1px solid #ccc}", content_type="text/css"),
        "/brand.woff2": Reply(b"wOF2", content_type="font/woff2"),
        "/walkaround.mp4": Reply(b"\0" * 64, content_type="video/mp4", delay_s=hang),
        "/vendor.js": Reply("window.vendorRan = true;", content_type="text/javascript"),
        "/ad.html": Reply(page("<p>Ad</p>"), delay_s=hang),
        "/long-poll": Reply("{}", content_type="application/json", delay_s=hang),
        **{f"/photo-{n}.jpg": Reply(TINY_PNG, content_type="image/jpeg") for n in range(8)},
    })
    # Another origin than the dealer's, as a CDN's would be.
    third_url = third.url.replace("127.0.0.1", "localhost")
    site = make_site({"/": heavy_form(third_url), "POST /send": THANKS})

    result = contact(site.url, timeout_s=20)

    assert result.status == outcomes.SUBMITTED, result.error
    assert len(site.received) == 1 and site.received[0]["data"]["first_name"] == "Alice"
    fetched = set(third.hits)
    assert not [hit for hit in fetched if hit.startswith("GET /photo-") or "woff2" in hit or "mp4" in hit]
    # What may matter to the page is still fetched: its stylesheet and its scripts.
    assert {"GET /site.css", "GET /vendor.js"} <= fetched
    assert result.screenshots["form"][:2] == b"\xff\xd8" and result.screenshots["result"][:2] == b"\xff\xd8"


@pytest.mark.browser
def test_an_image_it_did_not_download_is_not_drawn_but_keeps_its_place_and_its_clicks(make_site, browser_session):
    site = make_site({
        "/": page('<p><img id="photo" src="/inventory/photo-1.jpg" width="120" height="80" alt="2024 RAV4"></p>'
                  '<p><img id="captcha" src="/captcha/image" width="120" height="40" alt="Type the letters"></p>'
                  '<p><a id="chat" href="/contact-us"><img src="/icons/contact.svg" width="24" height="24" '
                  'alt="Contact us"></a></p>'),
        "/inventory/photo-1.jpg": Reply(TINY_PNG, content_type="image/jpeg"),
        "/captcha/image": Reply(TINY_PNG, content_type="image/png"),
        "/icons/contact.svg": Reply("<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/svg+xml"),
        "/contact-us": page("<h1>Contact us</h1>"),
    })

    async def look() -> dict:
        context = await browser_session.pool.new_context(OPTIONS)
        try:
            await install_resource_blocking(context)
            tab = await context.new_page()
            await tab.goto(site.url)
            await tab.wait_for_function("[...document.images].every((image) => image.complete)")
            seen = await tab.evaluate("""() => Object.fromEntries([...document.images].map((image) => [
                image.id || image.alt,
                {opacity: getComputedStyle(image).opacity, width: image.getBoundingClientRect().width}]))""")
            await tab.click("#chat", timeout=5000)  # the link's only content is an image not downloaded
            await tab.wait_for_url("**/contact-us")
            return seen
        finally:
            await context.close()

    seen = browser_session.run(look(), timeout=30)

    assert "GET /inventory/photo-1.jpg" not in site.hits and "GET /captcha/image" in site.hits
    # Not drawn, but each keeps a box where it was (a broken image's box as Chromium sizes it).
    assert seen["photo"]["opacity"] == "0" and seen["photo"]["width"] > 0
    assert seen["Contact us"]["opacity"] == "0" and seen["Contact us"]["width"] > 0
    assert seen["captcha"] == {"opacity": "1", "width": 120}  # a CAPTCHA's image is evidence: drawn
