"""Delete screenshots older than SCREENSHOT_RETENTION_DAYS (the worker also does this hourly)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from contacts.lifecycle import purge_old_screenshots


class Command(BaseCommand):
    help = "Delete the screenshots of attempts that finished more than SCREENSHOT_RETENTION_DAYS days ago."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, metavar="N",
                            help="keep N days instead of SCREENSHOT_RETENTION_DAYS (0 keeps everything)")

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        if days is not None and days < 0:
            from django.core.management.base import CommandError

            raise CommandError(f"--days must be 0 or more, not {days}")
        kept = settings.SCREENSHOT_RETENTION_DAYS if days is None else days
        if kept == 0:
            self.stdout.write("Retention is 0 days (keep forever): nothing deleted.")
            return
        count = purge_old_screenshots(kept)
        self.stdout.write(f"Deleted {count} screenshot{'s' if count != 1 else ''} older than {kept} days.")
