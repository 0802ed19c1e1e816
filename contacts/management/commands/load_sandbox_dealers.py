"""Put the eight sandbox dealerships in the directory, pointing at this app's /sandbox/ sites."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from contacts.models import Dealer, DealerSource
from contacts.sandbox.sites import SITES, SandboxSite


def clean_base_url(value: str) -> str:
    base_url = value.strip().rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise CommandError(f"--base-url must be an http(s) address such as http://127.0.0.1:8000, not {value!r}")
    return base_url


def dealer_values(site: SandboxSite, base_url: str) -> dict[str, object]:
    return {
        "name": site.name,
        "website": f"{base_url}{site.path}",
        "website_key": f"sandbox:{site.slug}",
        "phone": site.phone,
        "street": site.street,
        "city": site.city,
        "state": site.state,
        "zip_code": site.zip_code,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "makes": Dealer.normalize_makes(list(site.makes)),
    }


class Command(BaseCommand):
    help = ("Add or update the eight sandbox dealerships (around ZIP 90210) whose websites this app serves "
            "under /sandbox/. Running it again changes nothing.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default=settings.SANDBOX_BASE_URL,
            help="where this app is reached, as the worker's browser sees it (default: SANDBOX_BASE_URL, "
                 f"now {settings.SANDBOX_BASE_URL})",
        )

    def handle(self, *args, base_url: str, **options) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The sandbox is off: set SANDBOX_ENABLED=1 (or DEBUG=1) to serve and load its dealers.")
        base_url = clean_base_url(base_url)
        created = updated = unchanged = 0
        with transaction.atomic():
            existing = {d.source_id: d for d in Dealer.objects.filter(source=DealerSource.SANDBOX)}
            for site in SITES:
                values = dealer_values(site, base_url)
                dealer = existing.get(site.slug)
                if dealer is None:
                    Dealer.objects.create(source=DealerSource.SANDBOX, source_id=site.slug, **values)
                    created += 1
                    continue
                changes = {name: value for name, value in values.items() if getattr(dealer, name) != value}
                if not changes:
                    unchanged += 1
                    continue
                Dealer.objects.filter(pk=dealer.pk).update(**changes, last_refreshed=timezone.now())
                updated += 1
        self.stdout.write(
            f"Sandbox dealers: {created} created, {updated} updated, {unchanged} unchanged; "
            f"websites at {base_url}/sandbox/"
        )
