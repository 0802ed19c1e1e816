"""What a results row and the summary bar show: the presenters the results page, its
fragments and the live stream (contacts/views/live.py) all render from.

A row's values are worked out once in Python (DealerRow.cells), so the template only
reads a dict: a results page renders hundreds of rows (bench/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.conf import settings
from django.db.models import Count, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import localize

from contacts.directory import search_dealers
from contacts.geo import haversine_miles
from contacts.models import ACTIVE_STATUSES, AttemptStatus, ContactAttempt, Dealer, Phase, Search

DETAIL = "contacts/search_detail.html"
STATUS_LABELS = dict(AttemptStatus.choices)
PHASE_LABELS = dict(Phase.choices)
# Stands for the primary key in a reversed URL; <int:pk> takes only digits, so this
# string is in the reversed URL exactly where the pk goes.
PK_PLACEHOLDER = "2147483647"


@lru_cache(maxsize=64)
def url_pattern(name: str, extra: tuple[str, ...], urlconf: str, prefix: str) -> str:
    return reverse(name, urlconf=urlconf, args=[PK_PLACEHOLDER, *extra])


def pk_url(name: str, pk: int, *extra: str) -> str:
    """reverse(name, args=[pk, *extra]), but reversed once per URL name, not once per row.

    A results page links each of its hundreds of attempts up to three times, and each
    reverse() costs as much as rendering the rest of a row. The key holds everything
    the reversed URL depends on: the URLconf in force and the script prefix.
    """
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return url_pattern(name, extra, urlconf, get_script_prefix()).replace(PK_PLACEHOLDER, str(pk))


@dataclass
class DealerRow:
    dealer: Dealer
    distance_miles: float
    # The latest attempt for the search's customer and this dealer, from any search:
    # its progress while it runs, then its outcome ("last outcome").
    attempt: ContactAttempt | None

    @cached_property
    def cells(self) -> dict:
        """What the dealer-row partial shows, worked out once in Python.

        A template reads a ready value from a dict several times faster than it follows
        model attributes, calls properties and get_*_display, localises integers and
        reverses URLs, and a results page renders hundreds of rows (bench/README.md).
        """
        dealer, attempt = self.dealer, self.attempt
        cells = {
            "id": dealer.pk,  # to look up in selected_ids
            "pk": str(dealer.pk),  # an id is shown as is, never localised
            "name": dealer.name,
            "place": f"{dealer.city}, {dealer.state}" if dealer.city and dealer.state else dealer.city,
            "website": dealer.website,
            "distance": localize(self.distance_miles),
            "attempt": attempt is not None,
            "active": False,
            "selectable": bool(dealer.website),
            "contact_label": "Contact",
        }
        if attempt is None:
            return cells
        cells["detail_url"] = pk_url("attempt_detail", attempt.pk)
        if attempt.is_active:
            if attempt.status == AttemptStatus.QUEUED:
                phase = "Queued"
            else:
                phase = PHASE_LABELS.get(attempt.phase, attempt.phase) if attempt.phase else "Starting"
            cells.update(
                active=True,
                selectable=False,
                progress=str(attempt.progress_percent),
                phase=phase,
                cancel_requested=attempt.cancel_requested,
                cancel_url=pk_url("attempt_cancel", attempt.pk),
            )
            return cells
        cells.update(
            status=attempt.status,
            status_label=STATUS_LABELS.get(attempt.status, attempt.status),
            error=attempt.error,
            form_shot_url=pk_url("attempt_screenshot", attempt.pk, "form") if attempt.screenshot_form else "",
            result_shot_url=pk_url("attempt_screenshot", attempt.pk, "result") if attempt.screenshot_result else "",
            when=attempt.finished or attempt.created,
            search_id=attempt.search_id,
        )
        if attempt.status != AttemptStatus.CANCELLED:
            cells["contact_label"] = "Contact again"
        return cells


@dataclass
class OutcomeCount:
    status: str
    label: str
    count: int


@dataclass
class Summary:
    counts: list[OutcomeCount]  # only the statuses that occur, in lifecycle order
    total: int
    active: int

    @property
    def finished(self) -> int:
        return self.total - self.active

    @property
    def percent_finished(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 0


def summarize(attempts: QuerySet[ContactAttempt]) -> Summary:
    by_status = dict(attempts.order_by().values_list("status").annotate(n=Count("id")))
    counts = [
        OutcomeCount(status, label, by_status[status]) for status, label in AttemptStatus.choices if status in by_status
    ]
    active = sum(by_status.get(status, 0) for status in ACTIVE_STATUSES)
    return Summary(counts=counts, total=sum(by_status.values()), active=active)


def shown_attempts(search: Search) -> QuerySet[ContactAttempt]:
    """The attempts a results row can show: the customer's from any search, else this search's."""
    if search.customer_id:
        attempts = ContactAttempt.objects.filter(owner_id=search.owner_id, customer_id=search.customer_id)
    else:
        attempts = ContactAttempt.objects.filter(search=search)
    return attempts.order_by("created", "id")


def latest_attempts(search: Search) -> dict[int, ContactAttempt]:
    latest = {}
    for attempt in shown_attempts(search):
        latest[attempt.dealer_id] = attempt  # ordered oldest first, so the newest wins
    return latest


def dealer_rows(search: Search) -> list[DealerRow]:
    hits = search_dealers(search.latitude, search.longitude, search.radius_miles, make=search.make)
    latest = latest_attempts(search)
    return [DealerRow(hit.dealer, hit.distance_miles, latest.get(hit.dealer.pk)) for hit in hits]


def dealer_row(search: Search, dealer: Dealer, attempt: ContactAttempt | None = None) -> DealerRow:
    """One row on its own, for a live update or a fragment, as dealer_rows would show it."""
    distance = haversine_miles(search.latitude, search.longitude, dealer.latitude, dealer.longitude)
    if attempt is None:
        attempt = shown_attempts(search).filter(dealer=dealer).last()
    return DealerRow(dealer, round(distance, 1), attempt)


def row_context(search: Search, row: DealerRow) -> dict:
    return {"search": search, "row": row, "selected_ids": set()}


def summary_context(search: Search) -> dict:
    return {"search": search, "summary": summarize(search.attempts.all())}
