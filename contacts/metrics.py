"""Prometheus metrics, read from the database and the queue at scrape time.

Attempts, phases and the queue live in shared storage, so every web process answers
the same numbers and nothing is lost when a process restarts; an in-process counter
would only know the requests that happened to reach that process. The one exception is
the number of connected live streams, which is by nature a property of the process
that holds them (scrape each web process, or sum them).
"""

from __future__ import annotations

from typing import Iterable

from django.db.models import Count, FloatField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from contacts import ops
from contacts.engine import outcomes
from contacts.models import AttemptStatus, ContactAttempt

PREFIX = "dealercontact"
# Seconds. A phase takes from a fraction of a second (filling a short form) to the whole
# CONTACT_TIMEOUT_S (a site that never answers).
PHASE_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0)


def _bucket_key(phase: str, index: int) -> str:
    return f"{phase}__le{index}"


def phase_histograms() -> Iterable[tuple[str, list[tuple[str, float]], float]]:
    """(phase, cumulative buckets, sum of seconds) per phase, in one aggregate query.

    Counted over finished attempts from phase_timings (phase -> seconds); the database
    does the bucketing, so a scrape costs one scan, not one row per attempt in Python.
    """
    aggregates = {}
    for phase in outcomes.PHASES:
        present = Q(**{f"phase_timings__{phase}__isnull": False})
        for index, bound in enumerate(PHASE_BUCKETS):
            aggregates[_bucket_key(phase, index)] = Count(
                "pk", filter=present & Q(**{f"phase_timings__{phase}__lte": bound})
            )
        aggregates[f"{phase}__count"] = Count("pk", filter=present)
        aggregates[f"{phase}__sum"] = Sum(Cast(KeyTextTransform(phase, "phase_timings"), FloatField()))
    row = ContactAttempt.objects.filter(status__in=outcomes.OUTCOMES).aggregate(**aggregates)
    for phase in outcomes.PHASES:
        buckets = [(repr(bound), row[_bucket_key(phase, i)]) for i, bound in enumerate(PHASE_BUCKETS)]
        buckets.append(("+Inf", row[f"{phase}__count"]))
        yield phase, buckets, float(row[f"{phase}__sum"] or 0.0)


class DatabaseCollector:
    """Collects every metric afresh from shared state on each scrape."""

    def collect(self) -> Iterable[Metric]:
        now = timezone.now()
        by_status = dict(ContactAttempt.objects.values_list("status").annotate(n=Count("pk")).order_by())

        finished = CounterMetricFamily(
            f"{PREFIX}_attempts", "Contact attempts that reached a final outcome.", labels=["outcome"]
        )
        for outcome in outcomes.OUTCOMES:
            finished.add_metric([outcome], by_status.get(outcome, 0))
        yield finished

        yield GaugeMetricFamily(
            f"{PREFIX}_attempts_queued", "Attempts waiting for a worker.", value=by_status.get(AttemptStatus.QUEUED, 0)
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_attempts_running", "Attempts a worker is running now.",
            value=by_status.get(AttemptStatus.RUNNING, 0),
        )

        histogram = HistogramMetricFamily(
            f"{PREFIX}_phase_duration_seconds", "Time spent in each phase by finished attempts.", labels=["phase"]
        )
        for phase, buckets, total in phase_histograms():
            histogram.add_metric([phase], buckets, total)
        yield histogram

        queue = ops.check_queue()
        pending = GaugeMetricFamily(
            f"{PREFIX}_queue_pending_tasks", "Tasks waiting in the Huey queue storage.", labels=["backend"]
        )
        if queue.ok:
            pending.add_metric([queue.details["backend"]], queue.details["pending_tasks"])
        yield pending
        yield GaugeMetricFamily(f"{PREFIX}_queue_up", "1 if the Huey queue storage answered.", value=int(queue.ok))

        heartbeat = ops.check_heartbeat(now)
        if heartbeat.details.get("age_s") is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_worker_heartbeat_age_seconds", "Seconds since the newest worker heartbeat.",
                value=heartbeat.details["age_s"],
            )
        yield GaugeMetricFamily(
            f"{PREFIX}_workers_alive", "Worker processes that sent a heartbeat within HEALTH_HEARTBEAT_MAX_AGE_S.",
            value=heartbeat.details.get("workers_alive", 0),
        )
        queued = ops.check_oldest_queued(now)
        yield GaugeMetricFamily(
            f"{PREFIX}_oldest_queued_attempt_age_seconds", "How long the oldest queued attempt has waited (0: none).",
            value=queued.details.get("age_s") or 0.0,
        )

        from contacts.views.live import connected_streams

        yield GaugeMetricFamily(
            f"{PREFIX}_live_streams_connected", "Live result streams (SSE) open in the process that answered.",
            value=connected_streams(),
        )


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
