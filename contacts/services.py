"""Starting and cancelling contact attempts: the rules shared by the views and the admin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from django.db import IntegrityError, transaction

from contacts.models import AttemptStatus, CancelAnswer, ContactAttempt, CustomerProfile, Dealer, Search


@dataclass
class StartResult:
    created: list[ContactAttempt] = field(default_factory=list)
    # Contacted before for this customer; the user has to confirm "contact again".
    already_contacted: list[Dealer] = field(default_factory=list)
    # A queued or running attempt already exists: never two at once.
    in_progress: list[Dealer] = field(default_factory=list)
    no_website: list[Dealer] = field(default_factory=list)
    # Saved and queued, but the worker queue could not be reached: they start once it is
    # back (the reaper hands them to it), nothing else to do.
    waiting_for_queue: list[ContactAttempt] = field(default_factory=list)


def start_attempts(
    owner,
    customer: CustomerProfile,
    dealers: Iterable[Dealer],
    *,
    search: Search | None = None,
    contact_again: bool = False,
) -> StartResult:
    """Create one queued attempt per dealer and enqueue its task once the rows commit."""
    from contacts.tasks import enqueue_attempt

    assert customer.owner_id == owner.pk, "customer belongs to someone else"
    dealers = list(dealers)
    result = StartResult()
    previous = dict(
        ContactAttempt.objects.filter(customer=customer, dealer__in=dealers)
        .values_list("dealer_id", "status")
        .order_by("created")
    )
    for dealer in dealers:
        status = previous.get(dealer.pk)
        if not dealer.website:
            result.no_website.append(dealer)
            continue
        if status in (AttemptStatus.QUEUED, AttemptStatus.RUNNING):
            result.in_progress.append(dealer)
            continue
        if status is not None and status != AttemptStatus.CANCELLED and not contact_again:
            result.already_contacted.append(dealer)
            continue
        try:
            with transaction.atomic():
                attempt = ContactAttempt.objects.create(
                    owner=owner,
                    customer=customer,
                    dealer=dealer,
                    search=search,
                    message=customer.render_message(dealer.name),
                )
                attempt.record_event("queued")
        except IntegrityError:
            # Another request queued the same dealer a moment ago.
            result.in_progress.append(dealer)
            continue
        result.created.append(attempt)
        if not enqueue_attempt(attempt.pk):
            result.waiting_for_queue.append(attempt)
    return result


def cancel_attempts(attempts: Iterable[ContactAttempt]) -> dict[ContactAttempt, str]:
    """Cancel queued attempts at once and ask running ones to stop, unless they already
    pressed submit. Returns each attempt's CancelAnswer, to tell the user row by row."""
    answers: dict[ContactAttempt, str] = {}
    for attempt in attempts:
        answer = attempt.request_cancel()
        if answer == CancelAnswer.CANCELLED:
            attempt.record_event("finished")
        elif answer == CancelAnswer.STOPPING:
            attempt.record_event("cancel_requested")
        answers[attempt] = answer
    return answers
