"""Searching the dealer directory and contacting the dealers found.

Every page works as plain HTML forms (POST, then redirect); with HTMX the same views
answer with the fragments of contacts/search_detail.html that changed. What a row and
the summary show lives in contacts/results.py; attempt pages in contacts/views/attempts.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import get_text_list
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import services
from contacts.engine import outcomes
from contacts.forms import ContactDealersForm, SearchCustomerForm, SearchForm
from contacts.models import ACTIVE_STATUSES, AttemptStatus, ContactAttempt, CustomerProfile, Dealer, Search
from contacts.results import DETAIL, DealerRow, dealer_row, dealer_rows, latest_attempts, summarize
from contacts.views.attempts import report_cancelled

SEARCHES_PER_PAGE = 25
RECENT_SEARCHES = 5


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


@login_required
@require_POST
def search_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    search = get_object_or_404(Search, pk=pk, owner=request.user)
    attempts = list(search.attempts.filter(owner=request.user).active())
    services.cancel_attempts(attempts)
    report_cancelled(request, attempts)
    if request.htmx:
        return render_results_update(request, search)
    return redirect(search)


