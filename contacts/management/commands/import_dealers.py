"""Import dealers from a CSV file into the shared directory (idempotent)."""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.directory import (
    CREATED,
    UNCHANGED,
    UPDATED,
    DealerRecord,
    DirectoryConflict,
    clean_phone,
    clean_state,
    clean_zip,
    normalize_makes,
    upsert_dealers,
)
from contacts.geo import lookup_zip
from contacts.models import DealerSource
from contacts.websites import normalize_website

COLUMNS_HELP = """\
Columns (first row is the header; names are case-insensitive; UTF-8):
  name        required. The dealership's name.
  website     its web address; http(s):// is optional. Dealers are matched by the
              site's registrable domain, so http/https, www and paths are one dealer.
  phone       US numbers are stored as +1XXXXXXXXXX.
  street, city   the address.
  state       two letters, e.g. CA.
  zip         five digits or ZIP+4.
  latitude, longitude   optional (also lat, lng, lon): without them the dealer is
              placed at its ZIP code's centre.
  makes       makes sold, separated by ; or , e.g. "Ford; Lincoln". Aliases such as
              Chevy and groups such as CDJR are understood.
  source_id   your own id for the dealer; identifies rows that have no website.
Every row needs a website or a source_id, and coordinates or a known ZIP code.
Running the same file again changes nothing. Rows with problems are reported with
their line number and skipped; the good rows still import."""

COLUMN_ALIASES = {"lat": "latitude", "lng": "longitude", "lon": "longitude", "zip_code": "zip", "postcode": "zip"}
KNOWN_COLUMNS = {"name", "website", "phone", "street", "city", "state", "zip", "latitude", "longitude", "makes",
                 "source_id"}
BATCH_SIZE = 500
MAX_LENGTHS = {"name": 200, "street": 200, "city": 100, "source_id": 100}


class RowError(ValueError):
    pass


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


class Command(BaseCommand):
    help = "Import dealers from a CSV file into the directory (running it twice changes nothing)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = COLUMNS_HELP
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_file", metavar="FILE.csv", help="the CSV file to import")

    def handle(self, *args: Any, csv_file: str, **options: Any) -> None:
        path = Path(csv_file)
        if not path.is_file():
            raise CommandError(f"{csv_file}: no such file")
        tally = Tally()
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                self.import_rows(handle, csv_file, tally)
        except UnicodeDecodeError:
            raise CommandError(f"{csv_file}: not UTF-8 text; save the spreadsheet as \"CSV UTF-8\"") from None
        except OSError as exc:
            raise CommandError(f"{csv_file}: cannot read it ({exc.strerror or exc})") from None
        self.stdout.write(
            f"imported {tally.created} new, updated {tally.updated}, unchanged {tally.unchanged}, "
            f"skipped {tally.skipped} rows with errors"
        )

    def import_rows(self, handle, csv_file: str, tally: Tally) -> None:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise CommandError(f"{csv_file}: empty; the first row must name the columns (name, website, zip, …)")
        columns = [COLUMN_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in header]
        check_header(columns, csv_file)
        unknown = [c for c in columns if c and c not in KNOWN_COLUMNS]
        if unknown:
            self.stderr.write(f"ignoring unknown columns: {', '.join(unknown)}")

        seen_keys: dict[str, int] = {}
        seen_ids: dict[str, int] = {}
        batch: list[tuple[int, DealerRecord]] = []
        line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise CommandError(f"{csv_file}: line {line + 1}: not readable as CSV ({exc})") from None
            row_line, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            try:
                if len(cells) > len(columns):
                    raise RowError(
                        f"{len(cells)} fields but the header names {len(columns)} (an unquoted comma?)"
                    )
                row = {name: cell.strip() for name, cell in zip(columns, cells)}
                dealer = record_from_row(row)
                if dealer.key:
                    if dealer.key in seen_keys:
                        raise RowError(f"same website as line {seen_keys[dealer.key]} ({dealer.key})")
                    seen_keys[dealer.key] = row_line
                if dealer.source_id:
                    if dealer.source_id in seen_ids:
                        raise RowError(f"same source_id as line {seen_ids[dealer.source_id]} ({dealer.source_id})")
                    seen_ids[dealer.source_id] = row_line
            except ValueError as exc:  # RowError, WebsiteError and the range checks
                self.report(row_line, str(exc), tally)
                continue
            batch.append((row_line, dealer))
            if len(batch) >= BATCH_SIZE:
                self.apply(batch, tally)
                batch = []
        self.apply(batch, tally)

    def apply(self, batch: list[tuple[int, DealerRecord]], tally: Tally) -> None:
        if not batch:
            return
        for (row_line, _), result in zip(batch, upsert_dealers([dealer for _, dealer in batch])):
            if isinstance(result, DirectoryConflict):
                self.report(row_line, str(result), tally)
            elif result == CREATED:
                tally.created += 1
            elif result == UPDATED:
                tally.updated += 1
            elif result == UNCHANGED:
                tally.unchanged += 1

    def report(self, row_line: int, reason: str, tally: Tally) -> None:
        tally.skipped += 1
        self.stderr.write(f"line {row_line}: {reason}")


