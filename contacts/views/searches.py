"""Searching the dealer directory, contacting the dealers found and following each attempt.

Every page works as plain HTML forms (POST, then redirect); with HTMX the same views
answer with the fragments of contacts/search_detail.html that changed.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import localize
from django.utils.text import get_text_list
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import services
from contacts.directory import search_dealers
from contacts.engine import outcomes
from contacts.forms import ContactDealersForm, SearchCustomerForm, SearchForm
from contacts.geo import haversine_miles
from contacts.models import (
    ACTIVE_STATUSES,
    AttemptStatus,
    CancelAnswer,
    ContactAttempt,
    CustomerProfile,
    Dealer,
    Phase,
    Search,
)

SEARCHES_PER_PAGE = 25
RECENT_SEARCHES = 5
SCREENSHOTS = {"form": "screenshot_form", "result": "screenshot_result"}
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


# --- What a results row and the summary bar show ------------------------------------


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


# --- Pages --------------------------------------------------------------------------


def with_attempt_counts(searches: QuerySet[Search]) -> QuerySet[Search]:
    return searches.select_related("customer").annotate(
        attempt_count=Count("attempts"),
        active_count=Count("attempts", filter=Q(attempts__status__in=ACTIVE_STATUSES)),
        submitted_count=Count("attempts", filter=Q(attempts__status=AttemptStatus.SUBMITTED)),
        follow_up_count=Count("attempts", filter=Q(attempts__status__in=outcomes.FOLLOW_UP_OUTCOMES)),
    ).order_by("-created", "-id")  # explicit: Meta.ordering does not apply to a grouped query


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    attempts = ContactAttempt.objects.filter(owner=request.user)
    ctx = {
        "recent_searches": with_attempt_counts(request.user.searches.all())[:RECENT_SEARCHES],
        "summary": summarize(attempts),
        "follow_up_count": attempts.needs_follow_up().count(),
        "profile_count": request.user.profiles.count(),
    }
    return render(request, "contacts/home.html", ctx)


@login_required
@require_GET
def search_list(request: HttpRequest) -> HttpResponse:
    searches = with_attempt_counts(request.user.searches.all())
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
            return redirect(search)
    else:
        form = SearchForm(owner=request.user, initial=initial_search(request))
    ctx = {"form": form, "has_profiles": request.user.profiles.exists()}
    return render(request, "contacts/search_create.html", ctx)


def initial_search(request: HttpRequest) -> dict:
    """Start from a customer's ZIP code and make: from ?customer=, or the only profile there is."""
    profiles = request.user.profiles.all()
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        customer = profiles.filter(pk=customer_id).first()
    else:
        customer = profiles.first() if len(profiles[:2]) == 1 else None
    if customer is None:
        return {}
    return {"customer": customer, "zip_code": customer.zip_code, "make": customer.vehicle_make}


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
    return render(request, DETAIL, results_context(request, search, customer_form, contact_form))


def render_results_update(
    request: HttpRequest,
    search: Search,
    *,
    customer_form: SearchCustomerForm | None = None,
    contact_form: ContactDealersForm | None = None,
    confirm: list[DealerRow] | None = None,
    confirm_customer: CustomerProfile | None = None,
) -> HttpResponse:
    """For HTMX: the rows, with the summary bar and the notices swapped out of band."""
    ctx = results_context(request, search, customer_form, contact_form)
    ctx.update(oob=True, confirm=confirm or [], confirm_customer=confirm_customer)
    return render(request, f"{DETAIL}#results-update", ctx)


def results_context(
    request: HttpRequest,
    search: Search,
    customer_form: SearchCustomerForm | None,
    contact_form: ContactDealersForm | None,
) -> dict:
    if customer_form is None:
        customer_form = SearchCustomerForm(instance=search, owner=request.user)
    return {
        "search": search,
        "rows": dealer_rows(search),
        "summary": summarize(search.attempts.all()),
        "customer_form": customer_form,
        "contact_form": contact_form,
        "selected_ids": contact_form.selected_ids() if contact_form else set(),
        "has_profiles": request.user.profiles.exists(),
    }


# --- Contacting and cancelling ------------------------------------------------------


@login_required
@require_POST
def search_contact(request: HttpRequest, pk: int) -> HttpResponse:
    search = Search.objects.filter(pk=pk, owner=request.user).select_related("customer").first()
    if search is None:
        # Say what happened rather than show a bare error page; still a 404, since
        # another user's search must look exactly like one that does not exist.
        return render(request, "contacts/search_missing.html", status=404)

    dealers = [row.dealer for row in dealer_rows(search)]
    form = ContactDealersForm(request.POST, owner=request.user, search=search, dealers=dealers)
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
    )
    report_started(request, customer, result)
    # Contacted before: shown with how that went, and contacted only once the user confirms.
    latest = latest_attempts(search)
    confirm = [dealer_row(search, dealer, latest.get(dealer.pk)) for dealer in result.already_contacted]
    if request.htmx:
        return render_results_update(request, search, confirm=confirm, confirm_customer=customer)
    if confirm:
        ctx = {"search": search, "confirm": confirm, "confirm_customer": customer}
        return render(request, "contacts/search_confirm.html", ctx)
    return redirect(search)


