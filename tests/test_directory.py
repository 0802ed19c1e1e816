"""Radius search, the makes vocabulary and source upserts, on SQLite and PostgreSQL alike.

Run against PostgreSQL too:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python -m pytest tests/test_directory.py
"""

from __future__ import annotations

import math
import random

import pytest
from django.db import connection

from contacts.directory import (
    CREATED,
    UNCHANGED,
    UPDATED,
    DealerRecord,
    DirectoryConflict,
    bounding_box,
    canonical_make,
    dealers_in_box,
    makes_in_text,
    normalize_makes,
    search_dealers,
    upsert_dealers,
)
from contacts.geo import EARTH_RADIUS_MILES, haversine_miles, lookup_zip
from contacts.models import AttemptStatus, ContactAttempt, Dealer
from tests.conftest import make_dealer

FAIRBANKS = (64.8378, -147.7164)
HONOLULU = (21.3069, -157.8583)
ADAK_WEST = (51.8, 179.8)  # just west of the antimeridian


def destination(lat: float, lng: float, bearing_deg: float, miles: float) -> tuple[float, float]:
    """The point `miles` from (lat, lng) along the initial bearing (spherical Earth)."""
    d, theta = miles / EARTH_RADIUS_MILES, math.radians(bearing_deg)
    phi1, lmb1 = math.radians(lat), math.radians(lng)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lmb2 = lmb1 + math.atan2(math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lmb2) + 540) % 360 - 180


def names(hits) -> list[str]:
    return [hit.dealer.name for hit in hits]


# --- Radius search -----------------------------------------------------------------------


def test_it_finds_dealers_within_the_radius_nearest_first(dealers) -> None:
    make_dealer("San Diego Kia", 32.72, -117.16, "https://sdkia.example", makes=",kia,")
    place = lookup_zip("90210")
    hits = search_dealers(place.latitude, place.longitude, 25)
    assert names(hits) == ["Beverly Hills Toyota", "Santa Monica Ford", "Pasadena Honda"]
    assert [hit.distance_miles for hit in hits] == sorted(hit.distance_miles for hit in hits)
    assert hits[0].distance_miles == round(haversine_miles(place.latitude, place.longitude, 34.07, -118.39), 1)
    assert "San Diego Kia" in names(search_dealers(place.latitude, place.longitude, 200))


def test_it_includes_a_dealer_just_inside_and_leaves_out_one_just_outside(db) -> None:
    inside = destination(34.0, -118.0, 45, 49.9)
    outside = destination(34.0, -118.0, 45, 50.1)
    make_dealer("Inside", *inside)
    make_dealer("Outside", *outside)
    assert names(search_dealers(34.0, -118.0, 50)) == ["Inside"]


def test_it_finds_the_widest_point_of_a_circle_in_alaska(db) -> None:
    # The circle's easternmost point lies north of its centre; a box r/cos(lat) wide
    # would cut it off at this latitude.
    east_edge = max((destination(*FAIRBANKS, b / 10, 199.9) for b in range(0, 1800)), key=lambda p: p[1])
    naive_half_width = math.degrees(200 / (EARTH_RADIUS_MILES * math.cos(math.radians(FAIRBANKS[0]))))
    assert east_edge[1] > FAIRBANKS[1] + naive_half_width
    make_dealer("Edge of the circle", *east_edge)
    make_dealer("North Pole Chevrolet", 64.75, -147.35, makes=",chevrolet,")
    make_dealer("Anchorage Subaru", 61.19, -149.87)  # ~260 miles away
    hits = search_dealers(*FAIRBANKS, 200)
    assert names(hits) == ["North Pole Chevrolet", "Edge of the circle"]
    assert hits[1].distance_miles == pytest.approx(199.9, abs=0.05)
    min_lat, max_lat, min_lng, max_lng = bounding_box(*FAIRBANKS, 200)
    assert min_lng < east_edge[1] < max_lng


def test_it_searches_across_the_antimeridian_in_the_aleutians(db) -> None:
    make_dealer("West of 180", 51.8, 179.5)
    make_dealer("East of 180", 51.8, -179.6)
    assert names(search_dealers(51.8, -179.9, 50)) == ["East of 180", "West of 180"]
    assert names(search_dealers(51.8, 179.9, 50)) == ["West of 180", "East of 180"]


