"""Fixtures shared across the suite: an owner, a teammate and an outsider, and their data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from contacts.geo import lookup_zip
from contacts.models import CustomerProfile, Dealer, Search


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user("alice", "alice@example.org", "password")


@pytest.fixture
def teammate(db) -> User:
    # Works at the same brokerage but did not create the data: still sees none of it.
    return User.objects.create_user("bob", "bob@example.org", "password")


@pytest.fixture
def outsider(db) -> User:
    return User.objects.create_user("charlie", "charlie@example.org", "password")


@pytest.fixture
def profile(owner) -> CustomerProfile:
    return CustomerProfile.objects.create(
        owner=owner,
        first_name="Alice",
        last_name="Buyer",
        email="alice.buyer@example.org",
        phone="+13105550123",
        zip_code="90210",
        preferred_contact="email",
        vehicle_year=2024,
        vehicle_make="Toyota",
        vehicle_model="RAV4",
        vehicle_trim="XLE",
    )


def make_dealer(name: str, lat: float, lng: float, website: str = "", **extra) -> Dealer:
    return Dealer.objects.create(
        name=name,
        website=website,
        website_key=website or None,
        latitude=lat,
        longitude=lng,
        **extra,
    )


@pytest.fixture
def dealers(db) -> list[Dealer]:
    return [
        make_dealer("Beverly Hills Toyota", 34.07, -118.39, "http://127.0.0.1:9/bh/", city="Beverly Hills",
                    state="CA", makes=",toyota,"),
        make_dealer("Santa Monica Ford", 34.02, -118.49, "http://127.0.0.1:9/sm/", city="Santa Monica",
                    state="CA", makes=",ford,"),
        make_dealer("Pasadena Honda", 34.15, -118.14, "http://127.0.0.1:9/pa/", city="Pasadena",
                    state="CA", makes=",honda,"),
    ]


@pytest.fixture
def search(owner, profile) -> Search:
    place = lookup_zip("90210")
    return Search.objects.create(
        owner=owner, customer=profile, zip_code="90210", radius_miles=25,
        latitude=place.latitude, longitude=place.longitude,
    )
