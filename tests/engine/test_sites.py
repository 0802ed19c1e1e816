"""The real engine against every fixture dealer site: the outcome it reports, and what
the site actually received (tests/sites/README.md describes expect.json)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from contacts.engine import contact_dealer
from tests.engine.conftest import SITE_TEST_OPTIONS, STANDARD_CUSTOMER
from tests.fixture_server import FixtureServer, Submission, load_expectation, site_names

pytestmark = pytest.mark.browser


def start_url(server: FixtureServer, site: str, expectation: dict) -> str:
    if expectation.get("start_url") == "closed-port":
        return FixtureServer.closed_port_url()
    return server.url(site, expectation.get("start", ""))


def rule_mismatch(rule, value: str) -> str:
    """Why `value` breaks `rule` (an exact string or a rule object), or "" if it does not."""
    if isinstance(rule, str):
        return "" if value == rule else f"expected {rule!r}"
    if isinstance(rule, list):
        # Several rules on one value (a JSON string carrying the whole form): all must hold.
        return "; ".join(why for why in (rule_mismatch(one, value) for one in rule) if why)
    if "digits" in rule:
        digits = re.sub(r"\D", "", value)
        return "" if digits in (rule["digits"], "1" + rule["digits"]) else f"expected the digits {rule['digits']}"
    if "contains" in rule:
        return "" if rule["contains"].lower() in value.lower() else f"expected it to contain {rule['contains']!r}"
    if "excludes" in rule:
        return "" if rule["excludes"].lower() not in value.lower() else f"expected no {rule['excludes']!r} in it"
    if "in" in rule:
        return "" if value.lower() in [v.lower() for v in rule["in"]] else f"expected one of {rule['in']}"
    if rule.get("nonempty"):
        return "" if value.strip() else "expected a value"
    raise ValueError(f"unknown rule {rule!r}")


def describe(submissions: list[Submission]) -> str:
    return "; ".join(f"{s.method} {s.path} {s.fields}" for s in submissions) or "nothing"


@pytest.mark.parametrize("site", site_names())
def test_site(site, fixture_server, browser_session):
    expectation = load_expectation(site)
    fixture_server.reset(site)

    # Sites with a time trap run with the human-pace wait on; the rest without, for speed.
    options = replace(SITE_TEST_OPTIONS, min_dwell_s=expectation.get("min_dwell_s", 0))
    result = contact_dealer(
        start_url(fixture_server, site, expectation),
        STANDARD_CUSTOMER,
        session=browser_session,
        options=options,
    )

    received = fixture_server.submissions(site)
    assert result.status == expectation["status"], (
        f"{site}: engine said {result.status!r} ({result.error}); the site received {describe(received)}"
    )
    if "error" in expectation:
        why = rule_mismatch(expectation["error"], result.error)
        assert not why, f"{site}: the reason given was {result.error!r}: {why}"
    assert len(received) == expectation["submissions"], f"{site}: the site received {describe(received)}"
    if not received:
        return
    submission = received[0]
    assert submission.stored, f"{site}: the site dropped the lead it showed thanks for ({submission.dropped})"
    if "submit_path" in expectation:
        assert submission.path == expectation["submit_path"]
    if expectation.get("other_origin"):
        assert fixture_server.other_origin.endswith(f":{submission.origin_port}"), "sent from the page's own origin"
    wrong = {
        name: f"{submission.value(name)!r}: {why}"
        for name, rule in expectation.get("fields", {}).items()
        if (why := rule_mismatch(rule, submission.value(name)))
    }
    filled = {name: submission.value(name) for name in expectation.get("empty", []) if submission.value(name)}
    assert not wrong, f"{site}: wrong values {wrong}; filled as {[(f.kind, f.label, f.value) for f in result.fields]}"
    assert not filled, f"{site}: fields that must stay empty were sent {filled}"
