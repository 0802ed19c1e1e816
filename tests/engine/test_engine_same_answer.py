"""Same answer every run: the same site and profile give the same outcome and the same
field mapping on every run, one at a time or four at once.

The fixture set is run three times one site at a time and twice four at a time, and every
run is compared with the first: the outcome, the fields the engine says it filled (kind,
label, value), and what each site actually received (field name -> value).

Not the whole fixture set: five passes over all of it take minutes on the shared test
machine, so this runs a representative subset, one site of each way a form is found,
built or answered (plain, modal, iframe, shadow DOM, script-rendered late, SPA,
multi-step, selects and radios, several forms, CAPTCHA, no form, server error, refused
submission). tests/engine/test_sites.py runs every site once.
"""

from __future__ import annotations

import asyncio

import pytest

from contacts.engine.runner import attempt_contact
from tests.engine.conftest import SITE_TEST_OPTIONS, STANDARD_CUSTOMER
from tests.engine.test_sites import start_url
from tests.fixture_server import load_expectation, site_names

pytestmark = pytest.mark.browser

REPRESENTATIVE_SITES = [
    "dealeron",              # modal behind a button, split phone
    "dealer-com",            # platform markup
    "iframe-lead-form",      # cross-origin iframe
    "shadow-dom-widget",     # open shadow root
    "slow-js-form",          # form drawn by script after a delay
    "spa-react",             # single-page app
    "multi-step",            # Next, then Submit
    "selects-and-radios",    # choices
    "many-forms",            # several forms on one page
    "trade-and-sales",       # a trade form beside the contact form
    "recaptcha-v2",          # captcha
    "newsletter-only",       # no_form
    "server-validation-error",  # failed with the site's message
    "submit-http-500",       # failed with a status
]
ONE_AT_A_TIME_RUNS = 3
FOUR_AT_ONCE_RUNS = 2


def answer(result, received) -> dict:
    """What must be the same on every run, for one site."""
    return {
        "status": result.status,
        "filled": [(f.kind, f.label, f.value) for f in result.fields],
        "received": [sorted((name, repr(value)) for name, value in s.fields.items()) for s in received],
    }


def run_all(fixture_server, browser_session, sites: list[str], concurrency: int) -> dict[str, dict]:
    fixture_server.reset()

    async def all_sites():
        gate = asyncio.Semaphore(concurrency)

        async def one(site: str):
            async with gate:
                url = start_url(fixture_server, site, load_expectation(site))
                return await attempt_contact(url, STANDARD_CUSTOMER, session=browser_session,
                                             options=SITE_TEST_OPTIONS)

        return await asyncio.gather(*(one(site) for site in sites))

    results = browser_session.run(all_sites(), timeout=SITE_TEST_OPTIONS.timeout_s * len(sites))
    return {site: answer(result, fixture_server.submissions(site)) for site, result in zip(sites, results)}


def test_the_representative_sites_exist():
    assert set(REPRESENTATIVE_SITES) <= set(site_names())


def test_every_run_gives_the_same_outcomes_and_field_maps(fixture_server, browser_session):
    runs = [("one at a time", 1)] * ONE_AT_A_TIME_RUNS + [("four at once", 4)] * FOUR_AT_ONCE_RUNS
    first = None
    for number, (how, concurrency) in enumerate(runs, start=1):
        answers = run_all(fixture_server, browser_session, REPRESENTATIVE_SITES, concurrency)
        for site, got in answers.items():
            assert got["status"] == load_expectation(site)["status"], f"run {number} ({how}): {site} {got}"
        if first is None:
            first = answers
            continue
        differing = {site: (first[site], got) for site, got in answers.items() if got != first[site]}
        assert not differing, f"run {number} ({how}) differs from run 1: {differing}"
