"""Real-page weight for the engine bench: the fixture dealer sites served four ways.

    light  the fixture sites as they are
    floor  the same plus one blocking <script> in <head> from another host, answered
           slowly: what no engine can avoid (the page's scripts wait for it), so the
           least a heavy page can cost
    heavy  what real dealer pages carry, all from other hosts and all slow: the same
           blocking <head> script, a tag manager and five more analytics/advertising
           tags, six other async vendor scripts (chat with a long-poll that never
           finishes, digital retailing, reviews, accessibility, call tracking, trade-in),
           two web fonts, 40 inventory photos, an autoplaying video that never finishes
           downloading and an ad iframe (Google's ad frame host, as most dealer ads are)
    animated  the fixture sites with what keeps a real dealer page moving while it sits
           open: a hero slider, a pulsing chat button, a spinner and a promotions ticker,
           none of them honouring prefers-reduced-motion (most do not); all inline

Run as a process of its own (bench/engine_bench.py starts it); it prints one JSON line:
{"light": origin, "floor": origin, "heavy": origin, "animated": origin, "assets_port": port,
"hosts": [...]}.
The other hosts are real-looking names (www.googletagmanager.com,
cdn.dealerplatform.example, ...) on the assets server's port: the pages name them with that
port, and the bench makes the engine's egress proxy (which resolves every name the browser
asks for) find them on 127.0.0.1 and allows them, so nothing leaves 127.0.0.1 and the
engine sees the names real pages use, through the same proxy as in production.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The blocking <head> script: a dealer platform's own bundle, fetched by every engine.
HEAD_SCRIPT = "http://cdn.dealerplatform.example/static/site-bundle.js"
HEAD_SCRIPT_DELAY_S = 0.3

# Well-known tags (the engine answers these empty) and other vendors (it loads them).
TRACKER_SCRIPTS = [
    "http://www.googletagmanager.com/gtm.js?id=GTM-B3NCH",
    "http://www.google-analytics.com/analytics.js",
    "http://connect.facebook.net/en_US/fbevents.js",
    "http://bat.bing.com/bat.js",
    "http://static.hotjar.com/c/hotjar-3101.js?sv=6",
    "http://securepubads.g.doubleclick.net/tag/js/gpt.js",
]
VENDOR_SCRIPTS = [
    "http://widgets.chatvendor.example/loader.js",
    "http://cdn.digitalretail.example/embed.js",
    "http://reviews.reviewvendor.example/widget.js",
    "http://acsb.accessvendor.example/acsb.js",
    "http://cdn.calltracking.example/swap.js",
    "http://tradein.valuationvendor.example/ico.js",
]
FONTS = ["http://fonts.dealerplatform.example/fonts/brand-regular.woff2",
         "http://fonts.dealerplatform.example/fonts/brand-bold.woff2"]
PHOTOS = [f"http://images.dealerplatform.example/inventory/{n}.jpg" for n in range(40)]
VIDEO = "http://video.dealerplatform.example/promo.mp4"
AD_FRAME = "http://tpc.googlesyndication.com/safeframe/1-0-40/html/container.html"
LONG_POLL = "http://live.chatvendor.example/poll"

HOST_NAMES = sorted({urlsplit(u).hostname for u in [HEAD_SCRIPT, *TRACKER_SCRIPTS, *VENDOR_SCRIPTS, *FONTS,
                                                      *PHOTOS, VIDEO, AD_FRAME, LONG_POLL]})

LONG_POLL_HOLD_S = 60
PHOTO_BYTES = 60_000
FONT_BYTES = 40_000


# --- the pages --------------------------------------------------------------------------

_HEAD_OPEN = re.compile(r"<head[^>]*>", re.I)
_BODY_OPEN = re.compile(r"<body[^>]*>", re.I)
_HEAD_CLOSE = re.compile(r"</head\s*>", re.I)
_BODY_CLOSE = re.compile(r"</body\s*>", re.I)


def _after_opening(tag: re.Pattern, html: str, markup: str) -> str:
    opened = tag.search(html)
    if opened:
        return html[:opened.end()] + markup + html[opened.end():]
    return markup + html


def _before(pattern: re.Pattern, html: str, markup: str) -> str:
    found = None
    for found in pattern.finditer(html):
        pass
    if found is None:
        return html + markup
    return html[:found.start()] + markup + html[found.start():]


BLOCKING_HEAD = f'<script src="{HEAD_SCRIPT}"></script>'

HEAVY_HEAD = "".join([
    # The tag manager's own snippet, then the other tags and vendors, all async.
    "<script>window.dataLayer=window.dataLayer||[];window.dataLayer.push({'gtm.start':Date.now(),event:'gtm.js'});</script>",
    *(f'<script async src="{src}"></script>' for src in TRACKER_SCRIPTS + VENDOR_SCRIPTS),
    "<style>",
    f"@font-face{{font-family:Brand;src:url({FONTS[0]}) format('woff2');font-weight:400}}",
    f"@font-face{{font-family:Brand;src:url({FONTS[1]}) format('woff2');font-weight:700}}",
    "body{font-family:Brand,Arial,sans-serif}.dc-inventory img{display:inline-block;margin:2px;background:#eee}",
    "</style>",
])

HEAVY_BODY = "".join([
    '<section class="dc-inventory" aria-label="Featured inventory">',
    *(f'<img src="{src}" width="160" height="120" alt="">' for src in PHOTOS),
    "</section>",
    f'<video src="{VIDEO}" autoplay muted loop playsinline width="480" height="270"></video>',
    f'<iframe src="{AD_FRAME}" width="300" height="250" title="Advertisement" scrolling="no" frameborder="0"></iframe>',
    # The chat vendor's analytics long-poll: answered after a minute, asked again at once.
    "<script>(function poll(){fetch(" + json.dumps(LONG_POLL) + ",{mode:'no-cors',cache:'no-store'})"
    ".then(function(){setTimeout(poll,50)},function(){setTimeout(poll,5000)})})();</script>",
])


# Set by main() once the assets server has its port: every other host's address names it.
ASSETS_PORT = 80
_OTHER_HOST = re.compile(r"http://(" + "|".join(re.escape(h) for h in HOST_NAMES) + r")/")


def on_assets_port(html: str) -> str:
    return _OTHER_HOST.sub(lambda m: f"http://{m.group(1)}:{ASSETS_PORT}/", html)


def floor_page(html: str, _site: str) -> str:
    return on_assets_port(_after_opening(_HEAD_OPEN, html, BLOCKING_HEAD))


def heavy_page(html: str, _site: str) -> str:
    html = _after_opening(_HEAD_OPEN, html, BLOCKING_HEAD)
    html = _before(_HEAD_CLOSE, html, HEAVY_HEAD) if _HEAD_CLOSE.search(html) else _after_opening(_HEAD_OPEN, html, HEAVY_HEAD)
    return on_assets_port(_before(_BODY_CLOSE, html, HEAVY_BODY))


# A dealer home page's moving parts: the slider's slides change every 4 s with a sliding
# transition, the chat button's glow pulses (box-shadow: drawn on the main thread, as most
# such effects are), the spinner and the ticker turn and scroll for ever.
ANIMATED_TOP = "".join([
    "<style>",
    ".dc-hero{position:relative;height:220px;overflow:hidden;background:#123}",
    ".dc-slides{display:flex;width:300%;height:100%;transition:transform .8s ease-in-out}",
    ".dc-slide{flex:1;color:#fff;font:700 32px/220px Arial,sans-serif;text-align:center}",
    ".dc-ticker{overflow:hidden;white-space:nowrap;background:#fc0}",
    ".dc-ticker span{display:inline-block;padding-left:100%;animation:dc-scroll 18s linear infinite}",
    "@keyframes dc-scroll{to{transform:translateX(-100%)}}",
    ".dc-spinner{width:28px;height:28px;border:4px solid #ddd;border-top-color:#c00;border-radius:50%;",
    "animation:dc-turn .9s linear infinite}",
    "@keyframes dc-turn{to{transform:rotate(360deg)}}",
    ".dc-chat{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;background:#0a7;",
    "animation:dc-glow 1.6s ease-in-out infinite;z-index:9999}",
    "@keyframes dc-glow{50%{box-shadow:0 0 0 14px rgba(0,170,119,.35)}}",
    "</style>",
    '<div class="dc-hero" aria-label="Featured offers"><div class="dc-slides">',
    '<div class="dc-slide" style="background:#234">Spring Sales Event</div>',
    '<div class="dc-slide" style="background:#432">0% APR on select models</div>',
    '<div class="dc-slide" style="background:#243">Certified Pre-Owned</div>',
    "</div></div>",
    '<div class="dc-ticker"><span>Today only: free oil change with every test drive. Trade-in bonus up to $2,000.</span></div>',
    '<div class="dc-spinner" role="status" aria-label="Loading inventory"></div>',
    '<div class="dc-chat" aria-label="Open chat"></div>',
    "<script>(function(){var n=0;setInterval(function(){n=(n+1)%3;",
    "var s=document.querySelector('.dc-slides');if(s)s.style.transform='translateX(-'+(n*100/3)+'%)'},4000)})();</script>",
])


def animated_page(html: str, _site: str) -> str:
    return _after_opening(_BODY_OPEN, html, ANIMATED_TOP)


# --- the other hosts ----------------------------------------------------------------------

# A vendor script's work: a little DOM, a little CPU, a heartbeat timer, as real ones do.
_VENDOR_JS = """(function(){var root=document.createElement('div');root.hidden=true;root.id='v-%(name)s';
for(var i=0;i<150;i++){var s=document.createElement('span');s.textContent='x'+i;root.appendChild(s)}
(document.body||document.documentElement).appendChild(root);var t=0;for(var i=0;i<300000;i++){t=(t+i*7)%%1000003}
window['__v_%(name)s']=t;setInterval(function(){window['__beat_%(name)s']=Date.now()},1000);%(extra)s})();"""
_CHAT_BUBBLE = ("var b=document.createElement('div');b.setAttribute('aria-label','Open chat');"
                "b.style.cssText='position:fixed;right:16px;bottom:16px;width:56px;height:56px;border-radius:50%;"
                "background:#0a7;z-index:99999';(document.body||document.documentElement).appendChild(b);")
_AD_HTML = ("<!doctype html><html><head><title>Ad</title></head><body style='margin:0'>"
            + "".join(f"<img src='{PHOTOS[n]}' width='100' height='80' alt=''>" for n in range(3))
            + "<p>Spring sales event: 0% APR on select models.</p>"
            + "<script>var t=0;for(var i=0;i<200000;i++){t+=i%3};</script></body></html>")


def _delay_for(path: str) -> float:
    """Slow, as other hosts across the internet are; spread so they do not arrive together."""
    number = sum(path.encode()) % 7
    return 0.3 + 0.1 * number  # 0.3 .. 0.9 s


class AssetsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:
        pass

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        path = urlsplit(self.path).path
        url = f"http://{host}{path}"
        try:
            if url.startswith(HEAD_SCRIPT):
                time.sleep(HEAD_SCRIPT_DELAY_S)
                self._send(200, b"window.dealerPlatform={ready:true};", "text/javascript")
            elif host == urlsplit(LONG_POLL).hostname:
                time.sleep(LONG_POLL_HOLD_S)
                self._send(200, b"{}", "application/json")
            elif url == VIDEO:
                self._stream_forever()
            elif url.startswith(AD_FRAME):
                time.sleep(_delay_for(path))
                self._send(200, on_assets_port(_AD_HTML).encode(), "text/html")
            elif path.endswith(".js"):
                time.sleep(_delay_for(path))
                name = re.sub(r"\W", "_", host.split(".")[-2] if "." in host else host)
                extra = _CHAT_BUBBLE if host == urlsplit(VENDOR_SCRIPTS[0]).hostname else ""
                self._send(200, (_VENDOR_JS % {"name": name, "extra": extra}).encode(), "text/javascript")
            elif path.endswith(".woff2"):
                time.sleep(0.6)
                self._send(200, b"wOF2" + bytes(FONT_BYTES), "font/woff2")
            elif path.endswith(".jpg"):
                time.sleep(_delay_for(path))
                self._send(200, b"\xff\xd8\xff\xe0" + bytes(PHOTO_BYTES), "image/jpeg")
            else:
                self._send(404, b"", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the attempt ended and its context closed the connection

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def _stream_forever(self) -> None:
        """A video that never finishes: a chunk every 100 ms for a minute."""
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for _ in range(600):
            chunk = bytes(4096)
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
            time.sleep(0.1)
        self.wfile.write(b"0\r\n\r\n")


class AssetsServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)  # a closed context's connections are no news


def main() -> None:
    global ASSETS_PORT
    from tests.fixture_server import FixtureServer

    assets = AssetsServer(("127.0.0.1", 0), AssetsHandler)
    ASSETS_PORT = assets.server_address[1]
    threading.Thread(target=assets.serve_forever, daemon=True).start()
    servers = {
        "light": FixtureServer().start(),
        "floor": FixtureServer(decorate_html=floor_page).start(),
        "heavy": FixtureServer(decorate_html=heavy_page).start(),
        "animated": FixtureServer(decorate_html=animated_page).start(),
    }
    print(json.dumps({**{name: server.main_origin for name, server in servers.items()},
                      "assets_port": ASSETS_PORT, "hosts": HOST_NAMES}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