def test_it_searches_hawaii_without_reaching_the_mainland(db) -> None:
    make_dealer("Honolulu Toyota", 21.30, -157.85)
    make_dealer("Kahului Ford", 20.89, -156.47)  # Maui, ~100 miles
    make_dealer("Los Angeles Honda", 34.05, -118.24)
    place = lookup_zip("96813")
    assert names(search_dealers(place.latitude, place.longitude, 25)) == ["Honolulu Toyota"]
    assert names(search_dealers(place.latitude, place.longitude, 200)) == ["Honolulu Toyota", "Kahului Ford"]


def test_it_matches_a_brute_force_scan_of_every_dealer(db) -> None:
    rng = random.Random(20260101)
    centres = [(rng.uniform(25, 49), rng.uniform(-124, -67)) for _ in range(12)] + [FAIRBANKS, HONOLULU, ADAK_WEST]
    Dealer.objects.bulk_create(
        Dealer(
            name=f"Dealer {i:03d}",
            latitude=lat + rng.gauss(0, 1.5),
            longitude=(lng + rng.gauss(0, 2.5) + 540) % 360 - 180,  # wrapped across 180° near the Aleutians
        )
        for i, (lat, lng) in enumerate(rng.choice(centres) for _ in range(700))
    )
    everyone = list(Dealer.objects.all())
    for lat, lng in centres:
        for radius in (10, 50, 200):
            expected = sorted(
                ((haversine_miles(lat, lng, d.latitude, d.longitude), d.name, d.pk) for d in everyone),
            )
            expected = [pk for distance, _, pk in expected if distance <= radius]
            assert [hit.dealer.pk for hit in search_dealers(lat, lng, radius)] == expected


def test_it_filters_by_make_including_aliases(dealers) -> None:
    make_dealer("Culver City Chevrolet", 34.02, -118.40, "https://culverchevy.example", makes=",chevrolet,")
    make_dealer("Fordham Motors", 34.05, -118.30, "https://fordham.example", makes=",lincoln,")
    place = lookup_zip("90210")
    assert names(search_dealers(place.latitude, place.longitude, 25, make="Toyota")) == ["Beverly Hills Toyota"]
    assert names(search_dealers(place.latitude, place.longitude, 25, make=" ford ")) == ["Santa Monica Ford"]
    assert names(search_dealers(place.latitude, place.longitude, 25, make="Chevy")) == ["Culver City Chevrolet"]
    assert search_dealers(place.latitude, place.longitude, 25, make="Tesla") == []


def test_it_filters_to_dealers_with_a_website(dealers) -> None:
    make_dealer("Walk-in Only Motors", 34.08, -118.38)
    place = lookup_zip("90210")
    assert "Walk-in Only Motors" in names(search_dealers(place.latitude, place.longitude, 25))
    assert "Walk-in Only Motors" not in names(search_dealers(place.latitude, place.longitude, 25, has_website=True))


def test_it_leaves_out_dealers_already_contacted_for_the_customer(owner, profile, dealers) -> None:
    toyota, ford, honda = dealers
    other_customer = type(profile).objects.create(
        owner=owner, first_name="Other", last_name="Buyer", email="o@example.org", phone="+13105550100",
        zip_code="90210", vehicle_year=2023, vehicle_make="Ford", vehicle_model="F-150",
    )
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=toyota, status=AttemptStatus.SUBMITTED)
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=ford, status=AttemptStatus.CANCELLED)
    ContactAttempt.objects.create(owner=owner, customer=other_customer, dealer=honda, status=AttemptStatus.FAILED)
    place = lookup_zip("90210")
    expected = ["Santa Monica Ford", "Pasadena Honda"]
    assert names(search_dealers(place.latitude, place.longitude, 25, not_contacted_for=profile)) == expected
    assert names(search_dealers(place.latitude, place.longitude, 25, not_contacted_for=profile.pk)) == expected
    assert names(search_dealers(place.latitude, place.longitude, 25, not_contacted_for=other_customer)) == [
        "Beverly Hills Toyota", "Santa Monica Ford"
    ]


def test_it_loads_only_the_columns_a_results_page_reads(dealers, django_assert_num_queries) -> None:
    place = lookup_zip("90210")
    with django_assert_num_queries(1):
        hits = search_dealers(place.latitude, place.longitude, 25)
        shown = [(h.dealer.pk, h.dealer.name, h.dealer.website, h.dealer.city, h.dealer.state) for h in hits]
    assert len(shown) == 3
    assert {"street", "phone", "source", "source_id", "created"} <= hits[0].dealer.get_deferred_fields()


def test_it_uses_the_latitude_longitude_index(db) -> None:
    box = dealers_in_box(34.0, -118.0, 50)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # An empty test table is cheaper to scan; ask whether the index can serve it.
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = box.explain()
    else:
        plan = box.explain()
    assert "dealer_lat_lng" in plan, plan


