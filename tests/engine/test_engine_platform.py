"""The platform the engine reads from a site's own markup, on the fixture dealer sites."""

from __future__ import annotations

import pytest

from contacts.engine import contact_dealer
from tests.engine.conftest import SITE_TEST_OPTIONS, STANDARD_CUSTOMER

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("site, platform", [
    ("dealer-com", "Dealer.com"),  # assets under /static/ddc.*
    ("wordpress-cf7", "WordPress"),  # /wp-content/ plugin assets
    ("hcaptcha", ""),  # nothing that names a platform: unknown, not guessed
])
def test_the_result_names_the_platform_the_markup_shows(site, platform, fixture_server, browser_session):
    result = contact_dealer(fixture_server.url(site), STANDARD_CUSTOMER, session=browser_session,
                            options=SITE_TEST_OPTIONS)
    assert result.platform == platform, result
