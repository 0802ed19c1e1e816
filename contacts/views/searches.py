"""Searching the dealer directory and contacting the dealers found.

Every page works as plain HTML forms (POST, then redirect); with HTMX the same views
answer with the fragments of contacts/search_detail.html that changed. What a row and
the summary show lives in contacts/results.py; attempt pages in contacts/views/attempts.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import get_text_list
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import exports, limits, services
from contacts.directory import SEARCH_COLUMNS
from contacts.engine import outcomes
from contacts.forms import ContactDealersForm, SearchCustomerForm, SearchForm
from contacts.models import (
    ACTIVE_STATUSES,
    AttemptStatus,
    ContactAttempt,
    CustomerProfile,
    Dealer,
    Event,
    Search,
    SearchResult,
)
from contacts.results import (
    DEFAULT_SORT,
    DETAIL,
    FILTER_LABELS,
    IN_PROGRESS,
    SORTS,
    DealerRow,
    OutcomeCount,
    Summary,
    clean_outcome,
    clean_page,
    clean_sort,
    dealer_row,
    Results,
    ensure_snapshot,
    filter_key,
    latest_attempts,
    refresh_snapshot,
    results_page,
    take_snapshot,
)
from contacts.views.attempts import report_cancelled

SEARCHES_PER_PAGE = 25
RECENT_SEARCHES = 5


# --- Pages --------------------------------------------------------------------------


def count_of(queryset: QuerySet) -> Subquery:
    """COUNT(*) of a queryset filtered on OuterRef, as a subquery (no joins that multiply rows)."""
    return Coalesce(
        Subquery(queryset.order_by().values("search").annotate(n=Count("dealer_id", distinct=True)).values("n")[:1],
                 output_field=IntegerField()),
        0,
    )


def with_attempt_counts(searches: QuerySet[Search]) -> QuerySet[Search]:
    """Each search with counts of dealers (each dealer once, however often contacted)."""
    # A dealer counts by its latest attempt (none newer for the same customer and dealer).
    newer = ContactAttempt.objects.filter(customer=OuterRef("customer"), dealer=OuterRef("dealer"), pk__gt=OuterRef("pk"))
    attempts = ContactAttempt.objects.filter(search=OuterRef("pk"))
    latest = attempts.filter(~Exists(newer))
    return searches.select_related("customer").annotate(
        dealer_count=count_of(SearchResult.objects.filter(search=OuterRef("pk"))),
        attempt_count=count_of(attempts),
        active_count=count_of(latest.filter(status__in=ACTIVE_STATUSES)),
        submitted_count=count_of(latest.filter(status=AttemptStatus.SUBMITTED)),
        follow_up_count=count_of(latest.needs_follow_up()),
    ).order_by("-created", "-id")


def summarize_attempts(attempts: QuerySet[ContactAttempt]) -> Summary:
    """Counts over many searches: each customer and dealer once, by its latest attempt."""
    latest: dict[tuple[int, int], str] = {}
    for customer_id, dealer_id, status in attempts.order_by("created", "id").values_list(
        "customer_id", "dealer_id", "status"
    ).iterator(chunk_size=2000):
        latest[customer_id, dealer_id] = status
    by_key: dict[str, int] = {}
    for status in latest.values():
        by_key[filter_key(status)] = by_key.get(filter_key(status), 0) + 1
    counts = [OutcomeCount(key, label, by_key[key]) for key, label in FILTER_LABELS.items() if by_key.get(key)]
    return Summary(len(latest), counts, len(latest), by_key.get(IN_PROGRESS, 0), 0)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    attempts = ContactAttempt.objects.filter(owner=request.user)
    ctx = {
        "recent_searches": with_attempt_counts(request.user.searches.all())[:RECENT_SEARCHES],
        "summary": summarize_attempts(attempts),
        "follow_up_count": attempts.needs_follow_up().count(),
        "profile_count": request.user.profiles.count(),
    }
    return render(request, "contacts/home.html", ctx)


@login_required
@require_GET
def search_list(request: HttpRequest) -> HttpResponse:
    searches = with_attempt_counts(request.user.searches.all())
    page = Paginator(searches, SEARCHES_PER_PAGE).get_page(request.GET.get("page"))
    legacy = [search for search in page.object_list if search.results_taken is None]
    if legacy:
        # Made before searches kept their dealers: written down once, then counted.
        for search in legacy:
            take_snapshot(search)
        page = Paginator(searches, SEARCHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "contacts/search_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def search_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SearchForm(request.POST, owner=request.user)
        if form.is_valid():
            search = form.save(commit=False)
            search.owner = request.user
            search.save()
            # The dealers found now are the search's: dealers imported later do not join it.
            take_snapshot(search)
            return redirect(search)
    else:
        form = SearchForm(owner=request.user, initial=initial_search(request))
    ctx = {"form": form, "has_profiles": request.user.profiles.exists()}
    return render(request, "contacts/search_create.html", ctx)


def initial_search(request: HttpRequest) -> dict:
    """Start from a customer's ZIP code: from ?customer=, or the only profile there is.

    Not from the customer's make: a dealer selling other makes may still be worth asking,
    and a make typed for the user hides most dealers without their noticing.
    """
    profiles = request.user.profiles.all()
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        customer = profiles.filter(pk=customer_id).first()
    else:
        customer = profiles.first() if len(profiles[:2]) == 1 else None
    if customer is None:
        return {}
    return {"customer": customer, "zip_code": customer.zip_code}


@dataclass
class View:
    """How the user is looking at the results: the filter, the sort and the page, from the query string."""

    outcome: str
    sort: str
    page: int

    @classmethod
    def from_request(cls, request: HttpRequest) -> "View":
        params = request.GET if request.method == "GET" else request.POST
        return cls(clean_outcome(params.get("outcome", "")), clean_sort(params.get("sort", "")),
                   clean_page(params.get("page")))

    def query(self, **changes: object) -> str:
        """The query string for this view with some parts changed (page 1 unless given)."""
        values = {"outcome": self.outcome, "sort": self.sort, "page": 1, **changes}
        params = {}
        if values["outcome"]:
            params["outcome"] = values["outcome"]
        if values["sort"] != DEFAULT_SORT:
            params["sort"] = values["sort"]
        if values["page"] != 1:
            params["page"] = values["page"]
        return "?" + urlencode(params) if params else "?"


@login_required
@require_http_methods(["GET", "POST"])
def search_detail(request: HttpRequest, pk: int) -> HttpResponse:
    search = get_object_or_404(Search.objects.select_related("customer"), pk=pk, owner=request.user)
    if request.method == "POST":
        # Choosing the customer: the rows then show that customer's last outcomes.
        customer_form = SearchCustomerForm(request.POST, instance=search, owner=request.user)
        if customer_form.is_valid():
            customer_form.save()
            if request.htmx:
                return render_results_update(request, search)
            return redirect(search)
        if request.htmx:
            return render_results_update(request, search, customer_form=customer_form)
    else:
        customer_form = None
    return render_results_page(request, search, customer_form=customer_form)


def render_results_page(
    request: HttpRequest,
    search: Search,
    *,
    customer_form: SearchCustomerForm | None = None,
    contact_form: ContactDealersForm | None = None,
) -> HttpResponse:
    # A cheap safety net beside the periodic reaper, so no row looks stuck.
    ContactAttempt.reap_stale()
    ContactAttempt.expire_reviews()
    return render(request, DETAIL, results_context(request, search, customer_form, contact_form))


def render_results_update(
    request: HttpRequest,
    search: Search,
    *,
    customer_form: SearchCustomerForm | None = None,
    contact_form: ContactDealersForm | None = None,
    confirm: list[DealerRow] | None = None,
    confirm_customer: CustomerProfile | None = None,
    confirm_mode: str = "",
) -> HttpResponse:
    """For HTMX: the rows, with the summary bar and the notices swapped out of band."""
    ctx = results_context(request, search, customer_form, contact_form)
    ctx.update(oob=True, confirm=confirm or [], confirm_customer=confirm_customer, confirm_mode=confirm_mode)
    return render(request, f"{DETAIL}#results-update", ctx)


@dataclass
class Chip:
    key: str
    label: str
    count: int
    url: str
    current: bool


def results_context(
    request: HttpRequest,
    search: Search,
    customer_form: SearchCustomerForm | None,
    contact_form: ContactDealersForm | None,
) -> dict:
    if customer_form is None:
        customer_form = SearchCustomerForm(instance=search, owner=request.user)
    view = View.from_request(request)
    # Read before the rows, so the live stream re-sends anything that changes after this.
    rendered_at_event = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    results = Results(search)
    summary = results.summary()
    page = results_page(results, outcome=view.outcome, sort=view.sort, page=view.page)
    chips = [Chip("", "All", summary.dealers, view.query(outcome=""), not view.outcome)]
    chips += [Chip(c.key, c.label, c.count, view.query(outcome=c.key), c.key == view.outcome) for c in summary.counts]
    if view.outcome and not summary.count(view.outcome):
        # The chosen filter matches nobody (any more): still show it, so it can be seen and left.
        chips.append(Chip(view.outcome, FILTER_LABELS[view.outcome], 0, view.query(outcome=view.outcome), True))
    return {
        "search": search,
        "rendered_at_event": rendered_at_event,
        "rows": page.rows,
        "page": page,
        "view": view,
        "chips": chips,
        "sorts": [(key, label, view.query(sort=key), key == view.sort) for key, label in SORTS.items()],
        "page_links": {
            "previous": view.query(page=page.number - 1) if page.has_previous else "",
            "next": view.query(page=page.number + 1) if page.has_next else "",
        },
        "summary": summary,
        "view_label": FILTER_LABELS.get(view.outcome, ""),
        "customer_form": customer_form,
        "contact_form": contact_form,
        "selected_ids": contact_form.selected_ids() if contact_form else set(),
        "has_profiles": request.user.profiles.exists(),
    }


# --- Contacting and cancelling ------------------------------------------------------


def posted_dealers(request: HttpRequest, search: Search) -> list[Dealer]:
    """The dealers a contact post names that are in this search's snapshot."""
    ids = {int(value) for key in ("dealer", "only") for value in request.POST.getlist(key) if value.isdigit()}
    return list(Dealer.objects.filter(pk__in=ids, search_results__search=search).only(*SEARCH_COLUMNS))