# --- Makes ------------------------------------------------------------------------------


def test_it_names_makes_canonically() -> None:
    assert canonical_make("Chevy") == "chevrolet"
    assert canonical_make(" Mercedes Benz ") == "mercedes-benz"
    assert canonical_make("VW") == "volkswagen"
    assert canonical_make("Land-Rover") == "land rover"
    assert canonical_make("Scout") == "scout"  # unknown makes are kept as typed


def test_it_finds_makes_in_dealer_names() -> None:
    assert makes_in_text("Smith Chrysler Dodge Jeep Ram of Springfield") == ["chrysler", "dodge", "jeep", "ram"]
    assert makes_in_text("Bob's CDJR") == ["chrysler", "dodge", "jeep", "ram"]
    assert makes_in_text("Jaguar Land Rover Pasadena") == ["jaguar", "land rover"]
    assert makes_in_text("Mercedes-Benz of Beverly Hills") == ["mercedes-benz"]
    assert makes_in_text("Rampart Auto Sales") == []
    assert makes_in_text("Fordham Used Cars") == []


def test_it_normalizes_make_lists() -> None:
    assert normalize_makes("Toyota; Lexus, toyota") == ",lexus,toyota,"
    assert normalize_makes(["Chevy", "Buick GMC", "GMC"]) == ",buick,chevrolet,gmc,"
    assert normalize_makes("Scout; Mercedes") == ",mercedes-benz,scout,"
    assert normalize_makes("CDJR") == ",chrysler,dodge,jeep,ram,"
    assert normalize_makes("") == ""


# --- Upserts ----------------------------------------------------------------------------


def record(**values) -> DealerRecord:
    defaults = dict(name="Bob's Ford", latitude=34.0, longitude=-118.0, source="csv", website="https://bobsford.com/")
    return DealerRecord(**{**defaults, **values})


def test_it_creates_then_leaves_unchanged_on_a_second_run(db) -> None:
    first = upsert_dealers([record(phone="+13105550123", makes=",ford,"), record(name="No Site", website="", source_id="7")])
    assert first == [CREATED, CREATED]
    before = list(Dealer.objects.values())
    assert upsert_dealers([record(phone="+13105550123", makes=",ford,"), record(name="No Site", website="", source_id="7")]) == [
        UNCHANGED, UNCHANGED
    ]
    assert list(Dealer.objects.values()) == before
    assert Dealer.objects.get(name="Bob's Ford").website_key == "bobsford.com"


def test_it_matches_the_same_site_written_differently(db) -> None:
    upsert_dealers([record(website="http://bobsford.com")])
    results = upsert_dealers([record(website="https://www.bobsford.com/"), record(website="bobsford.com/new/?utm_source=x")])
    assert results == [UPDATED, UPDATED]
    dealer = Dealer.objects.get()
    assert dealer.website == "https://bobsford.com/new/"


def test_it_updates_its_own_rows_but_never_erases(db) -> None:
    upsert_dealers([record(phone="+13105550123", city="Downey")])
    assert upsert_dealers([record(name="Bob's Ford Lincoln", phone="", city="Downey")]) == [UPDATED]
    dealer = Dealer.objects.get()
    assert (dealer.name, dealer.phone, dealer.city) == ("Bob's Ford Lincoln", "+13105550123", "Downey")


def test_it_only_fills_blanks_on_another_sources_row(db) -> None:
    staff = make_dealer("Bob's Ford (verified)", 34.1, -118.1, "https://bobsford.com/", source="admin", makes=",ford,")
    Dealer.objects.filter(pk=staff.pk).update(website_key="bobsford.com")
    result = upsert_dealers([record(name="Bobs Ford", phone="+13105550123", makes=",lincoln,", source="osm", source_id="node/1")])
    assert result == [UPDATED]
    staff.refresh_from_db()
    assert (staff.name, staff.latitude, staff.source, staff.source_id) == ("Bob's Ford (verified)", 34.1, "admin", "")
    assert (staff.phone, staff.makes) == ("+13105550123", ",ford,lincoln,")


def test_it_reports_a_record_that_would_take_another_dealers_identity(db) -> None:
    upsert_dealers([record(source_id="A1"), record(name="Ann's Honda", website="https://annshonda.com", source_id="A2")])
    results = upsert_dealers([record(source_id="A2")])
    assert isinstance(results[0], DirectoryConflict)
    assert "belongs to dealer" in str(results[0])
    assert set(Dealer.objects.values_list("source_id", flat=True)) == {"A1", "A2"}


