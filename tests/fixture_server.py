"""Fixture dealer websites on loopback, and a record of everything they were sent.

Every directory under tests/sites/ is one site, served at /<site>/ from its files, with
optional dynamic routes declared in its site.json (format: tests/sites/README.md).
Two listeners share one handler and one record: the main origin and a second port, so
a page can embed an iframe that is truly cross-origin.

    server = FixtureServer().start()
    server.url("dealeron")            # http://127.0.0.1:<port>/dealeron/
    server.submissions("dealeron")    # [Submission(...)], oldest first
    server.reset()
    server.stop()
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import mimetypes
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SITES_DIR = Path(__file__).resolve().parent / "sites"
# Google's reCAPTCHA loader and its anchor frame, as the local stand-in the app's sandbox
# serves (contacts/sandbox/views.py): one copy for every site that embeds reCAPTCHA from
# `recaptcha/api.js`, unless the site has a file of its own at that path.
_SANDBOX_RECAPTCHA = Path(__file__).resolve().parent.parent / "templates" / "sandbox" / "recaptcha"
STAND_INS = {
    "recaptcha/api.js": _SANDBOX_RECAPTCHA / "api.js",
    "recaptcha/api2/anchor.html": _SANDBOX_RECAPTCHA / "anchor.html",
}
TEXT_SUFFIXES = {".html", ".htm", ".js", ".css", ".json", ".txt", ".svg"}
# Requests that change nothing and are not lead submissions unless a route says so.
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Submission:
    site: str
    method: str
    path: str  # path inside the site, starting with "/", without the query
    query: str
    headers: dict[str, str]
    content_type: str  # "form", "multipart", "json", "text" or "" for no body
    # name -> value; a name sent more than once maps to the list of its values.
    fields: dict[str, str | list[str]] = field(default_factory=dict)
    body: bytes = b""
    origin_port: int = 0  # which listener received it
    # A site with a spam check (a route's "spam_check") may drop a lead it received, as
    # form plugins do while still showing "thank you": then why, and stored is False.
    dropped: str = ""

    @property
    def stored(self) -> bool:
        return not self.dropped

    def value(self, name: str) -> str:
        """The one value sent for `name` ("" if absent); a repeated name joins with ", "."""
        value = self.fields.get(name, "")
        return ", ".join(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    status: int = 200
    redirect: str = ""
    json_body: object = None
    html: str | None = None
    body_file: str = ""
    delay_ms: int = 0
    record: bool | None = None  # None: record unless the method is safe
    headers: tuple[tuple[str, str], ...] = ()
    # Posted field values the request must carry for this route to answer it (a plugin that
    # posts every page of a multi-page form to one address, telling them apart by a field).
    when: tuple[tuple[str, str], ...] = ()
    spam_check: tuple[tuple[str, object], ...] = ()

    @classmethod
    def from_spec(cls, site: str, spec: dict) -> "Route":
        known = {"method", "path", "status", "redirect", "json", "html", "body_file", "delay_ms", "record",
                 "headers", "when", "spam_check"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"site {site}: unknown route keys {sorted(unknown)} in {spec}")
        path = spec.get("path", "")
        if not path.startswith("/"):
            raise ValueError(f"site {site}: route path must start with '/': {spec}")
        redirect = spec.get("redirect", "")
        status = int(spec.get("status", 303 if redirect else 200))
        return cls(
            method=spec.get("method", "GET").upper(),
            path=path,
            status=status,
            redirect=redirect,
            json_body=spec.get("json"),
            html=spec.get("html"),
            body_file=spec.get("body_file", ""),
            delay_ms=int(spec.get("delay_ms", 0)),
            record=spec.get("record"),
            headers=tuple((spec.get("headers") or {}).items()),
            when=tuple((spec.get("when") or {}).items()),
            spam_check=tuple((spec.get("spam_check") or {}).items()),
        )

    def records(self) -> bool:
        return self.method not in SAFE_METHODS if self.record is None else bool(self.record)

    def spam_verdict(self, fields: dict, now_ms: int) -> str:
        """Why the site's spam check drops this lead, or "" when it keeps it.

        "started_field" names a field holding the epoch milliseconds the form was served
        ({{NOW_MS}}) or set by the page's script; leads sent sooner than "min_s" after it
        are dropped. "keys_field" names a field the page's script counts key presses into;
        a lead with none was pasted in by a bot."""
        check = dict(self.spam_check)
        if not check:
            return ""
        started = str(fields.get(check.get("started_field", ""), "") or "")
        if "started_field" in check:
            if not started.isdigit():
                return "no start time"
            if now_ms - int(started) < float(check.get("min_s", 0)) * 1000:
                return f"sent {(now_ms - int(started)) / 1000:.1f} s after the form was shown"
        if "keys_field" in check and not str(fields.get(check["keys_field"], "0") or "0").strip("0"):
            return "no key presses"
        return ""


def load_routes(site_dir: Path) -> list[Route]:
    config_file = site_dir / "site.json"
    if not config_file.exists():
        return []
    config = json.loads(config_file.read_text())
    return [Route.from_spec(site_dir.name, spec) for spec in config.get("routes", [])]


def parse_body(content_type_header: str, body: bytes) -> tuple[str, dict[str, str | list[str]]]:
    media_type = content_type_header.split(";")[0].strip().lower()
    pairs: list[tuple[str, str]] = []
    if not body and not media_type:
        return "", {}
    if media_type == "application/x-www-form-urlencoded":
        kind = "form"
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    elif media_type == "multipart/form-data":
        kind = "multipart"
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type_header.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None:
                continue
            if part.get_filename():
                pairs.append((name, part.get_filename()))
            else:
                payload = part.get_payload(decode=True) or b""
                pairs.append((name, payload.decode(part.get_content_charset() or "utf-8", "replace")))
    elif media_type.endswith("json") or body[:1] in (b"{", b"["):
        kind = "json"
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return "text", {}
        pairs = list(flatten_json(data))
    else:
        return "text", {}
    fields: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if name in fields:
            existing = fields[name]
            fields[name] = (existing if isinstance(existing, list) else [existing]) + [value]
        else:
            fields[name] = value
    return kind, fields


def flatten_json(data, prefix: str = ""):
    """JSON bodies as name -> value pairs: nested objects join keys with dots, and a
    HubSpot-style list of {"name": ..., "value": ...} objects becomes those pairs."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from flatten_json(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and all(isinstance(item, dict) and "name" in item and "value" in item
                                        for item in data) and data:
        for item in data:
            yield from flatten_json(item["value"], str(item["name"]))
    elif isinstance(data, list):
        for item in data:
            yield from flatten_json(item, prefix)
    elif data is None:
        yield prefix, ""
    elif isinstance(data, bool):
        yield prefix, "true" if data else "false"
    else:
        yield prefix, str(data)


