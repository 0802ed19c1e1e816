"""ZIP codes to coordinates, offline, and great-circle distances."""

from __future__ import annotations

import pytest
import zipcodes

from contacts.geo import haversine_miles, located_zip_codes, lookup_zip

LOS_ANGELES = (34.0522, -118.2437)
NEW_YORK = (40.7128, -74.0060)
SAN_FRANCISCO = (37.7749, -122.4194)


@pytest.mark.parametrize(
    ("a", "b", "miles"),
    [(LOS_ANGELES, NEW_YORK, 2445), (SAN_FRANCISCO, LOS_ANGELES, 347)],
)
def test_it_measures_known_city_pairs_within_one_percent(a, b, miles) -> None:
    assert haversine_miles(*a, *b) == pytest.approx(miles, rel=0.01)
    assert haversine_miles(*b, *a) == pytest.approx(haversine_miles(*a, *b))


def test_it_measures_between_zip_codes_within_one_percent() -> None:
    downtown_la, lower_manhattan = lookup_zip("90012"), lookup_zip("10007")
    distance = haversine_miles(
        downtown_la.latitude, downtown_la.longitude, lower_manhattan.latitude, lower_manhattan.longitude
    )
    assert distance == pytest.approx(2445, rel=0.01)


def test_it_measures_zero_and_antipodes() -> None:
    assert haversine_miles(*LOS_ANGELES, *LOS_ANGELES) == 0
    assert haversine_miles(0, 0, 0, 180) == pytest.approx(12436, rel=0.001)  # half the equator


def test_it_looks_up_a_zip_code_with_its_town() -> None:
    place = lookup_zip("90210")
    assert (place.city, place.state) == ("Beverly Hills", "CA")
    assert place.latitude == pytest.approx(34.09, abs=0.01)
    assert place.longitude == pytest.approx(-118.41, abs=0.01)
    assert lookup_zip(" 90210-1234 ") == place


def test_it_looks_up_alaska_and_hawaii() -> None:
    anchorage, honolulu = lookup_zip("99501"), lookup_zip("96813")
    assert (anchorage.state, honolulu.state) == ("AK", "HI")
    assert anchorage.latitude > 61 and anchorage.longitude < -149
    assert 21 < honolulu.latitude < 22 and honolulu.longitude < -157


@pytest.mark.parametrize("zip_code", ["00000", "99999", "9021", "902100", "abcde", "", "90210-12"])
def test_it_answers_none_for_unknown_zip_codes(zip_code: str) -> None:
    assert lookup_zip(zip_code) is None


def test_it_places_a_po_box_zip_without_coordinates_at_its_towns_centre() -> None:
    # The bundled data records 11805 (PO boxes, Hicksville NY) at 0, 0.
    assert zipcodes.matching("11805")[0]["lat"] in ("0", "0.0")
    place = lookup_zip("11805")
    assert (place.city, place.state) == ("Hicksville", "NY")
    assert 40.5 < place.latitude < 41 and -74 < place.longitude < -73


def test_it_places_po_box_zips_in_alaska() -> None:
    place = lookup_zip("99509")  # PO boxes, Anchorage
    assert place.state == "AK" and place.latitude > 61


def test_it_answers_none_for_zip_codes_with_no_usable_place() -> None:
    # A military APO code and a one-organisation code, both recorded at 0, 0 and
    # with no located ZIP code in their "town".
    assert lookup_zip("09000") is None
    assert lookup_zip("20588") is None


def test_it_never_returns_the_null_island_for_any_zip_code() -> None:
    for record in zipcodes.list_all():
        place = lookup_zip(record["zip_code"])
        assert place is None or (place.latitude, place.longitude) != (0, 0), record["zip_code"]


def test_it_lists_only_located_zip_codes() -> None:
    codes = located_zip_codes()
    assert "90210" in codes and "99501" in codes and "96813" in codes
    assert "11805" not in codes and "09000" not in codes
