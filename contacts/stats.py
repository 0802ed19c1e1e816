"""The numbers behind the dashboard, from a queryset of contact attempts.

Only attempts with a final outcome that finished inside the window count; the window is
cut into days (or weeks, for a year) of the current time zone. Times per phase come from
ContactAttempt.phase_timings (phase -> seconds, written by the worker).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone

from contacts.engine import outcomes
from contacts.models import AttemptStatus, Phase

# Outcomes that say something about the site or the engine; a cancel says neither.
JUDGED_OUTCOMES = tuple(o for o in outcomes.OUTCOMES if o != outcomes.CANCELLED)
UNKNOWN_PLATFORM = "Unknown"
TOP_REASONS = 8


@dataclass
class OutcomesOverTime:
    bucket: str  # "day" or "week"
    periods: list[date]  # the first day of each bucket, oldest first
    counts: dict[str, list[int]]  # outcome -> one count per period

    @property
    def totals(self) -> list[int]:
        return [sum(column) for column in zip(*self.counts.values())] if self.counts else []


@dataclass
class PhaseTimes:
    phase: str
    label: str
    count: int
    median_s: float | None
    p95_s: float | None


@dataclass
class ReasonCount:
    reason: str
    count: int


@dataclass
class PlatformCaptchas:
    platform: str
    attempts: int
    captchas: int

    @property
    def rate(self) -> float:
        return self.captchas / self.attempts if self.attempts else 0.0


@dataclass
class Dashboard:
    since: datetime
    until: datetime
    outcome_counts: dict[str, int]
    over_time: OutcomesOverTime
    phases: list[PhaseTimes]
    reasons: list[ReasonCount]
    platforms: list[PlatformCaptchas]
    in_progress: int = 0
    awaiting_review: int = 0  # filled forms waiting for their owner (not final, not running)
    outcome_labels: dict[str, str] = field(default_factory=lambda: dict(AttemptStatus.choices))

    @property
    def finished(self) -> int:
        return sum(self.outcome_counts.values())

    @property
    def judged(self) -> int:
        return sum(self.outcome_counts[o] for o in JUDGED_OUTCOMES)

    @property
    def success_rate(self) -> float | None:
        """Submitted with a confirmation seen, out of the attempts that were not cancelled."""
        return self.outcome_counts[outcomes.SUBMITTED] / self.judged if self.judged else None


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: a value that really occurred, never an interpolation."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _periods(since: datetime, until: datetime, bucket: str) -> list[date]:
    tz = timezone.get_current_timezone()
    first, last = timezone.localtime(since, tz).date(), timezone.localtime(until, tz).date()
    if bucket == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if bucket == "week" else 1)
    days = []
    while first <= last:
        days.append(first)
        first += step
    return days


def outcomes_over_time(finished: QuerySet, since: datetime, until: datetime, bucket: str) -> OutcomesOverTime:
    periods = _periods(since, until, bucket)
    # Each period ends at the local midnight that starts the next one (DST included); the
    # database sorts rows into periods by comparing timestamps, which SQLite does far
    # faster than converting each row to a local date.
    tz = timezone.get_current_timezone()
    step = timedelta(days=7 if bucket == "week" else 1)
    ends = [timezone.make_aware(datetime.combine(day + step, time()), tz) for day in periods]
    period_of = Case(
        *[When(finished__lt=end, then=Value(i)) for i, end in enumerate(ends)],
        default=Value(len(periods)),
        output_field=IntegerField(),
    )
    counts = {outcome: [0] * len(periods) for outcome in outcomes.OUTCOMES}
    rows = finished.annotate(period=period_of).values_list("period", "status").annotate(n=Count("pk")).order_by()
    for index, status, n in rows:
        if index < len(periods) and status in counts:
            counts[status][index] += n
    return OutcomesOverTime(bucket=bucket, periods=periods, counts=counts)


def phase_times(finished: QuerySet) -> list[PhaseTimes]:
    durations: dict[str, list[float]] = {phase: [] for phase in outcomes.PHASES}
    for timings in finished.values_list("phase_timings", flat=True).iterator():
        for phase, seconds in (timings or {}).items():
            if phase in durations and isinstance(seconds, (int, float)):
                durations[phase].append(float(seconds))
    labels = dict(Phase.choices)
    result = []
    for phase, values in durations.items():
        values.sort()
        result.append(
            PhaseTimes(
                phase=phase,
                label=str(labels.get(phase, phase)),
                count=len(values),
                median_s=statistics.median(values) if values else None,
                p95_s=percentile(values, 0.95),
            )
        )
    return result


def failure_reasons(finished: QuerySet, limit: int = TOP_REASONS) -> list[ReasonCount]:
    rows = (
        finished.filter(status=outcomes.FAILED)
        .values_list("error")
        .annotate(n=Count("pk"))
        .order_by("-n", "error")[:limit]
    )
    return [ReasonCount(reason=error or "(no reason recorded)", count=n) for error, n in rows]


def captchas_by_platform(finished: QuerySet) -> list[PlatformCaptchas]:
    rows = (
        finished.filter(status__in=JUDGED_OUTCOMES)
        .values_list("site_platform", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_platform: dict[str, PlatformCaptchas] = {}
    for platform, status, n in rows:
        name = platform or UNKNOWN_PLATFORM
        entry = by_platform.setdefault(name, PlatformCaptchas(platform=name, attempts=0, captchas=0))
        entry.attempts += n
        if status == outcomes.CAPTCHA:
            entry.captchas += n
    return sorted(by_platform.values(), key=lambda p: (p.platform == UNKNOWN_PLATFORM, -p.attempts, p.platform))


def build_dashboard(attempts: QuerySet, days: int, now: datetime | None = None) -> Dashboard:
    """Everything the dashboard shows for `attempts` (already scoped to who may see them)."""
    until = now or timezone.now()
    since = until - timedelta(days=days)
    finished = attempts.filter(status__in=outcomes.OUTCOMES, finished__gte=since, finished__lte=until)
    counts = dict(finished.values_list("status").annotate(n=Count("pk")).order_by())
    return Dashboard(
        since=since,
        until=until,
        outcome_counts={outcome: counts.get(outcome, 0) for outcome in outcomes.OUTCOMES},
        over_time=outcomes_over_time(finished, since, until, "week" if days > 90 else "day"),
        phases=phase_times(finished),
        reasons=failure_reasons(finished),
        platforms=captchas_by_platform(finished),
        in_progress=attempts.filter(status__in=(AttemptStatus.QUEUED, AttemptStatus.RUNNING)).count(),
        awaiting_review=attempts.filter(status=AttemptStatus.AWAITING_REVIEW).count(),
    )
