"""CSV exports: one row per dealer of a search, and every attempt a user has made.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return, which
some strip first) as a formula; a dealer's name or a site's error message comes from
the web, so every such cell gets a leading apostrophe, which shows it as text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Iterable, Iterator

from django.utils import timezone

from contacts.models import ContactAttempt, Dealer, Search
from contacts.results import FILTER_LABELS, Results, contact_page_url, filter_key, shown_attempts

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def when(moment: datetime | None) -> str:
    """ISO 8601 in the user's zone, with its offset, so the zone is always stated."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def follow_up_state(attempt: ContactAttempt | None) -> str:
    if attempt is None:
        return ""
    if attempt.followed_up:
        return "followed up by staff"
    return "needs follow-up" if attempt.needs_follow_up else ""


def to_csv(header: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    """The CSV text, a chunk at a time; every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow([neutralise(cell) for cell in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


SEARCH_HEADER = [
    "dealer", "website", "city", "state", "phone", "distance_miles", "outcome", "reason", "queued_at",
    "finished_at", "form_url", "follow_up", "followed_up_at", "follow_up_note", "attempt_id",
]


def search_rows(search: Search) -> Iterator[list[object]]:
    """One row per dealer of the search, nearest first, with the outcome its row shows."""
    results = Results(search)
    # Joined to the snapshot rather than listed by id: no query with thousands of parameters.
    in_search = {"dealer__search_results__search": search}
    dealers = {d.pk: d for d in Dealer.objects.filter(search_results__search=search).iterator(chunk_size=2000)}
    attempts: dict[int, ContactAttempt] = {}
    for attempt in shown_attempts(search).filter(**in_search).defer("filled_fields", "message", "phase_timings") \
            .iterator(chunk_size=2000):
        attempts[attempt.dealer_id] = attempt  # oldest first, so the newest wins, as on the page
    for dealer_id, distance in results.nearest:
        dealer = dealers.get(dealer_id)
        if dealer is None:
            continue
        attempt = attempts.get(dealer_id)
        yield [
            dealer.name, dealer.website, dealer.city, dealer.state, dealer.phone, distance,
            FILTER_LABELS[filter_key(attempt.status if attempt else "")], attempt.error if attempt else "",
            when(attempt.created) if attempt else "", when(attempt.finished) if attempt else "",
            contact_page_url(attempt, dealer) if attempt else "",
            follow_up_state(attempt), when(attempt.followed_up_at) if attempt else "",
            attempt.follow_up_notes if attempt else "", attempt.pk if attempt else "",
        ]


ATTEMPTS_HEADER = [
    "attempt_id", "queued_at", "started_at", "finished_at", "customer", "dealer", "website", "outcome", "reason",
    "form_url", "final_url", "follow_up", "followed_up_at", "follow_up_note", "search_id",
]


def attempt_rows(owner) -> Iterator[list[object]]:
    """Every attempt the user has made, oldest first: the whole history, not only the latest."""
    attempts = (
        ContactAttempt.objects.filter(owner=owner)
        .select_related("customer", "dealer")
        .defer("filled_fields", "message", "phase_timings")
        .order_by("created", "id")
    )
    for attempt in attempts.iterator(chunk_size=1000):
        yield [
            attempt.pk, when(attempt.created), when(attempt.started), when(attempt.finished),
            attempt.customer.full_name, attempt.dealer.name, attempt.dealer.website,
            attempt.get_status_display(), attempt.error, contact_page_url(attempt, attempt.dealer),
            attempt.final_url, follow_up_state(attempt), when(attempt.followed_up_at), attempt.follow_up_notes,
            attempt.search_id or "",
        ]
