"""Contact a list of dealers for one customer with the same engine the web app uses,
without the web app: no database rows, results in a JSON file."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.cli import (
    CUSTOMER_HELP,
    Dealer,
    DealerOutcome,
    InputError,
    do_not_contact_problems,
    engine_options_from_settings,
    load_customer,
    load_dealers,
    run_batch,
    save_outcome,
    website_problem,
)
from contacts.engine import outcomes
from contacts.engine.discovery import BrowserNotFound, find_browser_executable


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 1 and 3600 seconds, not {text}")
    return value


def dwell_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError(f"must be between 0 and 60 seconds, not {text}")
    return value


class Command(BaseCommand):
    help = "Contact the dealers in a CSV file for the customer in a JSON file; write the outcomes as JSON."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = CUSTOMER_HELP + (
            "\nresults.json: a list, one entry per CSV row in order, with name, website, status, "
            "error, elapsed_s, screenshots (JPEGs in <out>_screenshots/ next to it), fields "
            "[{kind, label, value}] and final_url."
        )
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customer", required=True, metavar="customer.json")
        parser.add_argument("--dealers", required=True, metavar="dealers.csv")
        parser.add_argument("--out", required=True, metavar="results.json")
        parser.add_argument("--concurrency", type=positive_int, default=1, metavar="N",
                            help="browsers working at once (default 1)")
        parser.add_argument("--timeout", type=positive_seconds, default=None, metavar="S",
                            help="seconds allowed per dealer (default: CONTACT_TIMEOUT_S)")
        parser.add_argument("--min-dwell", type=dwell_seconds, default=None, metavar="S",
                            help="seconds on each form page before submitting, counted from when it loaded; "
                                 "0 turns the human-pace wait off (default: CONTACT_MIN_DWELL_S)")
        parser.add_argument("--dry-run", action="store_true",
                            help="find and fill each form and take screenshots, but never submit")

    def handle(self, *args: Any, customer: str, dealers: str, out: str, concurrency: int,
               timeout: float | None, dry_run: bool, min_dwell: float | None = None, **options: Any) -> None:
        out_path = Path(out)
        if not out_path.parent.is_dir():
            raise CommandError(f"the folder for --out does not exist: {out_path.parent}")
        if out_path.is_dir():
            raise CommandError(f"--out must be a file name, not the folder {out_path}")
        try:
            profile = load_customer(Path(customer))
            dealer_rows = load_dealers(Path(dealers))
        except InputError as exc:
            raise CommandError(str(exc)) from None
        engine_options = engine_options_from_settings(timeout, dry_run=dry_run, min_dwell_s=min_dwell)
        try:
            find_browser_executable(engine_options.browser_executable, engine_options.headless)
        except BrowserNotFound as exc:
            raise CommandError(str(exc)) from None

        skipped = {d.line: website_problem(d.website) for d in dealer_rows if website_problem(d.website)}
        # Nobody contacts a dealer on the do-not-contact list, from the web app or from here.
        for line, reason in do_not_contact_problems([d for d in dealer_rows if d.line not in skipped]).items():
            skipped[line] = reason
        to_contact = [d for d in dealer_rows if d.line not in skipped]
        jobs = [(dealer, profile.to_engine_customer(dealer.name)) for dealer in to_contact]
        total = len(dealer_rows)
        positions = {d.line: n for n, d in enumerate(dealer_rows, start=1)}
        print_lock = threading.Lock()

        def progress(_job_position: int, dealer: Dealer, what: str) -> None:
            with print_lock:
                self.stdout.write(f"[{positions[dealer.line]}/{total}] {dealer.name or dealer.website}: {what}")

        mode = " (dry run: nothing will be submitted)" if dry_run else ""
        self.stdout.write(f"Contacting {len(jobs)} of {total} dealers with {concurrency} browser(s){mode}")
        for dealer in dealer_rows:
            if dealer.line in skipped:
                progress(0, dealer, f"{outcomes.FAILED}: {skipped[dealer.line]}")

        stop = threading.Event()
        results = dict((d.line, r) for d, r in run_batch(jobs, engine_options, concurrency, progress, stop))
        screenshot_dir = out_path.with_name(out_path.stem + "_screenshots")
        report: list[DealerOutcome] = []
        for position, dealer in enumerate(dealer_rows, start=1):
            if dealer.line in skipped:
                report.append(DealerOutcome(dealer.name, dealer.website, outcomes.FAILED, skipped[dealer.line]))
            else:
                report.append(save_outcome(position, dealer, results[dealer.line], screenshot_dir))
        out_path.write_text(json.dumps([entry.as_json() for entry in report], indent=2, ensure_ascii=False) + "\n")

        counts: dict[str, int] = {}
        for entry in report:
            counts[entry.status] = counts.get(entry.status, 0) + 1
        summary = ", ".join(f"{counts[s]} {s}" for s in outcomes.OUTCOMES if s in counts)
        self.stdout.write(f"Done: {summary}. Results in {out_path}")
        if stop.is_set():
            raise CommandError("interrupted: dealers not yet contacted are marked cancelled")
