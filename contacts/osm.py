"""Car dealers from OpenStreetMap, through the Overpass API, into the directory.

Overpass is a shared, free service, so this client keeps its etiquette: one query at a
time per process (a lock held across retries and their waits), a descriptive
User-Agent, a server-side and a socket timeout, and on 429/502/503/504 or a dropped
connection a few retries that wait OVERPASS_BACKOFF_S, doubling, or as long as the
server's Retry-After says. Only urllib; nothing to install.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable
from urllib.parse import urlencode

from django.conf import settings

from contacts.directory import (
    CREATED,
    UNCHANGED,
    UPDATED,
    DealerRecord,
    DirectoryConflict,
    clean_phone,
    clean_state,
    clean_zip,
    makes_in_text,
    normalize_makes,
    upsert_dealers,
)
from contacts.geo import lookup_zip
from contacts.models import DealerSource

METRES_PER_MILE = 1609.344
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# A Retry-After longer than this is a "come back later", not a wait worth blocking on.
MAX_RETRY_AFTER_S = 300

# One Overpass query at a time in this process: the public instances allow an IP only
# a couple of slots, and parallel queries from one app just earn 429s for everyone.
_QUERY_LOCK = threading.Lock()


class OverpassError(Exception):
    """Overpass could not answer; the message is one readable line for a person."""


class OverpassClient:
    def __init__(
        self,
        url: str | None = None,
        *,
        user_agent: str | None = None,
        timeout_s: float | None = None,
        retries: int | None = None,
        backoff_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url or settings.OVERPASS_URL
        self.user_agent = user_agent or settings.OVERPASS_USER_AGENT
        self.timeout_s = settings.OVERPASS_TIMEOUT_S if timeout_s is None else timeout_s
        self.retries = settings.OVERPASS_RETRIES if retries is None else retries
        self.backoff_s = settings.OVERPASS_BACKOFF_S if backoff_s is None else backoff_s
        self.sleep = sleep

    def query(self, overpass_ql: str) -> dict[str, Any]:
        """The JSON answer to one Overpass QL query, waiting for any query already running."""
        if not _QUERY_LOCK.acquire(timeout=self.longest_run_s()):
            raise OverpassError("Another OpenStreetMap query is still running; try again in a few minutes.")
        try:
            return self._query_with_retries(overpass_ql)
        finally:
            _QUERY_LOCK.release()

    def longest_run_s(self) -> float:
        """How long one query may hold the lock, retries and waits included."""
        attempts = self.retries + 1
        return attempts * (self.timeout_s + 15) + self.retries * MAX_RETRY_AFTER_S

    def _query_with_retries(self, overpass_ql: str) -> dict[str, Any]:
        body = urlencode({"data": overpass_ql}).encode()
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            )
            try:
                # The socket waits a little longer than the server-side [timeout:…].
                with urllib.request.urlopen(request, timeout=self.timeout_s + 15) as response:
                    payload = response.read()
                return parse_answer(payload)
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRYABLE_STATUSES:
                    raise OverpassError(f"Overpass refused the query (HTTP {exc.code} {exc.reason}).") from None
                retry_after = parse_retry_after(exc.headers.get("Retry-After"))
                problem = "is busy (HTTP 429)" if exc.code == 429 else f"did not answer in time (HTTP {exc.code})"
                exc.close()
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                retry_after = None
                problem = f"could not be reached ({reason})"
            if attempt == self.retries:
                break
            wait = self.backoff_s * 2**attempt
            if retry_after is not None:
                if retry_after > MAX_RETRY_AFTER_S:
                    raise OverpassError(
                        f"Overpass {problem} and asks to wait {retry_after:.0f} seconds; try again later."
                    )
                wait = max(wait, retry_after)
            self.sleep(wait)
        tries = self.retries + 1
        raise OverpassError(f"Overpass {problem} after {tries} tr{'ies' if tries != 1 else 'y'}; try again later.")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def parse_answer(payload: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(payload)
    except ValueError:
        raise OverpassError("Overpass answered with something other than JSON.") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("elements"), list):
        raise OverpassError("Overpass answered without a list of elements.")
    remark = str(answer.get("remark") or "")
    if "error" in remark.lower():
        # e.g. "runtime error: Query timed out in "query" at line 3 after 91 seconds."
        raise OverpassError(f"Overpass could not finish the query: {remark.strip()}")
    return answer


def dealer_query(lat: float, lng: float, radius_miles: float, timeout_s: float) -> str:
    """Overpass QL for car dealers (shop=car) with a website, as nodes or ways (with centres)."""
    around = f"around:{math.ceil(radius_miles * METRES_PER_MILE)},{lat:.6f},{lng:.6f}"
    return (
        f"[out:json][timeout:{int(timeout_s)}];\n"
        "(\n"
        f'  nw["shop"="car"]["website"]({around});\n'
        f'  nw["shop"="car"]["contact:website"]({around});\n'
        ");\n"
        "out center tags;\n"
    )


# --- Mapping an element to a directory record --------------------------------------------


class Skip(ValueError):
    """An element that is not a usable dealer; the message says why."""


def element_record(element: dict[str, Any]) -> DealerRecord:
    """The directory record for one Overpass element; Skip (or WebsiteError) if unusable."""
    tags = element.get("tags") or {}
    source_id = f"{element.get('type')}/{element.get('id')}"
    website = first_value(tags.get("website") or tags.get("contact:website") or "")
    if not website:
        raise Skip(f"{source_id} has no website")
    point = element if "lat" in element else element.get("center") or {}
    try:
        latitude, longitude = float(point["lat"]), float(point["lon"])
    except (KeyError, TypeError, ValueError):
        raise Skip(f"{source_id} has no coordinates") from None
    name = (tags.get("name") or tags.get("brand") or tags.get("operator") or "").strip()[:200]
    if not name:
        raise Skip(f"{source_id} has no name")
    zip_code = tolerant(clean_zip, tags.get("addr:postcode", "")[:10])
    city, state = tags.get("addr:city", "").strip()[:100], tolerant(clean_state, tags.get("addr:state", ""))
    place = lookup_zip(zip_code) if zip_code else None
    if place:  # the ZIP code knows the town and state a source left out
        city, state = city or place.city, state or place.state
    street = " ".join(p for p in (tags.get("addr:housenumber", "").strip(), tags.get("addr:street", "").strip()) if p)
    try:
        return DealerRecord(
            name=name,
            website=website,
            phone=clean_phone(tags.get("phone") or tags.get("contact:phone") or ""),
            street=street[:200],
            city=city,
            state=state,
            zip_code=zip_code,
            latitude=latitude,
            longitude=longitude,
            makes=makes_from_tags(tags),
            source=DealerSource.OSM,
            source_id=source_id,
        )
    except ValueError as exc:  # an unusable website, or coordinates out of range
        raise Skip(f"{source_id}: {exc}") from None


def makes_from_tags(tags: dict[str, str]) -> str:
    """Makes from the brand tag ("Chevrolet;Buick;GMC"); failing that, from the name and operator.

    The brand tag is the manufacturer on franchised dealers and is trusted first; names
    like "Lincoln Honda" (a town) make the free-text fallback the weaker guess.
    """
    from_brand = [make for brand in tags.get("brand", "").split(";") for make in makes_in_text(brand)]
    if from_brand:
        return normalize_makes(from_brand)
    return normalize_makes(makes_in_text(tags.get("name", "")) + makes_in_text(tags.get("operator", "")))


def first_value(value: str) -> str:
    """OSM separates several values with ";": the first website is the dealer's own."""
    return value.split(";", 1)[0].strip()


