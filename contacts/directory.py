"""The dealer directory: radius search, the makes vocabulary, and upserts from sources.

Search: a bounding box on the indexed latitude/longitude narrows the rows in SQL; the
exact great-circle distance then filters and sorts them in Python, so SQLite and
PostgreSQL give the same answer to the last digit.

Upserts: a dealer is the same dealer when its website key matches (or, without a
website, its source and source id). A source updates the rows it created; on a row
another source (or staff) created it only fills blanks and adds makes. Blank values
never erase anything, so importing twice, or a thinner source, loses nothing.
last_refreshed is when a source last changed the row: a run that changes nothing
leaves it, like everything else, as it was.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Iterable

import phonenumbers
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contacts.geo import EARTH_RADIUS_MILES, haversine_miles
from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Dealer, DealerSource
from contacts.websites import normalize_website, website_key

# The columns a results page and the contact step read; the rest stay in the database.
SEARCH_COLUMNS = ("id", "name", "website", "city", "state", "latitude", "longitude", "makes")


@dataclass
class DealerHit:
    dealer: Dealer
    distance_miles: float


# --- Radius search ---------------------------------------------------------------------

# A hair (about 0.1 mm) of slack, so float rounding never drops a dealer on the circle.
BOX_MARGIN_DEG = 1e-9


def bounding_box(lat: float, lng: float, radius_miles: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) holding every point within the radius.

    The longitude half-width is asin(sin r / cos lat) (Matuschek), not r / cos lat:
    the circle is widest north (or south) of its centre, and at Alaskan latitudes the
    simpler formula cuts off its edge. Longitudes may run past ±180; see lng_ranges.
    """
    angular = radius_miles / EARTH_RADIUS_MILES
    dlat = math.degrees(angular) + BOX_MARGIN_DEG
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90 or max_lat >= 90 or angular >= math.pi / 2:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    dlng = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat))))) + BOX_MARGIN_DEG
    return min_lat, max_lat, lng - dlng, lng + dlng


def lng_ranges(min_lng: float, max_lng: float) -> list[tuple[float, float]]:
    """The box's longitudes as one or two ranges within [-180, 180] (the Aleutians cross 180°)."""
    if max_lng - min_lng >= 360:
        return [(-180.0, 180.0)]
    if min_lng < -180:
        return [(-180.0, max_lng), (min_lng + 360, 180.0)]
    if max_lng > 180:
        return [(min_lng, 180.0), (-180.0, max_lng - 360)]
    return [(min_lng, max_lng)]


def search_dealers(
    lat: float,
    lng: float,
    radius_miles: float,
    *,
    make: str = "",
    has_website: bool = False,
    not_contacted_for: CustomerProfile | int | None = None,
) -> list[DealerHit]:
    """Dealers within radius_miles of (lat, lng), nearest first (then by name and id).

    make: only dealers selling it (aliases such as "Chevy" count). has_website: only
    dealers that can be contacted. not_contacted_for: leave out dealers this customer
    (a profile or its id) has an attempt with, other than one cancelled before it ran.
    """
    rows = dealers_in_box(lat, lng, radius_miles)
    if make:
        rows = rows.filter(makes__contains=f",{canonical_make(make)},")
    if has_website:
        rows = rows.exclude(website="")
    if not_contacted_for is not None:
        contacted = ContactAttempt.objects.filter(customer=not_contacted_for).exclude(
            status=AttemptStatus.CANCELLED
        )
        rows = rows.exclude(pk__in=contacted.values("dealer_id"))
    hits = []
    for dealer in rows:
        distance = haversine_miles(lat, lng, dealer.latitude, dealer.longitude)
        if distance <= radius_miles:
            hits.append((distance, dealer))
    hits.sort(key=lambda hit: (hit[0], hit[1].name, hit[1].pk))
    return [DealerHit(dealer, round(distance, 1)) for distance, dealer in hits]


