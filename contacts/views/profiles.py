"""Customer profiles: list, create, edit, delete, and live validation of one field.

Every query is scoped to request.user, so another user's profile is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from contacts.forms import ProfileForm
from contacts.models import ContactAttempt, CustomerProfile

FORM_TEMPLATE = "contacts/profile_form.html"


@login_required
def profile_list(request: HttpRequest) -> HttpResponse:
    profiles = CustomerProfile.objects.filter(owner=request.user).annotate(
        dealer_count=Count("attempts__dealer", distinct=True)
    )
    return render(request, "contacts/profile_list.html", {"profiles": profiles})


@login_required
def profile_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            profile = form.save(commit=False)
            profile.owner = request.user
            profile.save()
            messages.success(request, f"Saved customer {profile.full_name}.")
            return redirect("profile_list")
    else:
        form = ProfileForm()
    return render(request, FORM_TEMPLATE, {"form": form, "profile": None})


@login_required
def profile_edit(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(CustomerProfile, pk=pk, owner=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=profile)
        if form.is_valid():
            form.save()
            messages.success(request, f"Saved changes to {profile.full_name}.")
            return redirect("profile_list")
    else:
        form = ProfileForm(instance=profile)
    return render(request, FORM_TEMPLATE, {"form": form, "profile": profile})


@login_required
@require_POST
def profile_validate(request: HttpRequest) -> HttpResponse:
    """Validate the whole form, answer with one field's partial and the message preview.

    The page posts here as the user leaves each field; the field named in ?field= is
    swapped in place and the preview is updated out of band.
    """
    form = ProfileForm(request.POST)
    name = request.GET.get("field", "")
    if name not in form.fields:
        return HttpResponseBadRequest(f"There is no profile field named “{name}”.", content_type="text/plain")
    form.is_valid()
    context = {"form": form, "field": form[name]}
    field_html = render_to_string(f"{FORM_TEMPLATE}#field", context, request)
    preview_html = render_to_string(f"{FORM_TEMPLATE}#preview", {**context, "oob": True}, request)
    return HttpResponse(field_html + preview_html)


@login_required
@require_POST
def profile_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """First post shows what will be deleted; the post with confirm=yes deletes it."""
    profile = get_object_or_404(CustomerProfile, pk=pk, owner=request.user)
    active = profile.attempts.active().count()
    if active:
        messages.error(
            request,
            f"{profile.full_name} has {active} contact attempt{'s' if active != 1 else ''} in progress. "
            "Cancel them or let them finish, then delete the customer.",
        )
        return redirect("profile_edit", pk=profile.pk)
    if request.POST.get("confirm") != "yes":
        context = {"profile": profile, "attempt_count": profile.attempts.count(),
                   "search_count": profile.searches.count()}
        return render(request, "contacts/profile_confirm_delete.html", context)
    name = profile.full_name
    profile.delete()
    messages.success(request, f"Deleted customer {name} and their contact history.")
    return redirect("profile_list")


CONTACTED_PER_PAGE = 100


@login_required
@require_GET
def profile_contacted(request: HttpRequest, pk: int) -> HttpResponse:
    """Every dealer contacted for this customer, from any search: the latest attempt with
    each dealer (its outcome and date), and how many attempts there were in all."""
    profile = get_object_or_404(CustomerProfile, pk=pk, owner=request.user)
    attempts = ContactAttempt.objects.filter(owner=request.user, customer=profile)
    latest_ids = attempts.filter(dealer=OuterRef("dealer")).order_by("-created", "-id").values("id")[:1]
    latest = (
        attempts.filter(pk=Subquery(latest_ids))
        .annotate(attempt_count=Subquery(
            attempts.filter(dealer=OuterRef("dealer")).order_by().values("dealer").annotate(n=Count("id")).values("n")
        ))
        .select_related("dealer")
        .defer("filled_fields", "message", "phase_timings")
        .order_by("-created", "-id")
    )
    page = Paginator(latest, CONTACTED_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "contacts/profile_contacted.html", {"profile": profile, "page": page})