def check_header(columns: list[str], csv_file: str) -> None:
    present = set(columns)
    missing = []
    if "name" not in present:
        missing.append("name")
    if not present & {"website", "source_id"}:
        missing.append("website or source_id")
    if "zip" not in present and not {"latitude", "longitude"} <= present:
        missing.append("zip (or latitude and longitude)")
    if missing:
        raise CommandError(f"{csv_file}: missing required column(s): {'; '.join(missing)}")
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated:
        raise CommandError(f"{csv_file}: column(s) named twice: {', '.join(duplicated)}")


def record_from_row(row: dict[str, str]) -> DealerRecord:
    """One cleaned record from a CSV row; RowError (or WebsiteError) says what is wrong."""
    name = row.get("name", "")
    if not name:
        raise RowError("name is empty")
    for column, limit in MAX_LENGTHS.items():
        if len(row.get(column, "")) > limit:
            raise RowError(f"{column} is longer than {limit} characters")
    website = normalize_website(row.get("website", ""))
    source_id = row.get("source_id", "")
    if not website and not source_id:
        raise RowError("no website or source_id to tell this dealer apart")
    zip_code = clean_zip(row.get("zip", ""))
    state = clean_state(row.get("state", ""))
    latitude, longitude = coordinates(row, zip_code)
    city = row.get("city", "")
    place = lookup_zip(zip_code) if zip_code else None
    if place:  # the ZIP code knows the town and state a source left out
        city, state = city or place.city, state or place.state
    return DealerRecord(
        name=name,
        website=website,
        phone=clean_phone(row.get("phone", "")),
        street=row.get("street", ""),
        city=city,
        state=state,
        zip_code=zip_code,
        latitude=latitude,
        longitude=longitude,
        makes=normalize_makes(row.get("makes", "")),
        source=DealerSource.CSV,
        source_id=source_id,
    )


def coordinates(row: dict[str, str], zip_code: str) -> tuple[float, float]:
    raw_lat, raw_lng = row.get("latitude", ""), row.get("longitude", "")
    if raw_lat or raw_lng:
        if not (raw_lat and raw_lng):
            raise RowError("give both latitude and longitude, or neither (to use the ZIP code's centre)")
        try:
            return float(raw_lat), float(raw_lng)
        except ValueError:
            raise RowError(f"latitude/longitude {raw_lat!r}, {raw_lng!r} are not numbers") from None
    if not zip_code:
        raise RowError("no latitude/longitude and no ZIP code to place the dealer")
    place = lookup_zip(zip_code)
    if place is None:
        raise RowError(f"no latitude/longitude and ZIP code {zip_code} is unknown")
    return place.latitude, place.longitude
