"""Searches, dealers, contact attempts and the event log that feeds the live view.

The ContactAttempt row, not the task queue, is the record of work: a worker claims a
queued attempt with a conditional update, and every attempt ends in a final status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from contacts.engine import answers, outcomes
from contacts.engine.types import Customer


class PreferredContact(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"


DEFAULT_MESSAGE_TEMPLATE = (
    "Hello {dealer_name},\n\n"
    "I'm interested in the {vehicle}. Could you send me your best out-the-door price "
    "and what you have available? I'm in {zip_code}.\n\n"
    "Thank you,\n{first_name} {last_name}"
)


class CustomerProfile(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profiles")
    first_name = models.CharField(max_length=60)
    last_name = models.CharField(max_length=60)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=20, help_text="Stored in E.164 form, e.g. +13105550123")
    zip_code = models.CharField("ZIP code", max_length=5)
    preferred_contact = models.CharField(
        max_length=10, choices=PreferredContact.choices, default=PreferredContact.EMAIL
    )
    vehicle_year = models.PositiveSmallIntegerField()
    vehicle_make = models.CharField(max_length=40)
    vehicle_model = models.CharField(max_length=60)
    vehicle_trim = models.CharField(max_length=60, blank=True)
    message_template = models.TextField(default=DEFAULT_MESSAGE_TEMPLATE)
    # Answers a dealer's form may require (engine/answers.py: one vocabulary for the form,
    # the CLI and the engine); used only where a form insists on an answer.
    current_customer = models.CharField(
        answers.QUESTIONS[answers.CURRENT_CUSTOMER], max_length=12,
        choices=answers.CHOICES[answers.CURRENT_CUSTOMER], default=answers.DEFAULTS[answers.CURRENT_CUSTOMER],
    )
    trade_in = models.CharField(
        answers.QUESTIONS[answers.TRADE_IN], max_length=12,
        choices=answers.CHOICES[answers.TRADE_IN], default=answers.DEFAULTS[answers.TRADE_IN],
    )
    financing = models.CharField(
        answers.QUESTIONS[answers.FINANCING], max_length=12,
        choices=answers.CHOICES[answers.FINANCING], default=answers.DEFAULTS[answers.FINANCING],
    )
    heard_about = models.CharField(
        answers.QUESTIONS[answers.HEARD_ABOUT], max_length=12,
        choices=answers.CHOICES[answers.HEARD_ABOUT], default=answers.DEFAULTS[answers.HEARD_ABOUT],
    )
    best_time = models.CharField(
        answers.QUESTIONS[answers.BEST_TIME], max_length=12,
        choices=answers.CHOICES[answers.BEST_TIME], default=answers.DEFAULTS[answers.BEST_TIME],
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    ANSWER_FIELDS = tuple(answers.CHOICES)

    class Meta:
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def vehicle(self) -> str:
        # A profile being typed may have no year yet: never "None".
        year = str(self.vehicle_year) if self.vehicle_year else ""
        parts = [year, self.vehicle_make, self.vehicle_model, self.vehicle_trim]
        return " ".join(p.strip() for p in parts if p and p.strip())

    @property
    def phone_display(self) -> str:
        import phonenumbers

        try:
            parsed = phonenumbers.parse(self.phone, "US")
        except phonenumbers.NumberParseException:
            return self.phone
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)

    def placeholders(self, dealer_name: str = "") -> dict[str, str]:
        return {
            "dealer_name": dealer_name or "there",
            "vehicle": self.vehicle,
            "year": str(self.vehicle_year),
            "make": self.vehicle_make,
            "model": self.vehicle_model,
            "trim": self.vehicle_trim,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "full_name": self.full_name,
            "email": self.email,
            "phone": self.phone_display,
            "zip_code": self.zip_code,
        }

    def render_message(self, dealer_name: str = "", *, blank: str | None = None) -> str:
        """Fill the message template; unknown placeholders are left as typed.

        blank: for a preview, what an empty value shows as ("[{name}]" marks where it goes).
        """
        values = self.placeholders(dealer_name)
        if blank is not None:
            values = {name: value or blank.format(name=name) for name, value in values.items()}

        class _Keep(dict):
            def __missing__(self, key: str) -> str:
                return "{" + key + "}"

        try:
            return self.message_template.format_map(_Keep(values))
        except (ValueError, IndexError):
            # A stray brace the user typed: send the text as written.
            return self.message_template

    def to_engine_customer(self, dealer_name: str = "") -> Customer:
        from contacts import geo

        place = geo.lookup_zip(self.zip_code)
        return Customer(
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            phone=self.phone,
            zip_code=self.zip_code,
            message=self.render_message(dealer_name),
            vehicle_year=str(self.vehicle_year),
            vehicle_make=self.vehicle_make,
            vehicle_model=self.vehicle_model,
            vehicle_trim=self.vehicle_trim,
            preferred_contact=self.preferred_contact,
            city=place.city if place else "",
            state=place.state if place else "",
            **{name: getattr(self, name) or answers.DEFAULTS[name] for name in self.ANSWER_FIELDS},
        )


class DealerSource(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    CSV = "csv", "CSV import"
    OSM = "osm", "OpenStreetMap"
    ADMIN = "admin", "Entered by staff"


class Dealer(models.Model):
    """A dealership in the shared directory (not owned by any one user)."""

    name = models.CharField(max_length=200)
    website = models.URLField(max_length=500, blank=True)
    # Dedupe key: the registrable domain of the website (for IP or localhost sites,
    # host:port plus path). Null when there is no website.
    website_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    phone = models.CharField(max_length=40, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    # Lower-case makes between commas, e.g. ",ford,lincoln,", so "sells Ford" is a
    # portable LIKE '%,ford,%' on SQLite and PostgreSQL alike.
    makes = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=10, choices=DealerSource.choices, default=DealerSource.ADMIN)
    source_id = models.CharField(max_length=100, blank=True)
    last_refreshed = models.DateTimeField(default=timezone.now)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["latitude", "longitude"], name="dealer_lat_lng")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~Q(source_id=""),
                name="dealer_unique_source_id",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def make_list(self) -> list[str]:
        return [m for m in self.makes.split(",") if m]

    @staticmethod
    def normalize_makes(makes: list[str] | str) -> str:
        if isinstance(makes, str):
            makes = makes.replace(";", ",").split(",")
        cleaned = sorted({m.strip().lower() for m in makes if m and m.strip()})
        return "," + ",".join(cleaned) + "," if cleaned else ""


class Search(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="searches")
    customer = models.ForeignKey(
        CustomerProfile, models.SET_NULL, null=True, blank=True, related_name="searches"
    )
    zip_code = models.CharField("ZIP code", max_length=5)
    radius_miles = models.PositiveSmallIntegerField(default=25)
    make = models.CharField(max_length=40, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    created = models.DateTimeField(default=timezone.now)
    # When the dealers found were written down as SearchResult rows: a search keeps
    # them, and only an explicit refresh changes them. Null for a search made before
    # snapshots, which takes one the first time it is shown.
    results_taken = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "searches"

    def __str__(self) -> str:
        suffix = f" ({self.make})" if self.make else ""
        return f"{self.zip_code} within {self.radius_miles} mi{suffix}"

    def get_absolute_url(self) -> str:
        return reverse("search_detail", args=[self.pk])

    @property
    def was_refreshed(self) -> bool:
        """Its dealers were looked up again after it ran (or first shown well after)."""
        return bool(self.results_taken and self.results_taken - self.created > timedelta(minutes=1))


class SearchResult(models.Model):
    """One dealer a search found, with its distance then: the search's snapshot."""

    search = models.ForeignKey(Search, models.CASCADE, related_name="results")
    dealer = models.ForeignKey(Dealer, models.CASCADE, related_name="search_results")
    distance_miles = models.FloatField()

    class Meta:
        ordering = ["distance_miles", "id"]
        # Unique, and the index a results page reads nearest first.
        constraints = [models.UniqueConstraint(fields=["search", "dealer"], name="search_result_unique_dealer")]
        indexes = [models.Index(fields=["search", "distance_miles", "dealer"], name="search_result_nearest")]

    def __str__(self) -> str:
        return f"{self.dealer_id} at {self.distance_miles} mi"


