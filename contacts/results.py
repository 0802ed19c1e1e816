"""What a search's results page shows: its snapshot of dealers, each dealer's latest
attempt, the counts, the filter, sort and page, and what one row says.

The results page, its fragments and the live stream (contacts/views/live.py) all
render from here. Counts are per dealer: each dealer in the search counts once, by
the attempt its row shows (the customer's latest with that dealer, from any search),
so the chips, the rows and the progress always agree; earlier attempts stay in the
attempt's history.

Speed (bench/README.md): filtering, sorting and counting read two narrow value lists
(the snapshot's dealer ids, names and distances, and the customer's attempts) and
work in Python; only the page of rows shown is loaded as models. A row's values are
worked out once in Python (DealerRow.cells), so the template only reads a dict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import localize

from contacts.directory import SEARCH_COLUMNS, search_dealers
from contacts import limits
from contacts.engine import outcomes
from contacts.geo import haversine_miles
from contacts.models import (
    ACTIVE_STATUSES,
    AttemptStatus,
    ContactAttempt,
    Dealer,
    Phase,
    Search,
    SearchResult,
)

DETAIL = "contacts/search_detail.html"
STATUS_LABELS = dict(AttemptStatus.choices)
PHASE_LABELS = dict(Phase.choices)
ROWS_PER_PAGE = 100

# Filter keys: a final outcome's own name, or one of these two.
IN_PROGRESS = "in_progress"
NOT_CONTACTED = "not_contacted"
FILTER_LABELS = {
    IN_PROGRESS: "In progress",
    AttemptStatus.AWAITING_REVIEW: STATUS_LABELS[AttemptStatus.AWAITING_REVIEW],
    **{status: STATUS_LABELS[status] for status in outcomes.OUTCOMES},
    NOT_CONTACTED: "Not contacted",
}
# Sorting by outcome puts what is still moving first, then the outcomes in lifecycle
# order, then the dealers not contacted yet.
OUTCOME_ORDER = {key: position for position, key in enumerate(FILTER_LABELS)}
SORTS = {"distance": "Distance", "name": "Name", "outcome": "Outcome", "time": "Most recently contacted"}
DEFAULT_SORT = "distance"

# Stands for the primary key in a reversed URL; <int:pk> takes only digits, so this
# string is in the reversed URL exactly where the pk goes.
PK_PLACEHOLDER = "2147483647"


@lru_cache(maxsize=64)
def url_pattern(name: str, extra: tuple[str, ...], urlconf: str, prefix: str) -> str:
    return reverse(name, urlconf=urlconf, args=[PK_PLACEHOLDER, *extra])


def pk_url(name: str, pk: int, *extra: str) -> str:
    """reverse(name, args=[pk, *extra]), but reversed once per URL name, not once per row.

    A results page links each of its rows' attempts up to three times, and each
    reverse() costs as much as rendering the rest of a row. The key holds everything
    the reversed URL depends on: the URLconf in force and the script prefix.
    """
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return url_pattern(name, extra, urlconf, get_script_prefix()).replace(PK_PLACEHOLDER, str(pk))


def filter_key(status: str) -> str:
    """The chip a row with this attempt status counts under ("" is no attempt)."""
    if not status:
        return NOT_CONTACTED
    if status in ACTIVE_STATUSES:
        return IN_PROGRESS
    return status


# --- The snapshot: the dealers a search found when it ran -----------------------------


@dataclass
class SnapshotChange:
    added: list[Dealer] = field(default_factory=list)
    removed: list[Dealer] = field(default_factory=list)
    moved: int = 0  # still found, at a new distance
    kept: int = 0

    def summary(self) -> str:
        from django.utils.text import get_text_list

        def some(dealers: list[Dealer]) -> str:
            names = [dealer.name for dealer in dealers[:5]]
            if len(dealers) > 5:
                names.append(f"{len(dealers) - 5} more")
            return get_text_list(names, "and")

        if not self.added and not self.removed:
            return f"Refreshed: the same {self.kept} dealer{'s' if self.kept != 1 else ''} as before, nothing changed."
        parts = []
        if self.added:
            parts.append(f"{len(self.added)} new dealer{'s' if len(self.added) != 1 else ''} ({some(self.added)})")
        if self.removed:
            noun = "dealer no longer matches" if len(self.removed) == 1 else "dealers no longer match"
            parts.append(f"{len(self.removed)} {noun} and {'was' if len(self.removed) == 1 else 'were'} "
                         f"removed ({some(self.removed)})")
        parts.append(f"{self.kept} unchanged")
        return "Refreshed: " + "; ".join(parts) + "."


def take_snapshot(search: Search) -> None:
    """Write down the dealers the search finds now, once; a refresh changes them later."""
    with transaction.atomic():
        locked = Search.objects.select_for_update().filter(pk=search.pk, results_taken__isnull=True)
        if not locked.exists():  # another request took it a moment ago
            search.results_taken = Search.objects.values_list("results_taken", flat=True).get(pk=search.pk)
            return
        hits = search_dealers(search.latitude, search.longitude, search.radius_miles, make=search.make)
        SearchResult.objects.bulk_create(
            [SearchResult(search=search, dealer=hit.dealer, distance_miles=hit.distance_miles) for hit in hits],
            batch_size=1000,
        )
        search.results_taken = timezone.now()
        Search.objects.filter(pk=search.pk).update(results_taken=search.results_taken)


def ensure_snapshot(search: Search) -> None:
    if search.results_taken is None:
        take_snapshot(search)


def refresh_snapshot(search: Search) -> SnapshotChange:
    """Search again and bring the snapshot up to date, saying what changed.

    A dealer that no longer matches is removed unless this search contacted it: a
    search never loses the record of whom it contacted.
    """
    ensure_snapshot(search)
    hits = {hit.dealer.pk: hit for hit in search_dealers(search.latitude, search.longitude, search.radius_miles,
                                                          make=search.make)}
    change = SnapshotChange()
    with transaction.atomic():
        current = {result.dealer_id: result for result in search.results.select_related("dealer")}
        contacted_here = set(search.attempts.values_list("dealer_id", flat=True))
        stale = []
        for dealer_id, result in current.items():
            hit = hits.get(dealer_id)
            if hit is None:
                if dealer_id in contacted_here:
                    change.kept += 1
                else:
                    stale.append(result.pk)
                    change.removed.append(result.dealer)
            elif hit.distance_miles != result.distance_miles:
                result.distance_miles = hit.distance_miles
                result.save(update_fields=["distance_miles"])
                change.moved += 1
                change.kept += 1
            else:
                change.kept += 1
        SearchResult.objects.filter(pk__in=stale).delete()
        new = [hit for dealer_id, hit in hits.items() if dealer_id not in current]
        SearchResult.objects.bulk_create(
            [SearchResult(search=search, dealer=hit.dealer, distance_miles=hit.distance_miles) for hit in new],
            batch_size=1000, ignore_conflicts=True,
        )
        change.added = [hit.dealer for hit in new]
        search.results_taken = timezone.now()
        Search.objects.filter(pk=search.pk).update(results_taken=search.results_taken)
    return change


# --- Each dealer with its latest attempt ------------------------------------------------


def shown_attempts(search: Search):
    """The attempts a results row can show: the customer's from any search, else this search's."""
    if search.customer_id:
        attempts = ContactAttempt.objects.filter(owner_id=search.owner_id, customer_id=search.customer_id)
    else:
        attempts = ContactAttempt.objects.filter(search=search)
    return attempts.order_by("created", "id")


class Latest(NamedTuple):
    """What filtering, sorting and counting need of a dealer's latest attempt. A tuple, and
    no datetimes: thousands are read per request, and converting timestamps costs most."""

    attempt_id: int
    status: str
    needs_follow_up: bool


class Results:
    """A search's dealers, nearest first, each with its latest attempt (if any).

    Two narrow queries whatever the page: the snapshot's (dealer id, distance) pairs in
    index order, and the customer's attempts as (dealer id, id, status, followed up).
    """

    def __init__(self, search: Search) -> None:
        ensure_snapshot(search)
        self.search = search
        self.nearest: list[tuple[int, float]] = list(
            search.results.order_by("distance_miles", "dealer_id").values_list("dealer_id", "distance_miles")
        )
        self.latest: dict[int, Latest] = {}
        values = shown_attempts(search).values_list("dealer_id", "id", "status", "followed_up")
        for dealer_id, attempt_id, status, followed_up in values.iterator(chunk_size=2000):
            # Ordered oldest first, so the newest wins.
            self.latest[dealer_id] = Latest(
                attempt_id, status, status in outcomes.FOLLOW_UP_OUTCOMES and not followed_up
            )

    def key(self, dealer_id: int) -> str:
        latest = self.latest.get(dealer_id)
        return filter_key(latest.status if latest else "")

    def dealer_ids(self, outcome: str = "", sort: str = DEFAULT_SORT) -> list[int]:
        """The dealers under this chip ("" for all) in this order."""
        if sort == "name":
            by_name = self.search.results.order_by(Lower("dealer__name"), "dealer_id")
            ids = list(by_name.values_list("dealer_id", flat=True))
        else:
            ids = [dealer_id for dealer_id, _distance in self.nearest]
        if outcome:
            ids = [dealer_id for dealer_id in ids if self.key(dealer_id) == outcome]
        if sort == "outcome":
            ids.sort(key=lambda dealer_id: OUTCOME_ORDER[self.key(dealer_id)])  # stable: nearest first within
        elif sort == "time":
            # The most recently contacted first (attempt ids grow with time); never contacted
            # last, nearest first.
            ids.sort(key=lambda dealer_id: -self.latest[dealer_id].attempt_id if dealer_id in self.latest else 0)
        return ids

    @cached_property
    def no_website(self) -> set[int]:
        """Dealers with no website: nothing to contact (usually few, so listed apart)."""
        return set(self.search.results.filter(dealer__website="").values_list("dealer_id", flat=True))

    def the_rest(self) -> list[int]:
        """Dealers "contact the rest" means, nearest first: never contacted, or only cancelled,
        and with a website."""
        return [dealer_id for dealer_id in self.dealer_ids()
                if self.key(dealer_id) in (NOT_CONTACTED, AttemptStatus.CANCELLED) and dealer_id not in self.no_website]

    def distance(self, dealer_id: int) -> float:
        return self.distances[dealer_id]

    @cached_property
    def distances(self) -> dict[int, float]:
        return dict(self.nearest)

    def summary(self) -> "Summary":
        by_key: dict[str, int] = {}
        follow_up = 0
        latest = self.latest
        for dealer_id, _distance in self.nearest:
            found = latest.get(dealer_id)
            key = filter_key(found.status) if found else NOT_CONTACTED
            by_key[key] = by_key.get(key, 0) + 1
            follow_up += bool(found and found.needs_follow_up)
        counts = [OutcomeCount(key, label, by_key[key]) for key, label in FILTER_LABELS.items() if by_key.get(key)]
        contacted = len(self.nearest) - by_key.get(NOT_CONTACTED, 0)
        uncontactable = sum(1 for dealer_id in self.no_website
                            if self.key(dealer_id) in (NOT_CONTACTED, AttemptStatus.CANCELLED))
        rest = by_key.get(NOT_CONTACTED, 0) + by_key.get(AttemptStatus.CANCELLED, 0) - uncontactable
        return Summary(len(self.nearest), counts, contacted, by_key.get(IN_PROGRESS, 0), follow_up, rest)


def latest_attempts(search: Search) -> dict[int, ContactAttempt]:
    """The latest attempt of each dealer, as models (for a handful of dealers at a time)."""
    latest = {}
    for attempt in shown_attempts(search):
        latest[attempt.dealer_id] = attempt
    return latest


# --- Counts ---------------------------------------------------------------------------


@dataclass
class OutcomeCount:
    key: str
    label: str
    count: int

    @property
    def status(self) -> str:  # the badge colour
        return "running" if self.key == IN_PROGRESS else self.key


@dataclass
class Summary:
    dealers: int  # in the snapshot
    counts: list[OutcomeCount]  # every chip with a count above zero, in FILTER_LABELS order
    contacted: int  # dealers whose row shows an attempt
    active: int  # of those, still queued or running
    needs_follow_up: int
    rest: int = 0  # what "contact the rest" would contact

    @property
    def total(self) -> int:
        return self.contacted

    @property
    def reviewing(self) -> int:
        """Filled forms waiting for their owner: not running, and not finished either."""
        return self.by_key.get(AttemptStatus.AWAITING_REVIEW, 0)

    @property
    def finished(self) -> int:
        return self.contacted - self.active - self.reviewing

    @property
    def percent_finished(self) -> int:
        return math.floor(100 * self.finished / self.contacted) if self.contacted else 0

    @property
    def done(self) -> bool:
        """Every contacted dealer of this search has a final outcome."""
        return self.contacted > 0 and self.active == 0 and self.reviewing == 0

    def count(self, key: str) -> int:
        return self.by_key.get(key, 0)

    @cached_property
    def by_key(self) -> dict[str, int]:
        """Every filter key with its count, zero included (for the template's arithmetic)."""
        return {**dict.fromkeys(FILTER_LABELS, 0), **{c.key: c.count for c in self.counts}}

    @property
    def outcome_counts(self) -> list[OutcomeCount]:
        return [c for c in self.counts if c.key not in (IN_PROGRESS, NOT_CONTACTED)]

    @property
    def sentence(self) -> str:
        """The state of the batch in words, for the status line and screen readers."""
        if not self.contacted:
            return "No dealer contacted from this search yet."
        parts = ", ".join(f"{c.count} {c.label.lower() if c.key != 'captcha' else 'CAPTCHA'}"
                          for c in self.outcome_counts)
        if self.active:
            return f"{self.finished} of {self.contacted} dealers finished" + (f": {parts}." if parts else ".")
        if self.reviewing:
            # Nothing is running, but those forms go nowhere until their owner says so.
            return f"Nothing running: {parts}. Send or skip each form waiting for your review."
        return f"All {self.contacted} contacted dealer{'s' if self.contacted != 1 else ''} finished: {parts}."

    @property
    def title(self) -> str:
        """What the browser tab says about the batch."""
        if not self.contacted:
            return ""
        if self.active or self.reviewing:
            return f"{self.finished}/{self.contacted} finished"
        return "✓ All finished"


# --- Filter, sort, page -----------------------------------------------------------------


@dataclass
class ResultsPage:
    rows: list["DealerRow"]
    number: int
    num_pages: int
    matching: int  # dealers passing the filter
    first: int  # 1-based position of the first row shown

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def clean_outcome(value: str) -> str:
    return value if value in FILTER_LABELS else ""


def clean_sort(value: str) -> str:
    return value if value in SORTS else DEFAULT_SORT


def clean_page(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 10**6 else 1


def results_page(results: Results, *, outcome: str = "", sort: str = DEFAULT_SORT, page: int = 1,
                 per_page: int = ROWS_PER_PAGE) -> ResultsPage:
    ordered = results.dealer_ids(outcome, sort)
    num_pages = max(1, math.ceil(len(ordered) / per_page))
    page = min(page, num_pages)
    start = (page - 1) * per_page
    shown = ordered[start:start + per_page]
    dealers = Dealer.objects.only(*SEARCH_COLUMNS).in_bulk(shown)
    attempt_ids = [results.latest[dealer_id].attempt_id for dealer_id in shown if dealer_id in results.latest]
    attempts = ContactAttempt.objects.in_bulk(attempt_ids) if attempt_ids else {}
    blocked = do_not_contact_reasons(list(dealers.values()))
    rows = []
    for dealer_id in shown:
        if dealer_id not in dealers:
            continue
        latest = results.latest.get(dealer_id)
        rows.append(DealerRow(dealers[dealer_id], results.distance(dealer_id),
                              attempts.get(latest.attempt_id) if latest else None, blocked.get(dealer_id, "")))
    return ResultsPage(rows, page, num_pages, len(ordered), start + 1)


# --- One row ----------------------------------------------------------------------------


def form_screenshot_caption(attempt: ContactAttempt) -> str:
    """What the "form" screenshot shows, which depends on how far the attempt got."""
    if attempt.status == AttemptStatus.CAPTCHA:
        return "The form as found, not filled in: a CAPTCHA guards it"
    if attempt.status == AttemptStatus.AWAITING_REVIEW:
        return "The form as filled in, not sent: waiting for your review"
    if not attempt.filled_fields:
        return "The page as found; nothing was filled in"
    if attempt.submit_pressed_at or attempt.status in (AttemptStatus.SUBMITTED, AttemptStatus.UNCONFIRMED):
        return "The form as filled in, before submitting"
    return "The form where filling stopped"


def result_screenshot_caption(attempt: ContactAttempt) -> str:
    return "The page after submitting"


def contact_page_url(attempt: ContactAttempt | None, dealer: Dealer) -> str:
    """Where a person following up by hand should go: the page the form was found on when
    the attempt stopped before submitting, else the dealer's website."""
    if attempt is not None and attempt.final_url and not attempt.submit_pressed_at and attempt.status in (
        AttemptStatus.CAPTCHA, AttemptStatus.FAILED
    ):
        return attempt.final_url
    return dealer.website


@dataclass
class DealerRow:
    dealer: Dealer
    distance_miles: float
    # The latest attempt for the search's customer and this dealer, from any search:
    # its progress while it runs, then its outcome ("last outcome").
    attempt: ContactAttempt | None
    # Why the dealer is on the do-not-contact list, when it is.
    do_not_contact: str = ""

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
            "selectable": bool(dealer.website) and not self.do_not_contact,
            "contact_label": "Contact",
            "do_not_contact": self.do_not_contact,
        }
        if attempt is None:
            return cells
        cells["detail_url"] = pk_url("attempt_detail", attempt.pk)
        if attempt.status == AttemptStatus.AWAITING_REVIEW:
            # Filled, not sent: the form and its values, with Send / Edit and send / Skip.
            from contacts.views.reviews import panel

            cells.update(selectable=False, status=attempt.status, error=attempt.error,
                         status_label=STATUS_LABELS[attempt.status], review=panel(attempt),
                         review_changed=bool(attempt.error))
            return cells
        if attempt.is_active:
            if attempt.waiting_until:
                phase = f"Waiting until {limits.when(attempt.waiting_until)} (dealer cooldown)"
            elif attempt.status == AttemptStatus.QUEUED:
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
        follow_up = ""
        if attempt.followed_up:
            follow_up = "done"
        elif attempt.status in outcomes.FOLLOW_UP_OUTCOMES:
            follow_up = "needed"
        cells.update(
            status=attempt.status,
            status_label=STATUS_LABELS.get(attempt.status, attempt.status),
            error=attempt.error,
            form_shot_url=pk_url("attempt_screenshot", attempt.pk, "form") if attempt.screenshot_form else "",
            form_shot_caption=form_screenshot_caption(attempt) if attempt.screenshot_form else "",
            result_shot_url=pk_url("attempt_screenshot", attempt.pk, "result") if attempt.screenshot_result else "",
            when=attempt.finished or attempt.created,
            search_id=attempt.search_id,
            follow_up=follow_up,
            followed_up_at=attempt.followed_up_at,
            follow_up_notes=attempt.follow_up_notes,
            contact_page=contact_page_url(attempt, dealer),
            # A CAPTCHA stopped it: the person may solve it in the live view (contacts.liveview).
            live_view_url=pk_url("live_view", attempt.pk) if attempt.status == outcomes.CAPTCHA else "",
        )
        if attempt.status != AttemptStatus.CANCELLED:
            cells["contact_label"] = "Contact again"
        free = limits.recontact_free_at(attempt)
        if free is not None:
            cells["cooldown_until"] = limits.when(free)
        return cells


def do_not_contact_reasons(dealers: list[Dealer]) -> dict[int, str]:
    """Dealer id -> why it is on the do-not-contact list, for the dealers that are."""
    from contacts.models import DoNotContact, dealer_keys

    entries = DoNotContact.blocked_keys([dealer for dealer in dealers if dealer.website])
    reasons = {}
    for dealer in dealers:
        entry = next((entries[key] for key in dealer_keys(dealer) if key in entries), None) if entries else None
        if entry is not None:
            reasons[dealer.pk] = f"On the do-not-contact list since {entry.added:%b %-d, %Y}: {entry.reason}"
    return reasons


def dealer_row(search: Search, dealer: Dealer, attempt: ContactAttempt | None = None) -> DealerRow:
    """One row on its own, for a live update or a fragment, as the results page would show it."""
    distance = haversine_miles(search.latitude, search.longitude, dealer.latitude, dealer.longitude)
    if attempt is None:
        attempt = shown_attempts(search).filter(dealer=dealer).last()
    return DealerRow(dealer, round(distance, 1), attempt, do_not_contact_reasons([dealer]).get(dealer.pk, ""))


def dealer_rows_for(search: Search, dealer_ids: list[int]) -> list[DealerRow]:
    """The rows of these dealers of the search, as the page shows them, in four queries
    whatever their number (for the live stream: dealer_row costs a query per row)."""
    distances = dict(search.results.filter(dealer_id__in=dealer_ids).values_list("dealer_id", "distance_miles"))
    dealers = Dealer.objects.only(*SEARCH_COLUMNS).in_bulk(dealer_ids)
    for dealer_id, dealer in dealers.items():
        if dealer_id not in distances:
            # Not in the snapshot (a search from before snapshots, taken when first shown):
            # measured as dealer_row does.
            distances[dealer_id] = round(
                haversine_miles(search.latitude, search.longitude, dealer.latitude, dealer.longitude), 1
            )
    latest: dict[int, ContactAttempt] = {}
    for attempt in shown_attempts(search).filter(dealer_id__in=list(dealers)):
        latest[attempt.dealer_id] = attempt  # oldest first, so the newest wins
    blocked = do_not_contact_reasons(list(dealers.values()))
    return [DealerRow(dealers[dealer_id], distances[dealer_id], latest.get(dealer_id), blocked.get(dealer_id, ""))
            for dealer_id in dealer_ids if dealer_id in dealers]


def row_context(search: Search, row: DealerRow) -> dict:
    return {"search": search, "row": row, "selected_ids": set()}


def summary_context(search: Search) -> dict:
    return {"search": search, "summary": Results(search).summary()}
