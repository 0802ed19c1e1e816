"""Contacting dealers from files, outside the web app: the customer from JSON, the dealers
from CSV, the outcomes to JSON. Used by `manage.py contact_dealers` and the engine bench.

Nothing here touches the database: the customer is an unsaved CustomerProfile, so its
message renders exactly as the web app renders it.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.csvfile import CsvFileError, parse
from contacts.engine import BrowserSession, answers, contact_dealer, outcomes
from contacts.engine.types import ContactResult, Customer, EngineOptions, Hooks
from contacts.geo import lookup_zip
from contacts.models import DEFAULT_MESSAGE_TEMPLATE, CustomerProfile, PreferredContact

CUSTOMER_HELP = """\
customer.json: {"first_name", "last_name", "email", "phone" (a US number, any format),
  "zip_code" (a known US ZIP; city and state come from it), "vehicle": {"year", "make",
  "model", "trim" (optional)}, "message" (optional; may use {dealer_name}, {vehicle},
  {first_name} ... and is rendered per dealer), "preferred_contact" (optional: email,
  phone or text; default email), "answers" (optional, each key optional, used only
  where a dealer's form requires an answer): {"current_customer": no|yes (default no),
  "trade_in": no|yes (default no), "financing": undecided|yes|lease|no (default
  undecided), "heard_about": internet|referral|advertising|drive_by|other (default
  internet), "best_time": any|morning|afternoon|evening (default any)}}