class FixtureServer:
    def __init__(self, sites_dir: Path = SITES_DIR, latency_ms: int = 0, decorate_html=None) -> None:
        # Added to every answer, as a server across the internet would be (the bench).
        self.latency_s = latency_ms / 1000
        # decorate_html(html, site) -> html: the bench's real-page weight (bench/page_weight.py).
        self.decorate_html = decorate_html
        self.sites_dir = sites_dir
        self._lock = threading.Lock()
        self._submissions: dict[str, list[Submission]] = {}
        self._routes: dict[str, list[Route]] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self.main_origin = ""
        self.other_origin = ""

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> "FixtureServer":
        for site_dir in sorted(self.sites_dir.iterdir()):
            if site_dir.is_dir() and not site_dir.name.startswith(("_", ".")):
                self._routes[site_dir.name] = load_routes(site_dir)
        handler = self._make_handler()
        for _ in range(2):
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            self._servers.append(server)
        self.main_origin = f"http://127.0.0.1:{self._servers[0].server_address[1]}"
        self.other_origin = f"http://127.0.0.1:{self._servers[1].server_address[1]}"
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> "FixtureServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- what tests use --------------------------------------------------------------

    @property
    def sites(self) -> list[str]:
        return sorted(self._routes)

    def url(self, site: str, path: str = "") -> str:
        return f"{self.main_origin}/{site}/{path.lstrip('/')}"

    def submissions(self, site: str) -> list[Submission]:
        with self._lock:
            return list(self._submissions.get(site, []))

    def reset(self, site: str | None = None) -> None:
        with self._lock:
            if site is None:
                self._submissions.clear()
            else:
                self._submissions.pop(site, None)

    @staticmethod
    def closed_port_url() -> str:
        """A loopback URL nothing listens on: the port was free a moment ago."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    # --- serving ---------------------------------------------------------------------

    def _record(self, submission: Submission) -> None:
        with self._lock:
            self._submissions.setdefault(submission.site, []).append(submission)

    def _substitute(self, text: str, site: str) -> str:
        return (
            text.replace("{{MAIN_ORIGIN}}", self.main_origin)
            .replace("{{OTHER_ORIGIN}}", self.other_origin)
            .replace("{{SITE}}", site)
            .replace("{{NOW_MS}}", str(int(time.time() * 1000)))
        )

    def _decorated(self, html: str, site: str) -> str:
        return self.decorate_html(html, site) if self.decorate_html else html

    def _make_handler(self):
        fixture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "FixtureDealer/1.0"

            def log_message(self, *_args) -> None:
                pass  # a browser run makes hundreds of requests; failures show in tests

            def do_GET(self) -> None:
                self._handle()

            def do_HEAD(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PUT(self) -> None:
                self._handle()

            def do_OPTIONS(self) -> None:
                self._send(204, b"", "text/plain")

            def _handle(self) -> None:
                if fixture.latency_s:
                    time.sleep(fixture.latency_s)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                segments = parts.path.lstrip("/").split("/", 1)
                site = segments[0]
                inner_path = "/" + (segments[1] if len(segments) > 1 else "")
                if site not in fixture._routes:
                    self._send(404, b"no such fixture site", "text/plain")
                    return
                kind, fields = parse_body(self.headers.get("Content-Type", ""), body)
                route = self._match(site, inner_path, fields)
                records = route.records() if route else self.command not in SAFE_METHODS
                if records:
                    if self.command == "GET":
                        kind, fields = "form", dict(parse_qsl(parts.query, keep_blank_values=True))
                    fixture._record(Submission(
                        site=site, method=self.command, path=inner_path, query=parts.query,
                        headers=dict(self.headers.items()), content_type=kind, fields=fields, body=body,
                        origin_port=self.server.server_address[1],
                        dropped=route.spam_verdict(fields, int(time.time() * 1000)) if route else "",
                    ))
                if route is None:
                    if self.command in SAFE_METHODS:
                        self._serve_file(site, inner_path)
                    else:
                        self._send(405, b"method not allowed", "text/plain")
                    return
                if route.delay_ms:
                    time.sleep(route.delay_ms / 1000)
                self._serve_route(site, route)

            def _match(self, site: str, inner_path: str, fields: dict) -> Route | None:
                for route in fixture._routes[site]:
                    if route.method == self.command or (route.method == "GET" and self.command == "HEAD"):
                        if route.path == inner_path and all(fields.get(name) == value for name, value in route.when):
                            return route
                return None

            def _serve_route(self, site: str, route: Route) -> None:
                extra = dict(route.headers)
                if route.redirect:
                    target = fixture._substitute(route.redirect, site)
                    if target.startswith("/") and not target.startswith(f"/{site}/"):
                        target = f"/{site}{target}"
                    extra["Location"] = target
                    self._send(route.status, b"", "text/html", extra)
                elif route.json_body is not None:
                    body = json.dumps(route.json_body).encode()
                    self._send(route.status, body, "application/json", extra)
                elif route.html is not None:
                    self._send(route.status, fixture._decorated(fixture._substitute(route.html, site), site).encode(),
                               "text/html", extra)
                elif route.body_file:
                    self._serve_file(site, "/" + route.body_file, status=route.status, extra=extra)
                else:
                    self._send(route.status, b"", "text/plain", extra)

            def _serve_file(self, site: str, inner_path: str, status: int = 200, extra=None) -> None:
                site_dir = (fixture.sites_dir / site).resolve()
                target = (site_dir / inner_path.lstrip("/")).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_file() and inner_path.lstrip("/") in STAND_INS:
                    target, site_dir = STAND_INS[inner_path.lstrip("/")], _SANDBOX_RECAPTCHA
                if site_dir not in target.parents or not target.is_file() or target.name in (
                        "site.json", "expect.json"):
                    self._send(404, b"not found", "text/plain")
                    return
                content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                data = target.read_bytes()
                if target.suffix in TEXT_SUFFIXES:
                    text = fixture._substitute(data.decode("utf-8"), site)
                    if target.suffix in (".html", ".htm"):
                        text = fixture._decorated(text, site)
                    data = text.encode("utf-8")
                    content_type += "; charset=utf-8"
                self._send(status, data, content_type, extra)

            def _send(self, status: int, body: bytes, content_type: str, extra=None) -> None:
                try:
                    self.send_response(status)
                    if "charset" not in content_type and content_type.startswith("text/"):
                        content_type += "; charset=utf-8"
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Cache-Control", "no-store")
                    self.send_header("Access-Control-Allow-Origin", "*")
                    self.send_header("Access-Control-Allow-Headers", "Content-Type")
                    for name, value in (extra or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the browser moved on (a navigation, a closed context)

        return Handler


def load_expectation(site: str, sites_dir: Path = SITES_DIR) -> dict:
    return json.loads((sites_dir / site / "expect.json").read_text())


def site_names(sites_dir: Path = SITES_DIR) -> list[str]:
    return sorted(
        p.name for p in sites_dir.iterdir()
        if p.is_dir() and not p.name.startswith(("_", ".")) and (p / "expect.json").exists()
    )


def main() -> None:
    """Serve the fixture sites for a look by hand: python tests/fixture_server.py
    [--latency-ms N] (every answer N ms late, like a server across the internet)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=0, help="delay every answer this long")
    args = parser.parse_args()
    with FixtureServer(latency_ms=max(0, args.latency_ms)) as server:
        print(f"fixture sites at {server.main_origin}/<site>/ (other origin {server.other_origin}); Ctrl-C stops", flush=True)
        for site in server.sites:
            print(" ", server.url(site))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