def dealers_in_box(lat: float, lng: float, radius_miles: float):
    """The SQL half of a search: the bounding box on the (latitude, longitude) index."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_miles)
    in_lng = Q()
    for low, high in lng_ranges(min_lng, max_lng):
        in_lng |= Q(longitude__gte=low, longitude__lte=high)
    return (
        Dealer.objects.filter(in_lng, latitude__gte=min_lat, latitude__lte=max_lat)
        .only(*SEARCH_COLUMNS)
        .order_by()  # sorted by distance in Python; an SQL sort by name would be wasted
    )


# --- Makes -----------------------------------------------------------------------------

# The makes sold new in the US, by the lower-case name stored in Dealer.makes, with the
# other names people and OpenStreetMap use for them.
MAKES: dict[str, tuple[str, ...]] = {
    "acura": (),
    "alfa romeo": ("alfa-romeo",),
    "aston martin": ("aston-martin",),
    "audi": (),
    "bentley": (),
    "bmw": (),
    "buick": (),
    "cadillac": (),
    "chevrolet": ("chevy",),
    "chrysler": (),
    "dodge": (),
    "ferrari": (),
    "fiat": (),
    "ford": (),
    "genesis": (),
    "gmc": (),
    "honda": (),
    "hyundai": (),
    "infiniti": (),
    "jaguar": (),
    "jeep": (),
    "kia": (),
    "lamborghini": (),
    "land rover": ("land-rover", "range rover"),
    "lexus": (),
    "lincoln": (),
    "lotus": (),
    "lucid": (),
    "maserati": (),
    "mazda": (),
    "mclaren": (),
    "mercedes-benz": ("mercedes benz", "mercedes"),
    "mini": ("mini cooper",),
    "mitsubishi": (),
    "nissan": (),
    "polestar": (),
    "porsche": (),
    "ram": ("ram trucks",),
    "rivian": (),
    "rolls-royce": ("rolls royce",),
    "subaru": (),
    "tesla": (),
    "toyota": (),
    "volkswagen": ("vw",),
    "volvo": (),
}

# Names that stand for several makes: dealer groups' combined stores and manufacturers.
MAKE_GROUPS: dict[str, tuple[str, ...]] = {
    "cdjr": ("chrysler", "dodge", "jeep", "ram"),
    "stellantis": ("alfa romeo", "chrysler", "dodge", "fiat", "jeep", "maserati", "ram"),
    "general motors": ("buick", "cadillac", "chevrolet", "gmc"),
    "jaguar land rover": ("jaguar", "land rover"),
    "jlr": ("jaguar", "land rover"),
}


def _phrase(text: str) -> str:
    return re.sub(r"[\s\-_/]+", " ", text.strip().lower())


@lru_cache(maxsize=1)
def _make_names() -> dict[str, tuple[str, ...]]:
    names: dict[str, tuple[str, ...]] = {}
    for make, aliases in MAKES.items():
        for name in (make, *aliases):
            names[_phrase(name)] = (make,)
    for group, makes in MAKE_GROUPS.items():
        names[_phrase(group)] = makes
    return names


@lru_cache(maxsize=1)
def _make_pattern() -> re.Pattern[str]:
    # Longest first, so "land rover" wins over "rover" and "mercedes benz" over "mercedes".
    names = sorted(_make_names(), key=len, reverse=True)
    alternatives = "|".join(re.escape(name).replace(r"\ ", r"[\s\-_/]+") for name in names)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])", re.IGNORECASE)


def canonical_make(name: str) -> str:
    """The stored name of one make ("Chevy" -> "chevrolet"); unknown makes lower-cased as typed."""
    phrase = _phrase(name)
    known = _make_names().get(phrase)
    return known[0] if known and len(known) == 1 else phrase


def makes_in_text(text: str) -> list[str]:
    """Every make a free-text name mentions ("Smith Chrysler Dodge Jeep Ram" -> four)."""
    found: set[str] = set()
    for match in _make_pattern().finditer(text or ""):
        found.update(_make_names()[_phrase(match.group(0))])
    return sorted(found)


def normalize_makes(makes: Iterable[str] | str) -> str:
    """Dealer.makes from a list or a comma/semicolon list, with aliases and groups resolved."""
    if isinstance(makes, str):
        makes = makes.replace(";", ",").split(",")
    resolved: list[str] = []
    for name in makes:
        if not name or not name.strip():
            continue
        # A known name or group; else the makes it mentions ("Buick GMC"); else as typed.
        known = _make_names().get(_phrase(name)) or makes_in_text(name)
        resolved.extend(known if known else [_phrase(name)])
    return Dealer.normalize_makes(resolved)


# --- Field cleaning shared by the importers and the admin ------------------------------

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)


def clean_state(value: str) -> str:
    state = (value or "").strip().upper()
    if state and state not in US_STATES:
        raise ValueError(f"state {value.strip()!r} is not a two-letter US state code such as CA")
    return state


def clean_zip(value: str) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    if re.fullmatch(r"\d{4}", text):
        text = "0" + text  # spreadsheets drop the leading zero of New England ZIP codes
    if not re.fullmatch(r"\d{5}(-\d{4})?", text):
        raise ValueError(f"ZIP code {value.strip()!r} is not five digits (or ZIP+4)")
    return text


def clean_phone(value: str) -> str:
    """E.164 for a valid US number, else the text as given (one number of a list)."""
    text = re.split(r"[;,]", value or "", maxsplit=1)[0].strip()
    if not text:
        return ""
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return text[:40]
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return text[:40]


def check_coordinates(latitude: float, longitude: float) -> None:
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise ValueError(f"latitude {latitude} is not between -90 and 90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise ValueError(f"longitude {longitude} is not between -180 and 180")


# --- Upserts from a source ---------------------------------------------------------------

# Fields a source writes; website_key follows website.
DATA_FIELDS = ("name", "website", "phone", "street", "city", "state", "zip_code", "latitude", "longitude", "makes")


@dataclass
class DealerRecord:
    """What one source says about one dealer, already cleaned (see the clean_* helpers)."""

    name: str
    latitude: float
    longitude: float
    source: str
    source_id: str = ""
    website: str = ""  # normalised
    phone: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    makes: str = ""  # as stored, e.g. ",ford,lincoln,"
    key: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.website = normalize_website(self.website)
        self.key = website_key(self.website)
        check_coordinates(self.latitude, self.longitude)


class DirectoryConflict(ValueError):
    """A record that would take another dealer's identity; reported, never applied."""


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def upsert_dealers(records: list[DealerRecord], now: datetime | None = None) -> list[str | DirectoryConflict]:
    """Apply records in one transaction; per record CREATED, UPDATED, UNCHANGED or the conflict.

    Callers drop duplicates within a batch first (two records with one website key).
    """
    now = now or timezone.now()
    keys = {r.key for r in records if r.key}
    ids = {(r.source, r.source_id) for r in records if r.source_id}
    by_key: dict[str, Dealer] = {}
    by_source_id: dict[tuple[str, str], Dealer] = {}
    if keys or ids:
        # Rows staff took over (saved in the admin) keep their source id and are still found by it.
        source_filter = Q(source=DealerSource.ADMIN, source_id__in=[sid for _, sid in ids])
        for source in {source for source, _ in ids}:
            source_filter |= Q(source=source, source_id__in=[sid for s, sid in ids if s == source])
        for dealer in Dealer.objects.filter(Q(website_key__in=keys) | source_filter):
            if dealer.website_key:
                by_key[dealer.website_key] = dealer
            if dealer.source_id:
                by_source_id[(dealer.source, dealer.source_id)] = dealer
    results: list[str | DirectoryConflict] = []
    with transaction.atomic():
        for record in records:
            existing = (by_key.get(record.key) if record.key else None) or (
                by_source_id.get((record.source, record.source_id))
                or by_source_id.get((DealerSource.ADMIN, record.source_id))
                if record.source_id
                else None
            )
            try:
                result, dealer = _apply(record, existing, by_source_id, now)
            except DirectoryConflict as conflict:
                results.append(conflict)
                continue
            results.append(result)
            if dealer.website_key:
                by_key[dealer.website_key] = dealer
            if dealer.source_id:
                by_source_id[(dealer.source, dealer.source_id)] = dealer
    return results


