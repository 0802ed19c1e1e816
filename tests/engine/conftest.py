"""Fixtures for the engine's tests: the fixture dealer sites and the standard customer."""

from __future__ import annotations

import pytest

from contacts.engine.types import Customer, EngineOptions
from tests.fixture_server import FixtureServer

STANDARD_CUSTOMER = Customer(
    first_name="Alice",
    last_name="Buyer",
    email="alice.buyer@example.org",
    phone="+13105550123",
    zip_code="90210",
    message=(
        "Hello, I'm interested in the 2024 Toyota RAV4 XLE. Could you send me your best "
        "out-the-door price and what you have available? Thank you, Alice Buyer"
    ),
    vehicle_year="2024",
    vehicle_make="Toyota",
    vehicle_model="RAV4",
    vehicle_trim="XLE",
    preferred_contact="email",
    city="Beverly Hills",
    state="CA",
)

# Loopback sites need private targets; short limits keep a stuck site from stalling the run.
SITE_TEST_OPTIONS = EngineOptions(
    allow_private_targets=True, timeout_s=45, navigation_timeout_ms=10_000, action_timeout_ms=3_000
)


@pytest.fixture(scope="session")
def fixture_server():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def standard_customer() -> Customer:
    return STANDARD_CUSTOMER