def names(dealers: list[Dealer]) -> str:
    return get_text_list([dealer.name for dealer in dealers], "and")


def report_started(request: HttpRequest, customer: CustomerProfile, result: services.StartResult) -> None:
    if result.created:
        count = len(result.created)
        noun = "dealer" if count == 1 else "dealers"
        messages.success(
            request, f"Contacting {count} {noun} for {customer}. Each row updates as its attempt progresses."
        )
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


@login_required
@require_POST
def search_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    search = get_object_or_404(Search, pk=pk, owner=request.user)
    attempts = list(search.attempts.filter(owner=request.user).active().select_related("dealer"))
    report_cancelled(request, services.cancel_attempts(attempts))
    if request.htmx:
        return render_results_update(request, search)
    return redirect(search)


def report_cancelled(request: HttpRequest, answers: dict[ContactAttempt, str]) -> None:
    """Tell the user truthfully, row by row, what the cancel achieved."""
    by_answer: dict[str, list[ContactAttempt]] = {}
    for attempt, answer in answers.items():
        by_answer.setdefault(answer, []).append(attempt)

    def dealer_names(answer: str) -> str:
        return get_text_list([attempt.dealer.name for attempt in by_answer[answer]], "and")

    told = False
    if CancelAnswer.CANCELLED in by_answer:
        messages.success(request, f"Cancelled before it started, nothing sent: {dealer_names(CancelAnswer.CANCELLED)}.")
        told = True
    if CancelAnswer.STOPPING in by_answer:
        messages.success(
            request, f"Stopped before sending: {dealer_names(CancelAnswer.STOPPING)} (the form will not be submitted)."
        )
        told = True
    if CancelAnswer.ALREADY_SENT in by_answer:
        messages.warning(
            request, f"Already sent, too late to cancel: {dealer_names(CancelAnswer.ALREADY_SENT)}."
        )
        told = True
    if not told:
        messages.info(request, "Nothing to cancel: every attempt has already finished.")


@login_required
@require_POST
def attempt_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(ContactAttempt.objects.select_related("dealer"), pk=pk, owner=request.user)
    report_cancelled(request, services.cancel_attempts([attempt]))
    # The results page the button was on, which need not be the search that started it.
    search_id = request.POST.get("search", "")
    search = Search.objects.filter(pk=search_id, owner=request.user).first() if search_id.isdigit() else None
    if search is None:
        return redirect(attempt)
    if request.htmx:
        ctx = {
            **row_context(search, dealer_row(search, attempt.dealer)),
            **summary_context(search),
            "has_profiles": request.user.profiles.exists(),
            "oob": True,
        }
        return render(request, f"{DETAIL}#row-update", ctx)
    return redirect(search)


# --- Attempts -----------------------------------------------------------------------


@dataclass
class PhaseTiming:
    label: str
    seconds: float


def phase_timings(attempt: ContactAttempt) -> list[PhaseTiming]:
    labels = dict(Phase.choices)
    known = [phase for phase in outcomes.PHASES if phase in attempt.phase_timings]
    # Keep anything the engine recorded beyond the known phases, after them.
    extra = [phase for phase in attempt.phase_timings if phase not in outcomes.PHASES]
    return [PhaseTiming(labels.get(phase, phase), attempt.phase_timings[phase]) for phase in known + extra]


@login_required
@require_GET
def attempt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(
        ContactAttempt.objects.select_related("dealer", "customer", "search"), pk=pk, owner=request.user
    )
    ctx = {"attempt": attempt, "phases": phase_timings(attempt)}
    return render(request, "contacts/attempt_detail.html", ctx)


@login_required
@require_GET
def attempt_screenshot(request: HttpRequest, pk: int, which: str) -> HttpResponse:
    if which not in SCREENSHOTS:
        raise Http404("There is no such screenshot.")
    attempt = get_object_or_404(ContactAttempt, pk=pk, owner=request.user)
    screenshot = getattr(attempt, SCREENSHOTS[which])
    if not screenshot:
        raise Http404("This attempt has no such screenshot.")
    try:
        with screenshot.open("rb") as image:
            # A compressed image of tens of kilobytes: read whole, it is served without a
            # thread-bound file iterator under ASGI.
            content_type = mimetypes.guess_type(screenshot.name)[0] or "application/octet-stream"
            response = HttpResponse(image.read(), content_type=content_type)
        response["X-Content-Type-Options"] = "nosniff"
    except FileNotFoundError:
        raise Http404("The screenshot file is missing.") from None
    # Screenshots show a customer's details: never keep them in a shared cache.
    response["Cache-Control"] = "private, max-age=3600"
    return response