dealers.csv: a header row with at least the columns name and website. A row whose
  website is empty or does not start with http:// or https:// is not contacted: it is
  reported as failed with the reason."""

REQUIRED_CUSTOMER_KEYS = ("first_name", "last_name", "email", "phone", "zip_code", "vehicle")
REQUIRED_VEHICLE_KEYS = ("year", "make", "model")


class InputError(ValueError):
    """A problem with the files given, in one line a person can act on."""


@dataclass(frozen=True)
class Dealer:
    name: str
    website: str
    line: int  # in the CSV, for messages


@dataclass
class DealerOutcome:
    name: str
    website: str
    status: str
    error: str = ""
    elapsed_s: float = 0.0
    screenshots: list[str] = field(default_factory=list)
    fields: list[dict] = field(default_factory=list)
    final_url: str = ""

    def as_json(self) -> dict:
        return asdict(self)


# --- reading the inputs ---------------------------------------------------------------


def _read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise InputError(f"{what} file not found: {path}")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} file is not UTF-8 text: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} file {path}: {exc.strerror}") from None


def _text(data: dict, key: str, where: str = "") -> str:
    value = data.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"customer {where}{key!r} must be a non-empty string")
    return value.strip()


def load_customer(path: Path) -> CustomerProfile:
    """The customer in `path`, validated, as an unsaved profile (never stored)."""
    try:
        data = json.loads(_read_text(path, "customer"))
    except json.JSONDecodeError as exc:
        raise InputError(f"customer file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise InputError(f"customer file {path} must hold a JSON object")
    missing = [key for key in REQUIRED_CUSTOMER_KEYS if key not in data]
    if missing:
        raise InputError(f"customer file {path} is missing {', '.join(missing)}")
    vehicle = data["vehicle"]
    if not isinstance(vehicle, dict):
        raise InputError('customer "vehicle" must be an object with year, make and model')
    missing = [key for key in REQUIRED_VEHICLE_KEYS if key not in vehicle]
    if missing:
        raise InputError(f"customer vehicle is missing {', '.join(missing)}")

    email = _text(data, "email")
    try:
        validate_email(email)
    except ValidationError:
        raise InputError(f"customer email {email!r} is not a valid email address") from None
    phone = _text(data, "phone")
    try:
        parsed = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed) or parsed.country_code != 1:
        raise InputError(f"customer phone {phone!r} is not a valid US phone number")
    zip_code = _text(data, "zip_code")
    if not re.fullmatch(r"\d{5}", zip_code) or lookup_zip(zip_code) is None:
        raise InputError(f"customer zip_code {zip_code!r} is not a known 5-digit US ZIP code")
    year = _text(vehicle, "year", "vehicle ")
    if not year.isdigit() or not 1900 <= int(year) <= 2100:
        raise InputError(f"customer vehicle year {year!r} is not a year")
    preferred = data.get("preferred_contact") or PreferredContact.EMAIL
    if preferred not in PreferredContact.values:
        raise InputError(
            f"customer preferred_contact {preferred!r} must be one of {', '.join(PreferredContact.values)}"
        )
    message = data.get("message", DEFAULT_MESSAGE_TEMPLATE)
    if not isinstance(message, str) or not message.strip():
        raise InputError("customer message must be a non-empty string when given")
    from contacts.limits import message_too_long

    if problem := message_too_long(message):
        raise InputError(f"customer message: {problem}")
    trim = vehicle.get("trim") or ""
    if not isinstance(trim, str):
        raise InputError("customer vehicle trim must be a string")
    return CustomerProfile(
        **load_answers(data.get("answers", {})),
        first_name=_text(data, "first_name"),
        last_name=_text(data, "last_name"),
        email=email,
        phone=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        zip_code=zip_code,
        preferred_contact=preferred,
        vehicle_year=int(year),
        vehicle_make=_text(vehicle, "make", "vehicle "),
        vehicle_model=_text(vehicle, "model", "vehicle "),
        vehicle_trim=trim.strip(),
        message_template=message,
    )


def load_answers(given: object) -> dict[str, str]:
    """The customer's answers to dealers' questions: each one given, else its default,
    checked by the same rule as the profile form (answers.problem)."""
    if not isinstance(given, dict):
        raise InputError('customer "answers" must be an object, e.g. {"trade_in": "yes"}')
    unknown = sorted(set(given) - set(answers.CHOICES))
    if unknown:
        raise InputError(f"customer answers has unknown keys {', '.join(unknown)}; known: {', '.join(answers.CHOICES)}")
    chosen = {}
    for question, default in answers.DEFAULTS.items():
        value = given.get(question, default)
        value = value.strip().lower() if isinstance(value, str) else value
        problem = answers.problem(question, value)
        if problem:
            raise InputError(f"customer answers.{question} {given[question]!r}: {problem}")
        chosen[question] = value
    return chosen


def load_dealers(path: Path) -> list[Dealer]:
    text = _read_text(path, "dealers")
    try:
        table = parse(text)
    except CsvFileError as exc:
        raise InputError(f"dealers file {path} is not valid CSV at {exc}") from None
    if not table.header:
        raise InputError(f"dealers file {path} is empty; it needs a header with name and website") from None
    columns = [name.strip().lower() for name in table.header]
    missing = [name for name in ("name", "website") if name not in columns]
    if missing:
        raise InputError(
            f"dealers file {path} has no {' or '.join(missing)} column (header: {', '.join(table.header)})"
        )
    name_at, website_at = columns.index("name"), columns.index("website")
    dealers = []
    for row in table.rows:
        if row.problem:
            raise InputError(f"dealers file {path} is not valid CSV at line {row.line}: {row.problem}")
        cell = lambda at: row.cells[at].strip() if at < len(row.cells) else ""  # noqa: E731
        dealers.append(Dealer(name=cell(name_at), website=cell(website_at), line=row.line))
    if not dealers:
        raise InputError(f"dealers file {path} has no dealer rows")
    return dealers


def website_problem(website: str) -> str:
    """Why a dealer's website will not be contacted, or "" when it will be."""
    if not website:
        return "No website given, so it was not contacted."
    if not re.match(r"https?://[^/\s]+", website, re.I):
        return f"The website {website!r} is not an http:// or https:// address, so it was not contacted."
    return ""