class Preferences(models.Model):
    """Per-user settings the app keeps: the time zone times are shown in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="preferences")
    # An IANA name such as "America/Los_Angeles", detected by the browser; empty means TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.time_zone or 'default zone'}"


class AttemptStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUBMITTED = outcomes.SUBMITTED, "Submitted"
    UNCONFIRMED = outcomes.UNCONFIRMED, "Unconfirmed"
    CAPTCHA = outcomes.CAPTCHA, "CAPTCHA"
    NO_FORM = outcomes.NO_FORM, "No form"
    FAILED = outcomes.FAILED, "Failed"
    CANCELLED = outcomes.CANCELLED, "Cancelled"
    # Filled, not sent: waits (holding no worker or browser) for its owner to send or skip it.
    AWAITING_REVIEW = outcomes.AWAITING_REVIEW, "Awaiting review"


class Phase(models.TextChoices):
    NONE = "", "—"
    OPENING = outcomes.OPENING, "Opening site"
    FINDING_FORM = outcomes.FINDING_FORM, "Finding form"
    FILLING = outcomes.FILLING, "Filling"
    SUBMITTING = outcomes.SUBMITTING, "Submitting"
    VERIFYING = outcomes.VERIFYING, "Verifying"


ACTIVE_STATUSES = (AttemptStatus.QUEUED, AttemptStatus.RUNNING)
FINAL_STATUSES = tuple(outcomes.OUTCOMES)
# A worker that died before the submit click left nothing sent, so the attempt is run
# again this many times before it ends failed.
MAX_AUTOMATIC_RETRIES = 1


class CancelAnswer(models.TextChoices):
    """What a cancel request achieved for one attempt, as the user is told."""

    CANCELLED = "cancelled", "Cancelled before it started."
    STOPPING = "stopping", "Will stop before sending."
    ALREADY_SENT = "already_sent", "Already sent: the form had been submitted."
    FINISHED = "finished", "Already finished."


# Not final: at most one of these per customer and dealer.
LIVE_STATUSES = (*ACTIVE_STATUSES, AttemptStatus.AWAITING_REVIEW)


class ContactAttemptQuerySet(models.QuerySet):
    def active(self) -> "ContactAttemptQuerySet":
        return self.filter(status__in=ACTIVE_STATUSES)

    def needs_follow_up(self) -> "ContactAttemptQuerySet":
        return self.filter(status__in=outcomes.FOLLOW_UP_OUTCOMES, followed_up=False)


def screenshot_path(instance: "ContactAttempt", filename: str) -> str:
    return f"screenshots/{instance.owner_id}/{instance.pk or 'new'}/{filename}"


class ContactAttempt(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="attempts")
    search = models.ForeignKey(Search, models.SET_NULL, null=True, blank=True, related_name="attempts")
    customer = models.ForeignKey(CustomerProfile, models.CASCADE, related_name="attempts")
    dealer = models.ForeignKey(Dealer, models.CASCADE, related_name="attempts")

    status = models.CharField(max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.QUEUED)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.NONE, blank=True)
    error = models.TextField(blank=True)
    phase_timings = models.JSONField(default=dict, blank=True)  # phase -> seconds
    filled_fields = models.JSONField(default=list, blank=True)  # [{kind, label, value}]
    message = models.TextField(blank=True)  # the message as rendered for this dealer
    final_url = models.URLField(max_length=1000, blank=True)
    # What the dealer's website runs on, as its own markup says (contacts.engine.platform);
    # empty when nothing recognisable was seen. Groups the dashboard's CAPTCHA rate.
    site_platform = models.CharField(max_length=40, blank=True)
    screenshot_form = models.FileField(upload_to=screenshot_path, blank=True)
    screenshot_result = models.FileField(upload_to=screenshot_path, blank=True)

    cancel_requested = models.BooleanField(default=False)
    # Set durably just before the one submit click; an attempt with this set is never
    # run again and, if its worker dies, ends "unconfirmed" rather than "failed".
    submit_pressed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    # How many times the reaper put the attempt back in the queue because its worker died
    # before the submit click (at most MAX_AUTOMATIC_RETRIES).
    retries = models.PositiveSmallIntegerField(default=0)
    # When its task was last handed to the queue; the reaper re-enqueues a queued attempt
    # whose task went missing (enqueue failed, queue storage lost) once this is old.
    enqueued_at = models.DateTimeField(null=True, blank=True)

    created = models.DateTimeField(default=timezone.now)
    # Held in the queue until then by the dealer's minimum interval between submissions
    # (contacts.limits); the row says "waiting until …" meanwhile.
    not_before = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    phase_started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    followed_up = models.BooleanField(default=False)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    follow_up_notes = models.TextField(blank=True)

    # Review before sending (contacts/review.py): run to the filled form, wait for the owner.
    review_first = models.BooleanField(default=False)
    # [{key, label, kind, type, value, options}] as the engine filled the form for review.
    review_fields = models.JSONField(default=list, blank=True)
    review_fingerprint = models.CharField(max_length=64, blank=True)  # engine/review.py
    approved_values = models.JSONField(default=dict, blank=True)  # field key -> value, once sent
    review_ready = models.DateTimeField(null=True, blank=True)  # since when it awaits review

    objects = ContactAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["status", "started"], name="attempt_status_started"),
            models.Index(fields=["customer", "dealer"], name="attempt_customer_dealer"),
        ]
        constraints = [
            # At most one live attempt per customer and dealer, whatever races the web
            # processes run into.
            models.UniqueConstraint(
                fields=["customer", "dealer"],
                condition=Q(status__in=["queued", "running", "awaiting_review"]),
                name="attempt_one_active_per_customer_dealer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} → {self.dealer} ({self.status})"

    # --- state -------------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def needs_follow_up(self) -> bool:
        return self.status in outcomes.FOLLOW_UP_OUTCOMES and not self.followed_up

    @property
    def waiting_until(self):
        """When a queued attempt held back by its dealer's minimum interval may start."""
        if self.status == AttemptStatus.QUEUED and self.not_before and self.not_before > timezone.now():
            return self.not_before
        return None

    @property
    def elapsed_s(self) -> float | None:
        if not self.started:
            return None
        end = self.finished or timezone.now()
        return round((end - self.started).total_seconds(), 1)

    @property
    def progress_percent(self) -> int:
        """How far along the attempt is, for the row's progress bar."""
        if self.is_final:
            return 100
        if self.status == AttemptStatus.QUEUED:
            return 3
        if self.phase in outcomes.PHASES:
            return 10 + int(85 * outcomes.PHASES.index(self.phase) / len(outcomes.PHASES))
        return 6

    # --- transitions ------------------------------------------------------------
    # Each is a conditional UPDATE so that two workers, a cancel click and the reaper
    # can race without any of them overwriting a final status.

    @classmethod
    def claim(cls, attempt_id: int, worker: str) -> bool:
        """Move a queued attempt to running for this worker; False if someone else has it."""
        now = timezone.now()
        claimed = cls.objects.filter(
            pk=attempt_id, status=AttemptStatus.QUEUED, cancel_requested=False
        ).update(status=AttemptStatus.RUNNING, claimed_by=worker[:100], started=now, phase_started=now)
        return claimed == 1

    def set_phase(self, phase: str, timings: dict[str, float] | None = None) -> bool:
        now = timezone.now()
        changes: dict[str, Any] = {"phase": phase, "phase_started": now}
        if timings is not None:
            changes["phase_timings"] = timings
        updated = ContactAttempt.objects.filter(pk=self.pk, status=AttemptStatus.RUNNING).update(**changes)
        if updated:
            self.phase, self.phase_started = phase, now
            if timings is not None:
                self.phase_timings = timings
        return bool(updated)

    def mark_submit_pressed(self, worker: str | None = None) -> bool:
        """Record the click before it happens, only if no cancel came first; True to click.

        One conditional UPDATE decides the race with request_cancel: whichever writes
        first wins, and the loser sees it (the cancel is refused as "already sent", or
        the click is skipped and the attempt ends cancelled). A worker whose attempt the
        reaper took back (claimed_by changed) may not click either.
        """
        now = timezone.now()
        mine = ContactAttempt.objects.filter(
            pk=self.pk, status=AttemptStatus.RUNNING, cancel_requested=False, submit_pressed_at__isnull=True
        )
        if worker is not None:
            mine = mine.filter(claimed_by=worker[:100])
        if not mine.update(submit_pressed_at=now):
            return False
        self.submit_pressed_at = now
        return True

    def mark_live_submit_pressed(self) -> bool:
        """The live view's send (a person solved the CAPTCHA), recorded before it happens,
        once: the attempt stopped at its CAPTCHA and nothing was sent from it yet."""
        now = timezone.now()
        if not ContactAttempt.objects.filter(
            pk=self.pk, status=AttemptStatus.CAPTCHA, submit_pressed_at__isnull=True
        ).update(submit_pressed_at=now):
            return False
        self.submit_pressed_at = now
        return True

    def finish(
        self,
        status: str,
        *,
        error: str = "",
        only_from: tuple[str, ...] = ACTIVE_STATUSES,
        expect: dict[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        """Record a final outcome unless the attempt already has one (or, with expect,
        unless its row no longer matches those values: another worker's claim)."""
        assert status in FINAL_STATUSES, status
        now = timezone.now()
        changes: dict[str, Any] = {"status": status, "error": error[:2000], "finished": now, **fields}
        updated = ContactAttempt.objects.filter(pk=self.pk, status__in=only_from, **(expect or {})).update(**changes)
        if updated:
            for name, value in changes.items():
                setattr(self, name, value)
        return bool(updated)

    def request_cancel(self) -> str:
        """Cancel at once if still queued or waiting for review; if running, ask the worker
        to stop, but only before its submit click (the same row decides both). Returns a
        CancelAnswer."""
        if self.finish(
            AttemptStatus.CANCELLED,
            error="Cancelled at review; nothing was sent.",
            only_from=(AttemptStatus.AWAITING_REVIEW,),
            cancel_requested=True,
        ):
            return CancelAnswer.CANCELLED
        if self.finish(
            AttemptStatus.CANCELLED,
            error="Cancelled before it started.",
            only_from=(AttemptStatus.QUEUED,),
            cancel_requested=True,
        ):
            return CancelAnswer.CANCELLED
        updated = ContactAttempt.objects.filter(
            pk=self.pk, status=AttemptStatus.RUNNING, submit_pressed_at__isnull=True
        ).update(cancel_requested=True)
        if updated:
            self.cancel_requested = True
            self.status = AttemptStatus.RUNNING
            return CancelAnswer.STOPPING
        self.refresh_from_db(fields=["status", "submit_pressed_at", "cancel_requested", "error", "finished"])
        if self.status == AttemptStatus.QUEUED:  # re-queued by the reaper a moment ago: try again
            return self.request_cancel()
        if self.submit_pressed_at is not None:
            return CancelAnswer.ALREADY_SENT
        return CancelAnswer.STOPPING if self.cancel_requested and self.is_active else CancelAnswer.FINISHED

    # --- review before sending --------------------------------------------------------

    def await_review(self, *, error: str, review_fields: list, review_fingerprint: str, **fields: Any) -> bool:
        """A running reviewed attempt stops at its filled form: it frees its worker and waits."""
        now = timezone.now()
        changes: dict[str, Any] = {
            "status": AttemptStatus.AWAITING_REVIEW, "error": error[:2000], "review_fields": review_fields,
            "review_fingerprint": review_fingerprint, "review_ready": now, "phase": Phase.NONE,
            "claimed_by": "", **fields,
        }
        updated = ContactAttempt.objects.filter(
            pk=self.pk, status=AttemptStatus.RUNNING, cancel_requested=False
        ).update(**changes)
        if updated:
            for name, value in changes.items():
                setattr(self, name, value)
        return bool(updated)

    def approve_for_sending(self, values: dict[str, str]) -> bool:
        """Queue an attempt awaiting review again, to be sent with these values."""
        updated = ContactAttempt.objects.filter(pk=self.pk, status=AttemptStatus.AWAITING_REVIEW).update(
            status=AttemptStatus.QUEUED, approved_values=values, error="", not_before=None
        )
        if updated:
            self.status, self.approved_values, self.error, self.not_before = AttemptStatus.QUEUED, values, "", None
        return bool(updated)

    @classmethod
    def expire_reviews(cls, now=None) -> list["ContactAttempt"]:
        """End reviews left waiting longer than REVIEW_EXPIRY_H as cancelled."""
        now = now or timezone.now()
        hours = settings.REVIEW_EXPIRY_H
        expired = []
        for attempt in cls.objects.filter(
            status=AttemptStatus.AWAITING_REVIEW, review_ready__lt=now - timedelta(hours=hours)
        ):
            if attempt.finish(
                AttemptStatus.CANCELLED,
                error=f"Review expired: not sent within {hours} hours; nothing was sent.",
                only_from=(AttemptStatus.AWAITING_REVIEW,),
            ):
                attempt.record_event("finished")
                expired.append(attempt)
        return expired

    def mark_followed_up(self, note: str = "") -> None:
        self.followed_up = True
        self.followed_up_at = timezone.now()
        if note:
            self.follow_up_notes = (self.follow_up_notes + "\n" + note).strip()
        self.save(update_fields=["followed_up", "followed_up_at", "follow_up_notes"])

    @classmethod
    def reap_stale(cls, now=None, dead_workers: Callable[[str, Any], bool] | None = None) -> list["ContactAttempt"]:
        """Take back running attempts whose worker died or went quiet past
        CONTACT_TIMEOUT_S plus the grace.

        One that had pressed submit ends "unconfirmed" (it is never submitted again); one
        that had not is put back in the queue once (nothing was sent, so running it again
        is safe), then ends "failed" with the reason. dead_workers(claimed_by) says
        whether a claim's worker is known to be dead (a process of this machine that no
        longer exists), so its attempt need not wait out the timeout.
        """
        now = now or timezone.now()
        limit = timedelta(seconds=settings.CONTACT_TIMEOUT_S + settings.CONTACT_GRACE_S)
        reaped = []
        stale = cls.objects.filter(status=AttemptStatus.RUNNING, started__lt=now - limit)
        if dead_workers is not None:
            running = cls.objects.filter(status=AttemptStatus.RUNNING).values_list("pk", "claimed_by", "started")
            dead = [pk for pk, claimed_by, started in running if dead_workers(claimed_by, started)]
            stale = cls.objects.filter(Q(pk__in=stale.values("pk")) | Q(pk__in=dead), status=AttemptStatus.RUNNING)
        for attempt in stale:
            if attempt.take_back():
                reaped.append(attempt)
        return reaped

    def take_back(self) -> bool:
        """End (or re-queue) a running attempt whose worker is gone; False if it moved on."""
        running = dict(status=AttemptStatus.RUNNING, claimed_by=self.claimed_by, started=self.started)
        if self.submit_pressed_at:
            ok = self.finish(
                AttemptStatus.UNCONFIRMED,
                error="The worker stopped responding after submitting; check the dealer's reply.",
                only_from=(AttemptStatus.RUNNING,),
                expect=running,
            )
        elif self.cancel_requested:
            ok = self.finish(
                AttemptStatus.CANCELLED, error="Stopped before sending.", only_from=(AttemptStatus.RUNNING,),
                expect=running,
            )
        elif self.retries < MAX_AUTOMATIC_RETRIES:
            ok = bool(
                ContactAttempt.objects.filter(pk=self.pk, submit_pressed_at__isnull=True, **running).update(
                    status=AttemptStatus.QUEUED, phase=Phase.NONE, claimed_by="", started=None,
                    phase_started=None, retries=models.F("retries") + 1, enqueued_at=None,
                    error="The worker stopped before submitting; queued again automatically.",
                )
            )
            if ok:
                self.refresh_from_db()
                self.record_event("requeued")
                from contacts.tasks import enqueue_attempt

                enqueue_attempt(self.pk)
            return ok
        else:
            seconds = settings.CONTACT_TIMEOUT_S
            tries = self.retries + 1
            ok = self.finish(
                AttemptStatus.FAILED,
                error=(
                    f"The worker stopped responding before submitting, {tries} times "
                    f"(limit {seconds} seconds each); nothing was sent."
                ),
                only_from=(AttemptStatus.RUNNING,),
                expect=running,
            )
        if ok:
            self.record_event("finished")
        return ok

    @classmethod
    def lost_from_queue(cls, older_than_s: float, now=None) -> "ContactAttemptQuerySet":
        """Queued attempts whose task was handed to the queue long enough ago (or never)
        that a worker should have claimed them: candidates for re-enqueueing."""
        now = now or timezone.now()
        cutoff = now - timedelta(seconds=older_than_s)
        return cls.objects.filter(status=AttemptStatus.QUEUED, cancel_requested=False).filter(
            Q(enqueued_at__isnull=True, created__lt=cutoff) | Q(enqueued_at__lt=cutoff)
        ).filter(
            # One waiting for its dealer's slot sits in the queue's schedule until then.
            Q(not_before__isnull=True) | Q(not_before__lt=cutoff)
        )

    def mark_enqueued(self) -> None:
        now = timezone.now()
        ContactAttempt.objects.filter(pk=self.pk).update(enqueued_at=now)
        self.enqueued_at = now

    def record_event(self, kind: str) -> "Event":
        return Event.objects.create(owner_id=self.owner_id, search_id=self.search_id, attempt=self, kind=kind)

    def get_absolute_url(self) -> str:
        return reverse("attempt_detail", args=[self.pk])


class Event(models.Model):
    """Append-only log the SSE view tails; its id is the SSE event id."""

    id = models.BigAutoField(primary_key=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    search = models.ForeignKey(Search, models.CASCADE, null=True, blank=True, related_name="events")
    attempt = models.ForeignKey(ContactAttempt, models.CASCADE, null=True, blank=True, related_name="events")
    kind = models.CharField(max_length=20)  # queued, phase, finished, cancel_requested, …
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["search", "id"], name="event_search_id")]

    def __str__(self) -> str:
        return f"#{self.id} {self.kind}"


class WorkerHeartbeat(models.Model):
    """The last time each worker process was seen alive, for /healthz and /metrics.

    Written every 30 s by a thread in each worker process (contacts.ops.Heartbeat).
    """

    worker = models.CharField(max_length=100, primary_key=True)  # host:pid
    last_seen = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.last_seen:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, worker: str) -> None:
        now = timezone.now()
        if not cls.objects.filter(worker=worker).update(last_seen=now):
            cls.objects.update_or_create(worker=worker, defaults={"last_seen": now, "started": now})


