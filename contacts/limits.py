"""Sending limits: how much one user may send, how often one dealer hears from us.

Each limit is a setting (see the README's configuration table). The checks here only
read; contacts.services.start_attempts calls them while it holds the locks that make
them hold across web processes (the user's row, then each dealer's row, in id order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from contacts.models import ACTIVE_STATUSES, AttemptStatus, ContactAttempt, Dealer

DAY = timedelta(hours=24)


def when(moment: datetime) -> str:
    """A time a person reads: "14:05" today, else "Dec 4, 14:05"."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return date_format(local, "H:i")
    return date_format(local, "M j, H:i")


@dataclass(frozen=True)
class LimitReached:
    """A per-user limit that stops a whole batch: which limit, its value, when it frees up."""

    name: str
    value: int
    used: int
    requested: int
    frees_up: str  # a sentence part: "at 14:05" or "as your attempts finish"

    @property
    def room(self) -> int:
        return max(0, self.value - self.used)

    @property
    def message(self) -> str:
        asked = f"{self.requested} more" if self.requested != 1 else "1 more"
        room = f"room for {self.room}" if self.room else "no room"
        return (
            f"Nothing was queued: the limit of {self.value} {self.name} is reached "
            f"({self.used} already, {asked} asked for, {room}). It frees up {self.frees_up}."
        )


def counted_today(owner_id: int, now: datetime) -> "list[datetime]":
    """When each of the user's attempts of the last 24 hours was created, oldest first.

    An attempt cancelled before it started sent nothing, so it does not count.
    """
    return list(
        ContactAttempt.objects.filter(owner_id=owner_id, created__gt=now - DAY)
        .exclude(status=AttemptStatus.CANCELLED, started__isnull=True)
        .order_by("created")
        .values_list("created", flat=True)
    )


def check_user_limits(owner_id: int, requested: int, now: datetime) -> LimitReached | None:
    """The first per-user limit that `requested` more attempts would break, or None."""
    if requested <= 0:
        return None
    active = ContactAttempt.objects.filter(owner_id=owner_id, status__in=ACTIVE_STATUSES).count()
    cap = settings.ACTIVE_ATTEMPTS_PER_USER
    if active + requested > cap:
        return LimitReached(
            "attempts queued or running at once", cap, active, requested,
            "as your queued and running attempts finish (or when you cancel some)",
        )
    today = counted_today(owner_id, now)
    cap = settings.ATTEMPTS_PER_USER_PER_DAY
    if len(today) + requested > cap:
        # The batch fits once enough of the oldest attempts are 24 hours old.
        must_expire = len(today) + requested - cap
        frees = (
            f"at {when(today[must_expire - 1] + DAY)}"
            if must_expire <= len(today)
            else "never for this many at once (ask for fewer)"
        )
        return LimitReached("attempts per 24 hours", cap, len(today), requested, frees)
    return None


def message_too_long(template: str) -> str | None:
    cap = settings.MESSAGE_MAX_CHARS
    if len(template) > cap:
        return (
            f"The message template is {len(template)} characters; the limit is {cap} "
            "(dealer forms cut longer messages off). Shorten it in the customer's profile."
        )
    return None


def recontact_after(customer_id: int, dealer: Dealer) -> datetime | None:
    """When this customer may be sent to this dealer again, if that is still in the future.

    Counts only attempts that reached the dealer (submit pressed, or an outcome that says
    so); one that failed before submitting, found no form or met a CAPTCHA sent nothing.
    """
    hours = settings.RECONTACT_COOLDOWN_H
    if not hours:
        return None
    sent = (
        ContactAttempt.objects.filter(customer_id=customer_id, dealer=dealer)
        .filter(Q(submit_pressed_at__isnull=False) | Q(status__in=[AttemptStatus.SUBMITTED, AttemptStatus.UNCONFIRMED]))
        .order_by("-created")
        .values_list("submit_pressed_at", "finished", "created")
        .first()
    )
    if sent is None:
        return None
    contacted = next(moment for moment in sent if moment is not None)
    free = contacted + timedelta(hours=hours)
    return free if free > timezone.now() else None


def recontact_free_at(attempt: ContactAttempt) -> datetime | None:
    """For a results row: when its dealer may be sent this customer again, if not yet.

    Works from the row's latest attempt alone (no query), the same rule as recontact_after.
    """
    hours = settings.RECONTACT_COOLDOWN_H
    sent = attempt.submit_pressed_at is not None or attempt.status in (AttemptStatus.SUBMITTED, AttemptStatus.UNCONFIRMED)
    if not hours or not sent:
        return None
    contacted = attempt.submit_pressed_at or attempt.finished or attempt.created
    free = contacted + timedelta(hours=hours)
    return free if free > timezone.now() else None


def dealer_next_slot(dealer: Dealer, now: datetime) -> datetime:
    """The earliest time a new attempt to this dealer may start, counting every user.

    Each queued or running attempt holds its slot (the latest of when it was queued, its
    not_before, when it started and when it pressed submit); a finished one counts from
    the moment it pressed submit. One that ended without submitting holds nothing. Call
    with the dealer's row locked.
    """
    interval = timedelta(seconds=settings.DEALER_MIN_INTERVAL_S)
    if not interval:
        return now
    recent = ContactAttempt.objects.filter(dealer=dealer).filter(
        Q(status__in=ACTIVE_STATUSES) | Q(submit_pressed_at__gt=now - interval)
    )
    latest = None
    fields = ("status", "created", "not_before", "started", "submit_pressed_at")
    for status, *moments in recent.values_list(*fields):
        pressed = moments[-1]
        slot = max(m for m in moments if m is not None) if status in ACTIVE_STATUSES else pressed
        if latest is None or slot > latest:
            latest = slot
    if latest is None:
        return now
    return max(now, latest + interval)


def dealer_turn(attempt: ContactAttempt, now: datetime) -> datetime | None:
    """For the worker, about to run `attempt`: None if its dealer is free now, else when it is.

    The queue may deliver late (a backlog), so the slot given at queueing time is not
    enough: this looks at what is really happening at the dealer. Another attempt holds
    it if it started, pressed submit, or was let through (not_before set to the moment it
    was) within the interval. Call with the dealer's row locked.
    """
    interval = timedelta(seconds=settings.DEALER_MIN_INTERVAL_S)
    if not interval:
        return None
    since = now - interval
    others = (
        ContactAttempt.objects.filter(dealer_id=attempt.dealer_id)
        .exclude(pk=attempt.pk)
        .filter(
            Q(status=AttemptStatus.RUNNING, started__gt=since)
            | Q(status=AttemptStatus.QUEUED, not_before__gt=since, not_before__lte=now)
            | Q(submit_pressed_at__gt=since)
        )
    )
    latest = None
    for moments in others.values_list("started", "not_before", "submit_pressed_at"):
        held = max((m for m in moments if m is not None and m <= now), default=None)
        if held is not None and (latest is None or held > latest):
            latest = held
    return latest + interval if latest is not None else None
