"""Offline ZIP code lookup and great-circle distance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

EARTH_RADIUS_MILES = 3958.7613


@dataclass(frozen=True)
class ZipPlace:
    zip_code: str
    latitude: float
    longitude: float
    city: str
    state: str


@lru_cache(maxsize=4096)
def lookup_zip(zip_code: str) -> ZipPlace | None:
    """The place for a five-digit US ZIP code, or None if it does not exist."""
    zip_code = (zip_code or "").strip()
    if len(zip_code) != 5 or not zip_code.isdigit():
        return None
    try:
        matches = zipcodes.matching(zip_code)
    except (TypeError, ValueError):
        return None
    for match in matches:
        try:
            lat, lng = float(match["lat"]), float(match["long"])
        except (KeyError, TypeError, ValueError):
            continue
        return ZipPlace(zip_code, lat, lng, match.get("city", "").title(), match.get("state", ""))
    return None


def haversine_miles(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))
