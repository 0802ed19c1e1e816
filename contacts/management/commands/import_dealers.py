"""Import dealers from a CSV file into the shared directory (idempotent)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction

from contacts.directory import (
    CREATED,
    DATA_FIELDS,
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
from contacts.csvfile import CsvFileError, CsvTable, read_csv
from contacts.geo import lookup_zip
from contacts.models import Dealer, DealerSource
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
Running the same file again changes nothing. The whole file is checked first: if any
row has a problem, every one is reported with its line number and nothing is imported
(--skip-bad-rows imports the good rows instead). Cells are single-line; a stray quote,
a NUL byte or a value too long for its column is an error, never a half import."""

COLUMN_ALIASES = {"lat": "latitude", "lng": "longitude", "lon": "longitude", "zip_code": "zip", "postcode": "zip"}
KNOWN_COLUMNS = {"name", "website", "phone", "street", "city", "state", "zip", "latitude", "longitude", "makes",
                 "source_id"}
BATCH_SIZE = 500


class RowError(ValueError):
    pass


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


class Command(BaseCommand):
    help = "Import dealers from a CSV file into the directory (all or nothing; running it twice changes nothing)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = COLUMNS_HELP
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_file", metavar="FILE.csv", help="the CSV file to import")
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the good rows and report the bad ones (by default one bad row imports nothing)",
        )

    def handle(self, *args: Any, csv_file: str, skip_bad_rows: bool = False, **options: Any) -> None:
        if not Path(csv_file).is_file():
            raise CommandError(f"{csv_file}: no such file")
        try:
            table = read_csv(Path(csv_file))
        except CsvFileError as exc:
            raise CommandError(f"{csv_file}: {exc}; nothing was imported") from None
        tally = Tally()
        records = self.validate(table, csv_file, tally)
        if tally.skipped and not skip_bad_rows:
            raise CommandError(
                f"{csv_file}: {tally.skipped} row{'s' if tally.skipped != 1 else ''} with errors (listed above); "
                "nothing was imported. Fix them, or pass --skip-bad-rows to import the other rows."
            )
        try:
            with transaction.atomic():
                self.write(records, tally, skip_bad_rows)
        except AllOrNothing as refused:
            raise CommandError(f"{csv_file}: {refused}; nothing was imported.") from None
        except DatabaseError as exc:
            reason = " ".join(str(exc).split())[:300]
            raise CommandError(f"{csv_file}: the database refused the import ({reason}); nothing was imported") from None
        self.stdout.write(
            f"imported {tally.created} new, updated {tally.updated}, unchanged {tally.unchanged}, "
            f"skipped {tally.skipped} rows with errors"
        )

    def validate(self, table: CsvTable, csv_file: str, tally: Tally) -> list[tuple[int, DealerRecord]]:
        """Every row checked before anything is written; bad rows reported with their line."""
        if not table.header or not any(cell.strip() for cell in table.header):
            raise CommandError(f"{csv_file}: empty; the first row must name the columns (name, website, zip, …)")
        columns = [COLUMN_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in table.header]
        check_header(columns, csv_file)
        unknown = [c for c in columns if c and c not in KNOWN_COLUMNS]
        if unknown:
            self.stderr.write(f"ignoring unknown columns: {', '.join(unknown)}")

        seen_keys: dict[str, int] = {}
        seen_ids: dict[str, int] = {}
        records: list[tuple[int, DealerRecord]] = []
        for row in table.rows:
            try:
                if row.problem:
                    raise RowError(row.problem)
                if len(row.cells) > len(columns):
                    raise RowError(
                        f"{len(row.cells)} fields but the header names {len(columns)} (an unquoted comma?)"
                    )
                dealer = record_from_row({name: cell.strip() for name, cell in zip(columns, row.cells)})
                if dealer.key:
                    if dealer.key in seen_keys:
                        raise RowError(f"same website as line {seen_keys[dealer.key]} ({dealer.key})")
                    seen_keys[dealer.key] = row.line
                if dealer.source_id:
                    if dealer.source_id in seen_ids:
                        raise RowError(f"same source_id as line {seen_ids[dealer.source_id]} ({dealer.source_id})")
                    seen_ids[dealer.source_id] = row.line
            except ValueError as exc:  # RowError, WebsiteError and the range checks
                self.report(row.line, str(exc), tally)
                continue
            records.append((row.line, dealer))
        return records

    def write(self, records: list[tuple[int, DealerRecord]], tally: Tally, skip_bad_rows: bool) -> None:
        conflicts = 0
        for at in range(0, len(records), BATCH_SIZE):
            batch = records[at : at + BATCH_SIZE]
            for (row_line, _), result in zip(batch, upsert_dealers([dealer for _, dealer in batch])):
                if isinstance(result, DirectoryConflict):
                    self.report(row_line, str(result), tally)
                    conflicts += 1
                elif result == CREATED:
                    tally.created += 1
                elif result == UPDATED:
                    tally.updated += 1
                elif result == UNCHANGED:
                    tally.unchanged += 1
        if conflicts and not skip_bad_rows:
            raise AllOrNothing(
                f"{conflicts} row{'s' if conflicts != 1 else ''} conflicting with the directory (listed above)"
            )

    def report(self, row_line: int, reason: str, tally: Tally) -> None:
        tally.skipped += 1
        self.stderr.write(f"line {row_line}: {reason}")


class AllOrNothing(Exception):
    """Raised inside the import's transaction to undo every row written so far."""


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
    record = DealerRecord(
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
    check_lengths(record)
    return record


def check_lengths(record: DealerRecord) -> None:
    """Every value fits its column, as cleaned (PostgreSQL would refuse it mid-import)."""
    values = {name: getattr(record, name) for name in DATA_FIELDS}
    values.update(website_key=record.key or "", source_id=record.source_id)
    for name, value in values.items():
        limit = Dealer._meta.get_field(name).max_length
        if limit and isinstance(value, str) and len(value) > limit:
            shown = "website" if name == "website_key" else name
            raise RowError(f"{shown} is longer than {limit} characters")


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
