"""Offline ZIP code lookup and great-circle distance.

ZIP codes come from the `zipcodes` package's bundled data. Some PO-box, unique
(single-organisation) and military ZIP codes there have no usable coordinates (they
are recorded as 0, 0); a PO-box or unique ZIP is placed at the centre of the other
ZIP codes of its town, and one with no such town is treated as unknown.
"""

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


def _coordinates(record: dict) -> tuple[float, float] | None:
    try:
        lat, lng = float(record["lat"]), float(record["long"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    return lat, lng


@lru_cache(maxsize=1)
def _zip_index() -> tuple[dict[str, dict], dict[tuple[str, str], tuple[float, float]]]:
    """Every ZIP record by code, and the centre of each town's located ZIP codes."""
    records: dict[str, dict] = {}
    located: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for record in zipcodes.list_all():
        records[record["zip_code"]] = record
        point = _coordinates(record)
        if point is not None:
            located.setdefault((record["city"].upper(), record["state"]), []).append(point)
    towns = {
        town: (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
        for town, points in located.items()
    }
    return records, towns


@lru_cache(maxsize=4096)
def lookup_zip(zip_code: str) -> ZipPlace | None:
    """The place for a US ZIP code ("90210" or "90210-1234"), or None if unknown."""
    zip_code = (zip_code or "").strip()
    if len(zip_code) == 10 and zip_code[5] == "-" and zip_code[6:].isdigit():
        zip_code = zip_code[:5]
    if len(zip_code) != 5 or not zip_code.isdigit():
        return None
    records, towns = _zip_index()
    record = records.get(zip_code)
    if record is None:
        return None
    point = _coordinates(record) or towns.get((record["city"].upper(), record["state"]))
    if point is None:
        return None
    return ZipPlace(zip_code, point[0], point[1], record["city"].title(), record["state"])


def located_zip_codes() -> list[str]:
    """Every ZIP code with coordinates of its own, in code order (for samples and benchmarks)."""
    records, _ = _zip_index()
    return sorted(code for code, record in records.items() if _coordinates(record) is not None)


def haversine_miles(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance on a spherical Earth of the mean radius (within ~0.5%)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))
