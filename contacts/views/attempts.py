"""One contact attempt: its page, cancelling it, and its screenshots.

Screenshots are served by one function, screenshot_response, for the owner here and for
staff in the admin.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import get_text_list
from django.views.decorators.http import require_GET, require_POST

from contacts import exports, services
from contacts.engine import outcomes
from contacts.models import AttemptStatus, CancelAnswer, ContactAttempt, Phase, Search
from contacts.results import (
    DETAIL,
    contact_page_url,
    dealer_row,
    form_screenshot_caption,
    result_screenshot_caption,
    row_context,
    summary_context,
)

SCREENSHOTS = {"form": "screenshot_form", "result": "screenshot_result"}


def report_cancelled(request: HttpRequest, answers: dict[ContactAttempt, str]) -> None:
    """Tell the user truthfully, row by row, what the cancel achieved."""
    by_answer: dict[str, list[ContactAttempt]] = {}
    for attempt, answer in answers.items():
        by_answer.setdefault(answer, []).append(attempt)

    def dealer_names(answer: str) -> str:
        return get_text_list([attempt.dealer.name for attempt in by_answer[answer]], "and")

    # Tagged so the results page can take them down once the batch has ended.
    if CancelAnswer.CANCELLED in by_answer:
        messages.success(request, f"Cancelled before it started, nothing sent: {dealer_names(CancelAnswer.CANCELLED)}.",
                         extra_tags="batch-notice")
    if CancelAnswer.STOPPING in by_answer:
        messages.success(
            request, f"Stopped before sending: {dealer_names(CancelAnswer.STOPPING)} (the form will not be submitted).",
            extra_tags="batch-notice",
        )
    if CancelAnswer.ALREADY_SENT in by_answer:
        messages.warning(request, f"Already sent, too late to cancel: {dealer_names(CancelAnswer.ALREADY_SENT)}.")
    if not set(by_answer) & {CancelAnswer.CANCELLED, CancelAnswer.STOPPING, CancelAnswer.ALREADY_SENT}:
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
    return render(request, "contacts/attempt_detail.html", attempt_detail_context(request, attempt))


def attempt_detail_context(request: HttpRequest, attempt: ContactAttempt) -> dict:
    history = (
        ContactAttempt.objects.filter(owner=request.user, customer=attempt.customer_id, dealer=attempt.dealer_id)
        .only("id", "status", "created", "finished", "error", "search_id")
        .order_by("-created", "-id")
    )
    ctx = {
        "attempt": attempt,
        "phases": phase_timings(attempt),
        "history": list(history),
        "form_caption": form_screenshot_caption(attempt),
        "result_caption": result_screenshot_caption(attempt),
        "contact_page": contact_page_url(attempt, attempt.dealer),
    }
    if attempt.status == AttemptStatus.AWAITING_REVIEW:
        from contacts.views.reviews import panel

        ctx["review"] = panel(attempt)
    return ctx


@login_required
@require_GET
def attempts_export(request: HttpRequest) -> HttpResponse:
    """Every attempt the user has made, as CSV (their whole history, oldest first)."""
    from contacts.views.searches import csv_response

    chunks = list(exports.to_csv(exports.ATTEMPTS_HEADER, exports.attempt_rows(request.user)))
    return csv_response(f"contact-attempts-{timezone.localtime().strftime('%Y%m%d-%H%M')}.csv", chunks)


@login_required
@require_GET
def attempt_screenshot(request: HttpRequest, pk: int, which: str) -> HttpResponse:
    attempt = get_object_or_404(ContactAttempt, pk=pk, owner=request.user)
    return screenshot_response(attempt, which)


def screenshot_response(attempt: ContactAttempt, which: str) -> HttpResponse:
    """One of an attempt's screenshots as an image, for a caller that has already checked
    who may see it (the owner in the app, staff in the admin); 404 if there is none."""
    if which not in SCREENSHOTS:
        raise Http404("There is no such screenshot.")
    screenshot = getattr(attempt, SCREENSHOTS[which])
    if not screenshot:
        raise Http404("This attempt has no such screenshot.")
    try:
        with screenshot.open("rb") as image:
            # A compressed image of tens of kilobytes: read whole, it is served without a
            # thread-bound file iterator under ASGI.
            content = image.read()
    except OSError:  # FileNotFoundError included
        raise Http404("The screenshot file is missing.") from None
    content_type = mimetypes.guess_type(screenshot.name)[0] or "application/octet-stream"
    response = HttpResponse(content, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Screenshots show a customer's details: never keep them in a shared cache.
    response["Cache-Control"] = "private, max-age=3600"
    return response