def tolerant(clean: Callable[[str], str], value: str) -> str:
    """A cleaned value, or "" where OSM's free-form tag does not fit (kept out, not fatal)."""
    try:
        return clean(value)
    except ValueError:
        return ""


# --- Refreshing an area --------------------------------------------------------------------


@dataclass
class OsmRefresh:
    found: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # one reason per element left out

    def summary(self) -> str:
        text = (
            f"OpenStreetMap: {self.found} car dealer{'s' if self.found != 1 else ''} found; "
            f"added {self.created}, updated {self.updated}, unchanged {self.unchanged}"
        )
        if self.skipped:
            text += f", skipped {len(self.skipped)} (no usable website, name or place)"
        return text + "."


ELEMENT_ORDER = {"node": 0, "way": 1, "relation": 2}


def refresh_area(lat: float, lng: float, radius_miles: float, *, client: OverpassClient | None = None) -> OsmRefresh:
    """Fetch the car dealers around a point and upsert them (source "osm", id "node/123")."""
    client = client or OverpassClient()
    answer = client.query(dealer_query(lat, lng, radius_miles, client.timeout_s))
    elements = sorted(
        (e for e in answer["elements"] if e.get("type") in ELEMENT_ORDER and "id" in e),
        key=lambda e: (ELEMENT_ORDER[e["type"]], e["id"]),
    )
    result = OsmRefresh(found=len(elements))
    records: list[DealerRecord] = []
    seen_keys: dict[str, str] = {}
    for element in elements:
        try:
            record = element_record(element)
        except Skip as reason:
            result.skipped.append(str(reason))
            continue
        if record.key in seen_keys:
            # Several stores giving one group site (tesla.com): the first one stands for it.
            result.skipped.append(f"{record.source_id} has the same website as {seen_keys[record.key]}")
            continue
        seen_keys[record.key] = record.source_id
        records.append(record)
    for record, outcome in zip(records, upsert_dealers(records)):
        if isinstance(outcome, DirectoryConflict):
            result.skipped.append(f"{record.source_id}: {outcome}")
        elif outcome == CREATED:
            result.created += 1
        elif outcome == UPDATED:
            result.updated += 1
        elif outcome == UNCHANGED:
            result.unchanged += 1
    return result
