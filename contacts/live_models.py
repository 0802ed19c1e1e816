"""The live view's records: one LiveView per session of a person solving a CAPTCHA in the
worker's page, and (database channel only) the input events on their way to it.

Imported by contacts.models, so Django sees them as the app's models.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class LiveState(models.TextChoices):
    # A new attempt started with "Solve it myself": the view opens if a CAPTCHA stops it.
    WAITING = "waiting", "Waiting for the attempt to reach the form"
    REQUESTED = "requested", "Starting"
    OPENING = "opening", "Opening the form"
    LIVE = "live", "Live"
    SENDING = "sending", "Sending"
    CLOSED = "closed", "Closed"


OPEN_LIVE_STATES = (LiveState.WAITING, LiveState.REQUESTED, LiveState.OPENING, LiveState.LIVE, LiveState.SENDING)


class LiveView(models.Model):
    """One live view of an attempt, from "Open live view" to its close.

    The state lives here on every deployment; the frames, input events and the viewer's
    heartbeat go through contacts.liveview's channel (this row's frame columns and
    LiveInput with the defaults, Redis when REDIS_URL is set).
    """

    attempt = models.ForeignKey("contacts.ContactAttempt", models.CASCADE, related_name="live_views")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    state = models.CharField(max_length=10, choices=LiveState.choices, default=LiveState.REQUESTED)
    closed_reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=12, blank=True)  # the attempt's outcome when the view ended
    claimed_by = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    ended = models.DateTimeField(null=True, blank=True)
    # The database channel: the latest frame and the viewer's last sign of life.
    frame = models.BinaryField(null=True, blank=True)
    frame_seq = models.PositiveIntegerField(default=0)
    viewer_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # One page per attempt at a time: two would be two chances to submit.
            models.UniqueConstraint(
                fields=["attempt"], condition=Q(state__in=["waiting", "requested", "opening", "live", "sending"]),
                name="live_view_one_open_per_attempt",
            )
        ]

    def __str__(self) -> str:
        return f"Live view #{self.pk} of attempt {self.attempt_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_LIVE_STATES

    @classmethod
    def claim(cls, live_id: int, worker: str) -> bool:
        """Requested -> opening for this worker; False if it was claimed or closed meanwhile."""
        return cls.objects.filter(pk=live_id, state=LiveState.REQUESTED).update(
            state=LiveState.OPENING, claimed_by=worker[:100], started=timezone.now()
        ) == 1

    def set_state(self, state: str) -> bool:
        updated = LiveView.objects.filter(pk=self.pk, state__in=OPEN_LIVE_STATES).update(state=state)
        if updated:
            self.state = state
        return bool(updated)

    def close(self, reason: str, outcome: str = "") -> bool:
        now = timezone.now()
        updated = LiveView.objects.filter(pk=self.pk, state__in=OPEN_LIVE_STATES).update(
            state=LiveState.CLOSED, closed_reason=reason[:2000], outcome=outcome, ended=now, frame=None
        )
        if updated:
            self.state, self.closed_reason, self.outcome, self.ended = LiveState.CLOSED, reason, outcome, now
        return bool(updated)


class LiveInput(models.Model):
    """An input event from the viewer on its way to the worker (database channel)."""

    id = models.BigAutoField(primary_key=True)
    live_view = models.ForeignKey(LiveView, models.CASCADE, related_name="inputs")
    event = models.JSONField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
