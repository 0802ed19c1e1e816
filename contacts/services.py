"""Starting and cancelling contact attempts: the rules shared by the views and the admin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts import limits
from contacts.models import (
    LIVE_STATUSES,
    AttemptStatus,
    CancelAnswer,
    ContactAttempt,
    CustomerProfile,
    Dealer,
    DoNotContact,
    Search,
    dealer_keys,
)

# A slot this close to now starts at once rather than through the schedule.
SCHEDULE_SLACK = timedelta(seconds=1)


@dataclass
class StartResult:
    created: list[ContactAttempt] = field(default_factory=list)
    # Contacted before for this customer; the user has to confirm "contact again".
    already_contacted: list[Dealer] = field(default_factory=list)
    # A queued or running attempt already exists: never two at once.
    in_progress: list[Dealer] = field(default_factory=list)
    no_website: list[Dealer] = field(default_factory=list)
    # On the do-not-contact list: never contacted, by anyone.
    do_not_contact: list[tuple[Dealer, DoNotContact]] = field(default_factory=list)
    # Contacted for this customer within RECONTACT_COOLDOWN_H: with when it may be again.
    cooling_down: list[tuple[Dealer, datetime]] = field(default_factory=list)
    # A per-user limit stopped the whole batch: nothing was queued.
    limit: limits.LimitReached | None = None
    # The customer's message breaks the length cap: nothing was queued.
    refused: str = ""

    @property
    def waiting(self) -> list[ContactAttempt]:
        """Queued attempts held back by their dealer's minimum interval."""
        return [attempt for attempt in self.created if attempt.not_before]
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
    override_cooldown: bool = False,
    review: bool = False,
) -> StartResult:
    """Queue one attempt per dealer that may be contacted, all or nothing, within the limits.

    Every entry point (web, admin, commands) comes through here, so every limit holds
    for all of them. The user's row is locked for the whole batch, so two web processes
    cannot both count the same free room; each dealer's row is locked (in id order) while
    its slot is worked out, so two users cannot take the same slot. Tasks are enqueued
    once the rows commit; a held-back attempt is scheduled for its slot. With `review`,
    each attempt stops at the filled form for its owner to check (contacts/review.py).
    """
    assert customer.owner_id == owner.pk, "customer belongs to someone else"
    dealers = list(dealers)
    result = StartResult()
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        now = timezone.now()
        previous = dict(
            ContactAttempt.objects.filter(customer=customer, dealer__in=dealers)
            .values_list("dealer_id", "status")
            .order_by("created")
        )
        blocked = DoNotContact.blocked_keys([d for d in dealers if d.website])
        to_start: list[Dealer] = []
        for dealer in dealers:
            status = previous.get(dealer.pk)
            if not dealer.website:
                result.no_website.append(dealer)
                continue
            entry = next((blocked[key] for key in dealer_keys(dealer) if key in blocked), None)
            if entry is not None:
                result.do_not_contact.append((dealer, entry))
                continue
            if status in LIVE_STATUSES:
                result.in_progress.append(dealer)
                continue
            if status is not None and not override_cooldown:
                free = limits.recontact_after(customer.pk, dealer)
                if free is not None:
                    result.cooling_down.append((dealer, free))
                    continue
            if status is not None and status != AttemptStatus.CANCELLED and not contact_again:
                result.already_contacted.append(dealer)
                continue
            to_start.append(dealer)
        if not to_start:
            return result
        result.refused = limits.message_too_long(customer.message_template) or ""
        if result.refused:
            return result
        result.limit = limits.check_user_limits(owner.pk, len(to_start), now)
        if result.limit:
            return result
        list(Dealer.objects.select_for_update().filter(pk__in=[d.pk for d in to_start]).order_by("pk"))
        for dealer in to_start:
            attempt = _queue(owner, customer, dealer, search, now, review)
            if attempt is None:
                # Another request queued the same dealer a moment ago.
                result.in_progress.append(dealer)
            else:
                result.created.append(attempt)
    # Enqueued once the rows have committed (the task reads them); the rows are the
    # outbox, so a queue that cannot be reached loses nothing.
    from contacts.tasks import enqueue_attempt

    for attempt in result.created:
        if not enqueue_attempt(attempt.pk, eta=attempt.not_before):
            result.waiting_for_queue.append(attempt)
    return result


def _queue(owner, customer: CustomerProfile, dealer: Dealer, search: Search | None, now: datetime,
           review: bool = False):
    slot = limits.dealer_next_slot(dealer, now)
    not_before = slot if slot > now + SCHEDULE_SLACK else None
    try:
        with transaction.atomic():
            attempt = ContactAttempt.objects.create(
                owner=owner,
                customer=customer,
                dealer=dealer,
                search=search,
                message=customer.render_message(dealer.name),
                created=now,
                not_before=not_before,
                review_first=review,
            )
            attempt.record_event("queued")
    except IntegrityError:
        return None
    return attempt


def hold_back(attempt_id: int) -> bool:
    """Checked by the worker before it runs an attempt: True when it must not run now.

    A dealer put on the do-not-contact list after the attempt was queued is never
    contacted: the attempt ends cancelled with the reason. One delivered before its
    dealer's slot, or while another attempt holds the dealer's interval (a late queue),
    goes back to the queue for the dealer's next turn.
    """
    from contacts.tasks import enqueue_attempt

    attempt = (
        ContactAttempt.objects.select_related("dealer").filter(pk=attempt_id, status=AttemptStatus.QUEUED).first()
    )
    if attempt is None:
        return False  # the claim decides (already running, cancelled or finished)
    entry = DoNotContact.entry_for(attempt.dealer)
    if entry is not None:
        if attempt.finish(
            AttemptStatus.CANCELLED,
            error=f"Not contacted: {entry.domain} is on the do-not-contact list ({entry.reason}).",
            only_from=(AttemptStatus.QUEUED,),
        ):
            attempt.record_event("finished")
        return True
    if attempt.not_before and attempt.not_before > timezone.now() + SCHEDULE_SLACK:
        enqueue_attempt(attempt.pk, eta=attempt.not_before)
        return True
    with transaction.atomic():
        Dealer.objects.select_for_update().filter(pk=attempt.dealer_id).first()
        now = timezone.now()
        turn = limits.dealer_turn(attempt, now)
        if turn is not None and turn > now + SCHEDULE_SLACK:
            # Another attempt reached this dealer within the interval (the queue ran late):
            # wait for the dealer's turn, and say so on the row.
            if ContactAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.QUEUED).update(not_before=turn):
                attempt.record_event("queued")
                enqueue_attempt(attempt.pk, eta=turn)
            return True
        # Let through: the mark tells a worker about to run another attempt to this dealer.
        ContactAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.QUEUED).update(not_before=now)
    return False


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