def do_not_contact_problems(dealers: list[Dealer]) -> dict[int, str]:
    """CSV line -> why that dealer is not contacted: its site is on the do-not-contact list.

    The list lives in the database; a database not set up yet (a fresh clone before
    `migrate`) has no list, so nothing is refused for it.
    """
    from django.db import connection

    from contacts.models import DoNotContact
    from contacts.websites import WebsiteError, website_key

    if DoNotContact._meta.db_table not in connection.introspection.table_names():
        return {}
    keys: dict[int, str] = {}
    for dealer in dealers:
        try:
            key = website_key(dealer.website)
        except WebsiteError:
            continue
        if key:
            keys[dealer.line] = key
    listed = {e.domain: e for e in DoNotContact.objects.filter(domain__in=set(keys.values()))}
    return {
        line: f"Not contacted: {key} is on the do-not-contact list ({listed[key].reason})."
        for line, key in keys.items()
        if key in listed
    }


# --- running the batch -----------------------------------------------------------------


def engine_options_from_settings(
    timeout_s: float | None = None, dry_run: bool = False, min_dwell_s: float | None = None
) -> EngineOptions:
    """The worker's engine options (contacts.worker.engine_options), with the command's own."""
    from contacts.worker import engine_options

    overrides: dict = {"dry_run": dry_run}
    if timeout_s is not None:
        overrides["timeout_s"] = float(timeout_s)
    if min_dwell_s is not None:
        overrides["min_dwell_s"] = float(min_dwell_s)
    return engine_options(**overrides)


Progress = Callable[[int, Dealer, str], None]  # (position from 1, dealer, what happened)


def run_batch(
    jobs: list[tuple[Dealer, Customer]],
    options: EngineOptions,
    concurrency: int = 1,
    on_progress: Progress = lambda *_: None,
    stop: threading.Event | None = None,
) -> list[tuple[Dealer, ContactResult]]:
    """Contact every dealer with its customer, `concurrency` at a time, all in the
    process's one browser. Results come back in the order of `jobs`. Setting `stop`
    cancels whatever has not pressed submit yet."""
    stop = stop or threading.Event()
    pending: queue.Queue[int] = queue.Queue()
    for index in range(len(jobs)):
        pending.put(index)
    results: list[ContactResult | None] = [None] * len(jobs)

    session = BrowserSession(options)

    def work() -> None:
        # Each thread waits for one attempt at a time; the attempts overlap on the engine loop.
        while True:
            try:
                index = pending.get_nowait()
            except queue.Empty:
                return
            dealer, customer = jobs[index]
            position = index + 1
            if stop.is_set():
                results[index] = ContactResult(status=outcomes.CANCELLED, error="Stopped before it started.")
                continue
            hooks = Hooks(
                on_phase=lambda phase, p=position, d=dealer: on_progress(p, d, phase),
                should_stop=stop.is_set,
            )
            started = time.monotonic()
            try:
                result = contact_dealer(dealer.website, customer, session=session, options=options, hooks=hooks)
            except Exception as exc:  # one broken site must not end the batch
                result = ContactResult(
                    status=outcomes.FAILED,
                    error=f"The engine stopped with an error: {exc}".splitlines()[0],
                    elapsed_s=time.monotonic() - started,
                )
            results[index] = result
            on_progress(position, dealer, result.status + (f": {result.error}" if result.error else ""))

    workers = [threading.Thread(target=work, name=f"contact-worker-{n}", daemon=True)
               for n in range(min(concurrency, len(jobs)))]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            while worker.is_alive():
                worker.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for worker in workers:
            worker.join()
    finally:
        session.close()
    return [(jobs[i][0], result or ContactResult(status=outcomes.CANCELLED, error="Interrupted."))
            for i, result in enumerate(results)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "dealer"


def save_outcome(position: int, dealer: Dealer, result: ContactResult, screenshot_dir: Path) -> DealerOutcome:
    saved = []
    for kind, data in sorted(result.screenshots.items()):
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        target = screenshot_dir / f"{position:03d}-{slug(dealer.name or dealer.website)}-{kind}.jpg"
        target.write_bytes(data)
        saved.append(str(target))
    return DealerOutcome(
        name=dealer.name,
        website=dealer.website,
        status=result.status,
        error=result.error,
        elapsed_s=round(result.elapsed_s, 2),
        screenshots=saved,
        fields=[{"kind": f.kind, "label": f.label, "value": f.value} for f in result.fields],
        final_url=result.final_url,
    )
