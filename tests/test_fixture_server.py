"""The fixture dealer-site server: routes, placeholders, the second origin and the record
of submissions that the engine's site tests rely on."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

import pytest

from contacts.engine import outcomes
from tests.fixture_server import SITES_DIR, FixtureServer, load_expectation, load_routes, site_names

SITE = "fixture-test-site"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    sites = tmp_path_factory.mktemp("sites")
    site = sites / SITE
    (site / "thanks").mkdir(parents=True)
    (site / "index.html").write_text('<a href="{{OTHER_ORIGIN}}/{{SITE}}/">there</a> <i>{{MAIN_ORIGIN}}</i>')
    (site / "thanks" / "index.html").write_text("<h1>Thank you</h1>")
    (site / "expect.json").write_text('{"status": "submitted"}')
    (site / "site.json").write_text(json.dumps({"routes": [
        {"method": "POST", "path": "/lead", "redirect": "/thanks/"},
        {"method": "POST", "path": "/api", "status": 201, "json": {"ok": True}},
        {"method": "POST", "path": "/quiet", "record": False, "html": "<p>{{SITE}}</p>"},
        {"method": "GET", "path": "/search", "record": True, "html": "<p>none</p>"},
        {"method": "POST", "path": "/paged", "when": {"page": "2"}, "record": False, "html": "<p>page two</p>"},
        {"method": "POST", "path": "/paged", "html": "<p>sent</p>"},
        {"method": "GET", "path": "/", "status": 200, "body_file": "index.html", "headers": {"X-Platform": "test"}},
        {"method": "POST", "path": "/trap", "html": "<p>Thanks!</p>",
         "spam_check": {"started_field": "start", "min_s": 3, "keys_field": "keys"}},
        {"method": "GET", "path": "/stamp", "html": "{{NOW_MS}}"},
    ]}))
    with FixtureServer(sites) as running:
        yield running


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, data: bytes | None = None, content_type: str = "") -> tuple[int, dict, str]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if content_type else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_it_serves_pages_with_both_origins_substituted(server):
    status, headers, body = fetch(server.url(SITE))
    assert status == 200 and headers["X-Platform"] == "test"
    assert body == f'<a href="{server.other_origin}/{SITE}/">there</a> <i>{server.main_origin}</i>'
    assert server.other_origin != server.main_origin
    assert fetch(f"{server.other_origin}/{SITE}/thanks/")[2] == "<h1>Thank you</h1>"


def test_it_never_serves_the_expectations_or_other_paths(server):
    assert fetch(server.url(SITE, "expect.json"))[0] == 404
    assert fetch(server.url(SITE, "site.json"))[0] == 404
    connection = http.client.HTTPConnection(server.main_origin.removeprefix("http://"), timeout=5)
    connection.request("GET", f"/{SITE}/../../../../etc/hostname")  # sent as is, not normalised
    assert connection.getresponse().status == 404
    connection.close()
    assert fetch(f"{server.main_origin}/no-such-site/")[0] == 404


def test_it_records_each_kind_of_body_per_site(server):
    server.reset()
    fetch(server.url(SITE, "lead"), b"name=Alice+Buyer&opt=1&opt=2&empty=", "application/x-www-form-urlencoded")
    multipart = (b'--XX\r\nContent-Disposition: form-data; name="email"\r\n\r\nalice@example.org\r\n'
                 b'--XX\r\nContent-Disposition: form-data; name="cv"; filename="cv.txt"\r\n\r\nhi\r\n--XX--\r\n')
    fetch(server.url(SITE, "api"), multipart, "multipart/form-data; boundary=XX")
    hubspot = {"fields": [{"name": "firstname", "value": "Alice"}], "context": {"pageUri": "x"}}
    fetch(f"{server.other_origin}/{SITE}/api", json.dumps(hubspot).encode(), "application/json")
    fetch(server.url(SITE, "search?q=rav4"))

    form, upload, api, search = server.submissions(SITE)
    assert (form.method, form.path, form.content_type) == ("POST", "/lead", "form")
    assert form.fields == {"name": "Alice Buyer", "opt": ["1", "2"], "empty": ""}
    assert form.value("opt") == "1, 2" and form.value("missing") == ""
    assert upload.content_type == "multipart" and upload.fields == {"email": "alice@example.org", "cv": "cv.txt"}
    assert api.fields == {"firstname": "Alice", "context.pageUri": "x"}
    assert server.other_origin.endswith(f":{api.origin_port}")
    assert (search.method, search.fields) == ("GET", {"q": "rav4"})


def test_routes_answer_as_declared(server):
    status, headers, _ = fetch(server.url(SITE, "lead"), b"a=1", "application/x-www-form-urlencoded")
    assert status == 303 and headers["Location"] == f"/{SITE}/thanks/"
    status, _, body = fetch(server.url(SITE, "api"), b"{}", "application/json")
    assert (status, json.loads(body)) == (201, {"ok": True})


def test_a_spam_check_drops_leads_sent_too_soon_or_untyped_yet_still_thanks(server):
    import time

    server.reset()
    stamp = int(fetch(server.url(SITE, "stamp"))[2])
    assert abs(stamp - time.time() * 1000) < 5000
    long_ago = stamp - 10_000
    for fields in (f"start={stamp}&keys=12", f"start={long_ago}&keys=0", "keys=3", f"start={long_ago}&keys=12"):
        status, _, body = fetch(server.url(SITE, "trap"), fields.encode(), "application/x-www-form-urlencoded")
        assert (status, body) == (200, "<p>Thanks!</p>")  # the same answer whatever it kept
    too_soon, untyped, unstamped, kept = server.submissions(SITE)
    assert too_soon.dropped.startswith("sent 0.") and not too_soon.stored
    assert untyped.dropped == "no key presses"
    assert unstamped.dropped == "no start time"
    assert kept.stored and kept.dropped == ""


def test_unrouted_and_unrecorded_posts(server):
    server.reset()
    assert fetch(server.url(SITE, "quiet"), b"a=1", "application/x-www-form-urlencoded")[2] == f"<p>{SITE}</p>"
    assert server.submissions(SITE) == []
    # A post nobody declared is still recorded, so a wrong submission never goes unseen.
    assert fetch(server.url(SITE, "elsewhere"), b"a=1", "application/x-www-form-urlencoded")[0] == 405
    assert [s.path for s in server.submissions(SITE)] == ["/elsewhere"]
    server.reset(SITE)
    assert server.submissions(SITE) == []


def test_a_route_may_answer_only_requests_carrying_given_fields(server):
    server.reset()
    form = "application/x-www-form-urlencoded"
    assert fetch(server.url(SITE, "paged"), b"page=2&name=Alice", form)[2] == "<p>page two</p>"
    assert server.submissions(SITE) == []
    assert fetch(server.url(SITE, "paged"), b"page=0&name=Alice", form)[2] == "<p>sent</p>"
    assert [s.fields for s in server.submissions(SITE)] == [{"page": "0", "name": "Alice"}]


def test_a_bad_route_is_refused_with_the_site_named(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "site.json").write_text('{"routes": [{"path": "/x", "body": "typo"}]}')
    with pytest.raises(ValueError, match=r"site broken: unknown route keys \['body'\]"):
        FixtureServer(tmp_path).start()


def test_the_closed_port_refuses_connections():
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(FixtureServer.closed_port_url(), timeout=5)


# --- every real fixture site is well formed ---------------------------------------------

EXPECT_KEYS = {"platform", "notes", "status", "submissions", "submit_path", "other_origin", "fields", "empty",
               "start", "start_url", "error", "min_dwell_s"}
RULES = {"digits", "contains", "excludes", "in", "nonempty"}


@pytest.mark.parametrize("site", site_names())
def test_each_site_states_a_checkable_expectation(site):
    expectation = load_expectation(site)
    assert set(expectation) <= EXPECT_KEYS, f"unknown keys {set(expectation) - EXPECT_KEYS}"
    assert expectation["status"] in outcomes.OUTCOMES
    assert expectation["submissions"] in (0, 1)
    assert expectation["platform"] and expectation["notes"]
    if expectation["status"] in (outcomes.CAPTCHA, outcomes.NO_FORM):
        assert expectation["submissions"] == 0
    if expectation["submissions"]:
        assert expectation["fields"], "a sent form must say what should arrive"
    for value_rules in expectation.get("fields", {}).values():
        # One rule, or a list of rules that must all hold (a value carrying several fields).
        for rule in value_rules if isinstance(value_rules, list) else [value_rules]:
            assert isinstance(rule, str) or (isinstance(rule, dict) and len(rule) == 1
                                             and next(iter(rule)) in RULES), rule
    if "error" in expectation:
        # The reason the engine gives: a rule like any field's.
        rule = expectation["error"]
        assert isinstance(rule, str) or (isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in RULES)
    routes = load_routes(SITES_DIR / site)  # raises on a malformed site.json
    if expectation.get("start_url") != "closed-port":
        start = SITES_DIR / site / (expectation.get("start") or "index.html")
        assert start.is_file() or any(r.path == "/" for r in routes), "no start page"


def test_there_are_at_least_thirty_sites_of_every_outcome_but_cancelled():
    statuses = [load_expectation(site)["status"] for site in site_names()]
    assert len(statuses) >= 30
    assert set(statuses) == set(outcomes.OUTCOMES) - {outcomes.CANCELLED}


def test_no_site_name_looks_like_a_contact_address():
    # The engine ranks links whose path says "contact"; a site named so would make every
    # one of its links look like a contact link and hide a weak finder.
    from contacts.engine.finding import CONTACT_LINK_HREF
    from tests.fixture_server import site_names

    assert [name for name in site_names() if CONTACT_LINK_HREF.search(name)] == []
