"""Fetch the car dealers around a ZIP code from OpenStreetMap (Overpass) into the directory."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.geo import lookup_zip
from contacts.osm import OverpassError, refresh_area

MAX_RADIUS_MILES = 200


class Command(BaseCommand):
    help = (
        "Fetch car dealers (shop=car with a website) within --radius miles of --zip from "
        "OpenStreetMap's Overpass API (OVERPASS_URL) and add or update them in the directory. "
        "Running it twice changes nothing. Needs OSM_ENABLED=1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--zip", required=True, dest="zip_code", help="five-digit US ZIP code at the centre")
        parser.add_argument("--radius", type=int, default=25, help=f"miles, 1 to {MAX_RADIUS_MILES} (default 25)")

    def handle(self, *args: Any, zip_code: str, radius: int, verbosity: int = 1, **options: Any) -> None:
        if not settings.OSM_ENABLED:
            raise CommandError("OpenStreetMap refresh is off; set OSM_ENABLED=1 to allow queries to Overpass.")
        if not 1 <= radius <= MAX_RADIUS_MILES:
            raise CommandError(f"--radius must be from 1 to {MAX_RADIUS_MILES} miles; got {radius}.")
        place = lookup_zip(zip_code)
        if place is None:
            raise CommandError(f"--zip {zip_code!r} is not a known US ZIP code.")
        try:
            result = refresh_area(place.latitude, place.longitude, radius)
        except OverpassError as exc:
            raise CommandError(str(exc)) from None
        if verbosity > 1:
            for reason in result.skipped:
                self.stderr.write(f"skipped {reason}")
        self.stdout.write(result.summary())