@login_required
@require_POST
def search_contact(request: HttpRequest, pk: int) -> HttpResponse:
    search = Search.objects.filter(pk=pk, owner=request.user).select_related("customer").first()
    if search is None:
        # Say what happened rather than show a bare error page; still a 404, since
        # another user's search must look exactly like one that does not exist.
        return render(request, "contacts/search_missing.html", status=404)

    ensure_snapshot(search)
    form = ContactDealersForm(request.POST, owner=request.user, search=search, dealers=posted_dealers(request, search))
    if not form.is_valid():
        if request.htmx:
            return render_results_update(request, search, contact_form=form)
        return render_results_page(request, search, contact_form=form)

    customer = form.cleaned_data["customer"]
    if search.customer_id != customer.pk:
        search.customer = customer
        search.save(update_fields=["customer"])
    result = services.start_attempts(
        request.user,
        customer,
        form.cleaned_data["dealers"],
        search=search,
        contact_again=form.cleaned_data["contact_again"],
        review=form.cleaned_data["mode"] == "review",
    )
    report_started(request, customer, result)
    # Contacted before: shown with how that went, and contacted only once the user confirms.
    latest = latest_attempts(search)
    confirm = [dealer_row(search, dealer, latest.get(dealer.pk)) for dealer in result.already_contacted]
    if request.htmx:
        return render_results_update(request, search, confirm=confirm, confirm_customer=customer,
                                     confirm_mode=form.cleaned_data["mode"])
    if confirm:
        ctx = {"search": search, "confirm": confirm, "confirm_customer": customer,
               "confirm_mode": form.cleaned_data["mode"]}
        return render(request, "contacts/search_confirm.html", ctx)
    view = View.from_request(request)
    return redirect(search.get_absolute_url() + view.query(page=view.page).rstrip("?"))


