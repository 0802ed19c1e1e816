"""Radius search over the dealer directory.

A bounding box on the indexed latitude/longitude narrows the rows in SQL; the exact
great-circle distance then filters and sorts them in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from contacts.geo import EARTH_RADIUS_MILES, haversine_miles
from contacts.models import ContactAttempt, Dealer


@dataclass
class DealerHit:
    dealer: Dealer
    distance_miles: float


def bounding_box(lat: float, lng: float, radius_miles: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(radius_miles / EARTH_RADIUS_MILES)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlng = min(180.0, math.degrees(radius_miles / (EARTH_RADIUS_MILES * cos_lat)))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def search_dealers(
    lat: float,
    lng: float,
    radius_miles: float,
    *,
    make: str = "",
    has_website: bool = False,
    not_contacted_for=None,
) -> list[DealerHit]:
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_miles)
    rows = Dealer.objects.filter(
        latitude__gte=min_lat, latitude__lte=max_lat, longitude__gte=min_lng, longitude__lte=max_lng
    )
    if make:
        rows = rows.filter(makes__contains="," + make.strip().lower() + ",")
    if has_website:
        rows = rows.exclude(website="")
    if not_contacted_for is not None:
        contacted = ContactAttempt.objects.filter(customer=not_contacted_for).values("dealer_id")
        rows = rows.exclude(pk__in=contacted)
    hits = []
    for dealer in rows:
        distance = haversine_miles(lat, lng, dealer.latitude, dealer.longitude)
        if distance <= radius_miles:
            hits.append(DealerHit(dealer, round(distance, 1)))
    hits.sort(key=lambda hit: (hit.distance_miles, hit.dealer.name, hit.dealer.pk))
    return hits
