"""Same answer every run: the same site and profile give the same outcome and the same
field mapping on every run, one at a time or four at once, with the human-pace wait or
without it.

The fixture set is run three times one site at a time and twice four at a time, then once
more four at a time at human pace (the default outside the tests: a short wait on each
form and keys pressed where a script listens for them), and every run is compared with
the first: the outcome, the fields the engine says it filled (kind, label, value), and
what each site actually received (field name -> value).

Every fixture site, every run: the sites are where the engine's choices differ (how a
form is found, built, opened, stepped through and answered), so a subset would leave
most of those choices unchecked. The six passes take a few minutes of the suite.
tests/engine/test_sites.py checks each site's outcome and submission in detail.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from contacts.engine.runner import attempt_contact
from tests.engine.conftest import SITE_TEST_OPTIONS, STANDARD_CUSTOMER
from tests.engine.test_sites import start_url
from tests.fixture_server import load_expectation, site_names

pytestmark = pytest.mark.browser

ONE_AT_A_TIME_RUNS = 3
FOUR_AT_ONCE_RUNS = 2
HUMAN_PACE_S = 1  # long enough to take the paced paths; the sites' own traps are tested elsewhere


def answer(result, received) -> dict:
    """What must be the same on every run, for one site."""
    filled_values = {str(f.value) for f in result.fields}
    return {
        "status": result.status,
        # The mapping, not the order it was made in: a Model list that loads slowly on a
        # busy machine is filled after the fields below it instead of before them.
        "filled": sorted((f.kind, f.label, f.value) for f in result.fields),
        # Every field the site received, by name. A value the site's own page made up
        # (a load timestamp for its time trap, a nonce) differs by nature from run to run,
        # so a value the engine did not put there is compared by name only.
        "received": [
            sorted((name, repr(value) if _engine_put(value, filled_values) else "(the site's own)")
                   for name, value in s.fields.items())
            for s in received
        ],
    }


def _engine_put(value, filled_values: set[str]) -> bool:
    """Whether the engine put `value` there: one of its values, or a part of one (a phone
    split over three boxes: 3 and 4 digits). A value of one or two characters inside a
    longer one is chance: a key counter's "0" is in the phone number too."""
    values = value if isinstance(value, list) else [value]
    return any(str(v) in filled_values or (len(str(v)) >= 3 and any(str(v) in f for f in filled_values))
               for v in values)


def run_all(fixture_server, browser_session, sites: list[str], concurrency: int, dwell_s: float = 0) -> dict[str, dict]:
    fixture_server.reset()
    options = replace(SITE_TEST_OPTIONS, min_dwell_s=dwell_s)

    async def all_sites():
        gate = asyncio.Semaphore(concurrency)

        async def one(site: str):
            async with gate:
                url = start_url(fixture_server, site, load_expectation(site))
                return await attempt_contact(url, STANDARD_CUSTOMER, session=browser_session, options=options)

        return await asyncio.gather(*(one(site) for site in sites))

    results = browser_session.run(all_sites(), timeout=options.timeout_s * len(sites))
    return {site: answer(result, fixture_server.submissions(site)) for site, result in zip(sites, results)}


def test_every_run_gives_the_same_outcomes_and_field_maps(fixture_server, browser_session):
    runs = ([("one at a time", 1, 0)] * ONE_AT_A_TIME_RUNS + [("four at once", 4, 0)] * FOUR_AT_ONCE_RUNS
            + [("four at once, at human pace", 4, HUMAN_PACE_S)])
    first = None
    for number, (how, concurrency, dwell_s) in enumerate(runs, start=1):
        answers = run_all(fixture_server, browser_session, site_names(), concurrency, dwell_s)
        for site, got in answers.items():
            assert got["status"] == load_expectation(site)["status"], f"run {number} ({how}): {site} {got}"
        if first is None:
            first = answers
            continue
        differing = {site: (first[site], got) for site, got in answers.items() if got != first[site]}
        assert not differing, f"run {number} ({how}) differs from run 1: {differing}"