# What each bulk action contacts, from the outcome each dealer's row shows.
BULK_ACTIONS = {
    "retry_failed": "Retry failed",
    "contact_rest": "Contact the rest",
}


@login_required
@require_POST
def search_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """"Retry failed" (every dealer whose row shows failed, contacted again) and "contact the
    rest" (every dealer with a website not contacted yet, or only cancelled)."""
    search = get_object_or_404(Search.objects.select_related("customer"), pk=pk, owner=request.user)
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose “Retry failed” or “Contact the rest”.")
        return redirect(search)
    customer = search.customer
    if customer is None:
        messages.error(request, "Customer: choose whose enquiry to send before contacting dealers.")
        return redirect(search)
    results = Results(search)
    ids = results.dealer_ids(AttemptStatus.FAILED) if action == "retry_failed" else results.the_rest()
    dealers = list(Dealer.objects.filter(pk__in=ids).only(*SEARCH_COLUMNS).order_by())
    if not dealers:
        what = "failed" if action == "retry_failed" else "left to contact (every dealer with a website has an outcome)"
        messages.info(request, f"No dealer {what}.")
        return redirect(search)
    dealers.sort(key=lambda dealer: (results.distance(dealer.pk), dealer.pk))  # nearest first in the queue
    result = services.start_attempts(
        request.user, customer, dealers, search=search, contact_again=action == "retry_failed"
    )
    report_started(request, customer, result)
    if result.already_contacted:
        messages.info(request, f"Contacted before for {customer}, so left alone: {names(result.already_contacted)}.")
    if result.created:
        # Show the dealers now being contacted, so each can be watched to its outcome.
        return redirect(search.get_absolute_url() + "?outcome=" + IN_PROGRESS)
    return redirect(search)


@login_required
@require_POST
def search_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    """Search again: new dealers join, dealers that no longer match leave, and the page says which."""
    search = get_object_or_404(Search, pk=pk, owner=request.user)
    change = refresh_snapshot(search)
    messages.success(request, change.summary())
    return redirect(search)


def names(dealers: list[Dealer], most: int = 10) -> str:
    shown = [dealer.name for dealer in dealers[:most]]
    if len(dealers) > most:
        shown.append(f"{len(dealers) - most} more")
    return get_text_list(shown, "and")


