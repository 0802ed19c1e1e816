"""Review before sending: Send, Edit and send, Skip one attempt, and Send all reviewed.

Every action is a POST by the attempt's owner (another user's attempt is a 404); the
rules live in contacts/review.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from contacts import review
from contacts.models import AttemptStatus, ContactAttempt, Search
from contacts.results import DETAIL, dealer_row, pk_url, row_context, summary_context


def panel(attempt: ContactAttempt, errors: Mapping[str, str] = {}, posted: Mapping[str, str] = {}) -> dict[str, Any]:
    """What review_panel.html shows for one attempt awaiting review."""
    return {
        "pk": attempt.pk,
        "dealer": attempt.dealer.name,
        "fields": review.panel_fields(attempt, errors, posted),
        "has_errors": bool(errors),
        "shot_url": pk_url("attempt_screenshot", attempt.pk, "form") if attempt.screenshot_form else "",
        "send_url": pk_url("attempt_review_send", attempt.pk),
        "edit_url": pk_url("attempt_review_edit", attempt.pk),
        "skip_url": pk_url("attempt_review_skip", attempt.pk),
    }


def owned_attempt(request: HttpRequest, pk: int) -> ContactAttempt:
    return get_object_or_404(ContactAttempt.objects.select_related("dealer"), pk=pk, owner=request.user)


def posted_search(request: HttpRequest) -> Search | None:
    """The results page the button was on, if it was on one of the user's."""
    search_id = request.POST.get("search", "")
    return Search.objects.filter(pk=search_id, owner=request.user).first() if search_id.isdigit() else None


def answer(request: HttpRequest, attempt: ContactAttempt, errors: Mapping[str, str] = {}) -> HttpResponse:
    """The row again (HTMX on a results page), else the page the button was on."""
    search = posted_search(request)
    if search is not None and request.htmx:
        row = dealer_row(search, attempt.dealer)
        if errors and row.attempt is not None and row.attempt.pk == attempt.pk:
            row.cells["review"] = panel(attempt, errors, request.POST)
        ctx = {**row_context(search, row), **summary_context(search), "oob": True,
               "has_profiles": request.user.profiles.exists()}
        return render(request, f"{DETAIL}#row-update", ctx)
    if errors:
        from contacts.views.attempts import attempt_detail_context

        ctx = {**attempt_detail_context(request, attempt), "review": panel(attempt, errors, request.POST)}
        return render(request, "contacts/attempt_detail.html", ctx)
    return redirect(search or attempt)


def not_waiting(request: HttpRequest, attempt: ContactAttempt) -> HttpResponse:
    messages.info(request, f"{attempt.dealer.name}: no longer waiting for review ({attempt.get_status_display()}).")
    return answer(request, attempt)


@login_required
@require_POST
def attempt_review_send(request: HttpRequest, pk: int, edited: bool = False) -> HttpResponse:
    """"Send" sends the values the engine chose; "Edit and send" the values posted."""
    attempt = owned_attempt(request, pk)
    if attempt.status != AttemptStatus.AWAITING_REVIEW:
        return not_waiting(request, attempt)
    values, errors = review.clean_values(attempt, request.POST if edited else {})
    if errors:
        return answer(request, attempt, errors)
    if not review.room_to_send(request.user.pk):
        messages.error(request, f"Not sent yet: you have {settings.ACTIVE_ATTEMPTS_PER_USER} attempts queued or "
                                "running at once, the most allowed. Send it again as they finish.")
        return answer(request, attempt)
    if not review.send(attempt, values):
        attempt.refresh_from_db()
        return not_waiting(request, attempt)
    messages.success(request, f"{attempt.dealer.name}: sending the reviewed form.", extra_tags="batch-notice")
    return answer(request, attempt)


@login_required
@require_POST
def attempt_review_skip(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = owned_attempt(request, pk)
    if not review.skip(attempt):
        attempt.refresh_from_db()
        return not_waiting(request, attempt)
    messages.info(request, f"{attempt.dealer.name}: skipped; nothing was sent.")
    return answer(request, attempt)


@login_required
@require_POST
def search_send_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    """Send every attempt of this search still awaiting review, as the engine filled it."""
    search = get_object_or_404(Search, pk=pk, owner=request.user)
    waiting = list(search.attempts.filter(owner=request.user, status=AttemptStatus.AWAITING_REVIEW))
    sent = review.send_all(waiting)
    if sent:
        messages.success(request, f"Sending {sent} reviewed form{'s' if sent != 1 else ''}.", extra_tags="batch-notice")
    elif not waiting:
        messages.info(request, "No form is waiting for review.")
    if len(waiting) > sent:
        messages.warning(request, f"{len(waiting) - sent} reviewed form{'s' if len(waiting) - sent != 1 else ''} "
                                  f"still waiting: at most {settings.ACTIVE_ATTEMPTS_PER_USER} attempts may be "
                                  "queued or running at once. Send them as these finish.")
    if request.htmx:
        from contacts.views.searches import render_results_update

        return render_results_update(request, search)
    return redirect(search)