class SandboxSubmission(models.Model):
    """What a sandbox dealer website received, so users and tests see exactly what arrived."""

    site = models.CharField(max_length=50, db_index=True)
    # The attempt that sent it, when one can be told (a running attempt to this sandbox
    # dealer whose customer's email arrived): only its owner sees the submission, and it
    # goes when the attempt does.
    attempt = models.ForeignKey(
        "ContactAttempt", models.CASCADE, null=True, blank=True, related_name="sandbox_submissions"
    )
    fields = models.JSONField(default=dict)
    user_agent = models.CharField(max_length=300, blank=True)
    received = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received", "-id"]

    def __str__(self) -> str:
        return f"{self.site} at {self.received:%Y-%m-%d %H:%M:%S}"


class DoNotContact(models.Model):
    """A dealer website nobody may contact, kept by staff in the admin."""

    # The registrable domain, the same key as Dealer.website_key ("bobsford.com").
    domain = models.CharField(max_length=255, unique=True)
    reason = models.CharField(max_length=300)
    added = models.DateField(default=timezone.localdate)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["domain"]
        verbose_name = "do-not-contact domain"
        verbose_name_plural = "do-not-contact list"

    def __str__(self) -> str:
        return self.domain

    @classmethod
    def entry_for(cls, dealer: "Dealer") -> "DoNotContact | None":
        keys = dealer_keys(dealer)
        return cls.objects.filter(domain__in=keys).first() if keys else None

    @classmethod
    def blocked_keys(cls, dealers: "list[Dealer]") -> dict[str, "DoNotContact"]:
        if not cls.objects.exists():  # the usual case: no lookups per dealer
            return {}
        keys = {key for dealer in dealers for key in dealer_keys(dealer)}
        return {entry.domain: entry for entry in cls.objects.filter(domain__in=keys)} if keys else {}