def report_started(request: HttpRequest, customer: CustomerProfile, result: services.StartResult) -> None:
    if result.created:
        count = len(result.created)
        noun = "dealer" if count == 1 else "dealers"
        if result.created[0].review_first:
            text = (f"Filling the forms of {count} {noun} for {customer}. Nothing is sent until you review "
                    "each one: its row shows the filled form, with Send, Edit and send, and Skip.")
        else:
            text = f"Contacting {count} {noun} for {customer}. Each row updates as its attempt progresses."
        # The results page takes a batch notice down once the batch has ended.
        messages.success(request, text, extra_tags="batch-notice")
    if result.in_progress:
        messages.info(
            request, f"Already being contacted for {customer}, so not queued twice: {names(result.in_progress)}."
        )
    if result.no_website:
        messages.warning(request, f"No website on file, so there is no form to fill: {names(result.no_website)}.")
    if result.waiting_for_queue:
        count = len(result.waiting_for_queue)
        messages.warning(
            request,
            f"The worker queue cannot be reached right now. {count} {'attempt is' if count == 1 else 'attempts are'} "
            "saved and will start by themselves when it is back; nothing else to do.",
        )
    report_limits(request, customer, result)


def report_limits(request: HttpRequest, customer: CustomerProfile, result: services.StartResult) -> None:
    """Say which limit held back or stopped what, its value and when it frees up."""
    if result.limit:
        messages.error(request, result.limit.message)
    if result.refused:
        messages.error(request, f"Nothing was queued. {result.refused}")
    if result.waiting:
        interval = settings.DEALER_MIN_INTERVAL_S
        spacing = f"{interval // 60} minutes" if interval % 60 == 0 else f"{interval} seconds"
        waits = ", ".join(
            f"{attempt.dealer.name} until {limits.when(attempt.not_before)}" for attempt in result.waiting
        )
        messages.info(
            request,
            f"Waiting in the queue (dealer cooldown: at most one submission per dealer every {spacing}, "
            f"counting every user): {waits}.",
        )
    for dealer, free in result.cooling_down:
        messages.warning(
            request,
            f"Not contacted again: {dealer.name} was contacted for {customer} within the last "
            f"{settings.RECONTACT_COOLDOWN_H} hours (re-contact cooldown); it can be contacted again after "
            f"{limits.when(free)}.",
        )
    if result.do_not_contact:
        messages.warning(
            request,
            "Not contacted, on the do-not-contact list: "
            + "; ".join(f"{dealer.name} ({entry.reason})" for dealer, entry in result.do_not_contact)
            + ".",
        )


@login_required
@require_POST
def search_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    search = get_object_or_404(Search, pk=pk, owner=request.user)
    attempts = list(search.attempts.filter(owner=request.user).active().select_related("dealer"))
    report_cancelled(request, services.cancel_attempts(attempts))
    if request.htmx:
        return render_results_update(request, search)
    return redirect(search)




# --- Export and follow-up ------------------------------------------------------------


def csv_response(filename: str, chunks: list[str]) -> HttpResponse:
    # Whole, not streamed: the rows are read in the request (its zone, one consistent
    # read), and a sync iterator under ASGI would hold a thread per download anyway.
    response = HttpResponse("".join(chunks), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def search_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The search as CSV: one row per dealer, with the outcome its row shows."""
    search = get_object_or_404(Search.objects.select_related("customer"), pk=pk, owner=request.user)
    # Worked out before the response starts, in this request's time zone and transaction.
    chunks = list(exports.to_csv(exports.SEARCH_HEADER, exports.search_rows(search)))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(f"dealers-{search.zip_code}-{search.radius_miles}mi-search{search.pk}-{stamp}.csv", chunks)


@login_required
@require_GET
def search_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """The dealers of a search to follow up by hand (CAPTCHAs first): where each contact
    page is, what happened, whether staff have done it, and what to send."""
    search = get_object_or_404(Search.objects.select_related("customer"), pk=pk, owner=request.user)
    results = Results(search)
    chosen = [dealer_id for dealer_id in results.dealer_ids()
              if results.key(dealer_id) in outcomes.FOLLOW_UP_OUTCOMES]
    chosen.sort(key=lambda dealer_id: results.key(dealer_id) != AttemptStatus.CAPTCHA)  # stable: nearest first
    attempts = ContactAttempt.objects.select_related("dealer", "customer").in_bulk(
        [results.latest[dealer_id].attempt_id for dealer_id in chosen]
    )
    rows = [DealerRow(attempt.dealer, results.distance(dealer_id), attempt)
            for dealer_id in chosen if (attempt := attempts.get(results.latest[dealer_id].attempt_id))]
    return render(request, "contacts/search_follow_up.html", {"search": search, "rows": rows})