def _apply(
    record: DealerRecord, existing: Dealer | None, by_source_id: dict[tuple[str, str], Dealer], now: datetime
) -> tuple[str, Dealer]:
    if existing is None:
        dealer = Dealer(
            **{name: getattr(record, name) for name in DATA_FIELDS},
            website_key=record.key,
            source=record.source,
            source_id=record.source_id,
            last_refreshed=now,
            created=now,
        )
        dealer.save(force_insert=True)
        return CREATED, dealer

    changes: dict[str, object] = {}
    owned = existing.source == record.source
    for name in DATA_FIELDS:
        new, old = getattr(record, name), getattr(existing, name)
        if new in ("", None) or new == old:
            continue
        if owned or old in ("", None):
            changes[name] = new
        elif name == "makes":
            # Another source's row still learns which makes the dealer sells.
            union = Dealer.normalize_makes(existing.make_list + [m for m in new.split(",") if m])
            if union != old:
                changes[name] = union
    if "website" in changes:
        changes["website_key"] = record.key
    if owned and record.source_id and record.source_id != existing.source_id:
        holder = by_source_id.get((record.source, record.source_id))
        if holder is not None and holder.pk != existing.pk:
            raise DirectoryConflict(
                f"its website is dealer #{existing.pk} ({existing.name}) but its {record.source} id "
                f"{record.source_id} belongs to dealer #{holder.pk} ({holder.name})"
            )
        changes["source_id"] = record.source_id
    if not changes:
        return UNCHANGED, existing
    for name, value in changes.items():
        setattr(existing, name, value)
    existing.last_refreshed = now
    existing.save(update_fields=[*changes, "last_refreshed"])
    return UPDATED, existing