def dealer_keys(dealer: "Dealer") -> list[str]:
    """The key a do-not-contact entry names for this dealer: its registrable domain."""
    if dealer.website_key:
        return [dealer.website_key]
    from contacts.websites import WebsiteError, website_key

    try:
        key = website_key(dealer.website)
    except WebsiteError:
        return []
    return [key] if key else []


class TokenBucket(models.Model):
    """A rate limit shared by every web process (after healthchecks' TokenBucket)."""

    value = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField(default=1.0)
    updated = models.DateTimeField(default=timezone.now)

    @classmethod
    def authorize(cls, value: str, capacity: int, refill_time_secs: int) -> bool:
        """Take one token from the bucket named `value`; False when it is empty.

        The bucket holds `capacity` tokens and refills completely in refill_time_secs.
        Values are hashed so no username or address is stored in the clear.
        """
        import hashlib

        from django.db import IntegrityError, transaction

        key = hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()
        now = timezone.now()
        with transaction.atomic():
            try:
                with transaction.atomic():
                    cls.objects.get_or_create(value=key, defaults={"tokens": 1.0, "updated": now})
            except IntegrityError:  # created by another process a moment ago
                pass
            bucket = cls.objects.select_for_update().get(value=key)
            elapsed = (now - bucket.updated).total_seconds()
            bucket.tokens = min(1.0, bucket.tokens + max(0.0, elapsed) / refill_time_secs)
            bucket.updated = now
            allowed = bucket.tokens >= 1.0 / capacity - 1e-9
            if allowed:
                bucket.tokens -= 1.0 / capacity
            bucket.save(update_fields=["tokens", "updated"])
        return allowed

    @classmethod
    def prune(cls, longest_window_s: int, now=None) -> int:
        """Delete buckets untouched for longer than the longest refill window.

        Such a bucket has refilled completely, which is what no row means too.
        """
        cutoff = (now or timezone.now()) - timedelta(seconds=longest_window_s)
        return cls.objects.filter(updated__lt=cutoff).delete()[0]


__all__ = [
    "DoNotContact",
    "TokenBucket",
    "AttemptStatus",
    "CancelAnswer",
    "ContactAttempt",
    "CustomerProfile",
    "Dealer",
    "DealerSource",
    "Event",
    "Phase",
    "Preferences",
    "PreferredContact",
    "SandboxSubmission",
    "Search",
    "WorkerHeartbeat",

    "SearchResult",
]


# The live view's records (issue 13), kept in a module of their own.
from contacts.live_models import LiveInput, LiveState, LiveView  # noqa: E402,F401