# --- Admin -----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("staff", "staff@example.org", "password")
    client.force_login(admin_user)
    return client


def dealer_form(**values) -> dict[str, str]:
    form = {"name": "Bob's Ford", "website": "", "phone": "", "street": "", "city": "", "state": "",
            "zip_code": "90241", "latitude": "", "longitude": "", "makes": "", "source_id": ""}
    return {**form, **values}


def test_it_adds_a_dealer_in_the_admin_with_normalised_values(staff_client) -> None:
    response = staff_client.post("/admin/contacts/dealer/add/", dealer_form(
        website="WWW.BobsFord.com/new?utm_source=flyer#top", phone="(562) 555-0123", state="ca",
        makes="Chevy; Buick GMC, ford",
    ))
    assert response.status_code == 302, response.context["adminform"].form.errors
    dealer = Dealer.objects.get()
    assert (dealer.website, dealer.website_key) == ("https://www.bobsford.com/new", "bobsford.com")
    assert (dealer.phone, dealer.state, dealer.makes) == ("+15625550123", "CA", ",buick,chevrolet,ford,gmc,")
    place = lookup_zip("90241")
    assert (dealer.latitude, dealer.longitude, dealer.source) == (place.latitude, place.longitude, "admin")


def test_it_names_the_dealer_that_already_has_the_website(staff_client) -> None:
    existing = make_dealer("Bob's Ford Lincoln", 33.9, -118.1, "https://bobsford.com/")
    Dealer.objects.filter(pk=existing.pk).update(website_key="bobsford.com")
    response = staff_client.post("/admin/contacts/dealer/add/", dealer_form(website="http://www.bobsford.com/service"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["website"] == [
        f"Bob's Ford Lincoln (dealer #{existing.pk}) already has this website (bobsford.com)."
    ]
    assert Dealer.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"latitude": "91", "longitude": "-118"}, "latitude", "Latitude must be between -90 and 90."),
        ({"latitude": "34", "longitude": "-181"}, "longitude", "Longitude must be between -180 and 180."),
        ({"latitude": "34"}, "longitude", "Enter both latitude and longitude, or neither."),
        ({"zip_code": "00000"}, "latitude", "Enter latitude and longitude, or a known ZIP code to use its centre."),
        ({"state": "XX"}, "state", "The state 'XX' is not a two-letter US state code such as CA."),
        ({"zip_code": "9021x"}, "zip_code", "The ZIP code '9021x' is not five digits (or ZIP+4)."),
        ({"website": "mailto:bob@bobsford.com"}, "website",
         "'mailto:bob@bobsford.com' is not a web address; only http and https sites can be contacted."),
    ],
)
def test_it_refuses_bad_dealer_values_in_the_admin(staff_client, values, field, message) -> None:
    response = staff_client.post("/admin/contacts/dealer/add/", dealer_form(**values))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors[field] == [message[0].upper() + message[1:]]
    assert Dealer.objects.count() == 0


def test_it_makes_a_staff_edit_win_over_later_imports(staff_client) -> None:
    upsert_dealers([record(source="osm", source_id="node/1", website="https://bobsford.com/")])
    dealer = Dealer.objects.get()
    response = staff_client.post(f"/admin/contacts/dealer/{dealer.pk}/change/", dealer_form(
        name="Bob's Ford (checked)", website="https://bobsford.com/", latitude="34.0", longitude="-118.0",
        source_id="node/1",
    ))
    assert response.status_code == 302
    assert upsert_dealers([record(source="osm", source_id="node/1", phone="+13105550123")]) == [UPDATED]
    dealer.refresh_from_db()
    assert (dealer.name, dealer.source, dealer.phone) == ("Bob's Ford (checked)", "admin", "+13105550123")


def test_it_refuses_a_source_id_another_staff_dealer_has(staff_client) -> None:
    upsert_dealers([record(source="osm", source_id="node/1", website="https://bobsford.com/")])
    make_dealer("Ann's Honda", 34.0, -118.0, source="admin", source_id="node/1")
    bobs = Dealer.objects.get(source="osm")
    response = staff_client.post(f"/admin/contacts/dealer/{bobs.pk}/change/", dealer_form(
        website="https://bobsford.com/", latitude="34.0", longitude="-118.0", source_id="node/1",
    ))
    assert response.status_code == 200
    ann = Dealer.objects.get(name="Ann's Honda")
    assert response.context["adminform"].form.errors["source_id"] == [
        f"Ann's Honda (dealer #{ann.pk}) already has this source id."
    ]
    bobs.refresh_from_db()
    assert (bobs.name, bobs.source) == ("Bob's Ford", "osm")
