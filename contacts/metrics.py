"""Prometheus metrics, read from the database and the queue at scrape time.

Attempts, phases and the queue live in shared storage, so every web process answers
the same numbers and nothing is lost when a process restarts; an in-process counter
would only know the requests that happened to reach that process. The one exception is
the number of connected live streams, which is by nature a property of the process
that holds them (scrape each web process, or sum them).
"""

from __future__ import annotations

import bisect
import itertools
from typing import Iterable

from django.db.models import Count
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


def phase_histograms() -> Iterable[tuple[str, list[tuple[str, float]], float]]:
    """(phase, cumulative buckets, sum of seconds) per phase, over every finished attempt.

    Read as one column (phase_timings: phase -> seconds) and bucketed here: measured
    faster on both SQLite and PostgreSQL than asking the database to extract and bucket
    each JSON key (about 1 s for 50,000 attempts on a loaded two-core machine).
    """
    counts = {phase: [0] * (len(PHASE_BUCKETS) + 1) for phase in outcomes.PHASES}
    sums = dict.fromkeys(outcomes.PHASES, 0.0)
    rows = ContactAttempt.objects.filter(status__in=outcomes.OUTCOMES).values_list("phase_timings", flat=True)
    for timings in rows.iterator(chunk_size=2000):
        for phase, seconds in (timings or {}).items():
            if phase in counts and isinstance(seconds, (int, float)):
                counts[phase][bisect.bisect_left(PHASE_BUCKETS, seconds)] += 1
                sums[phase] += seconds
    for phase in outcomes.PHASES:
        cumulative = list(itertools.accumulate(counts[phase]))
        buckets = [(repr(bound), cumulative[i]) for i, bound in enumerate(PHASE_BUCKETS)]
        buckets.append(("+Inf", cumulative[-1]))
        yield phase, buckets, sums[phase]


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
        yield GaugeMetricFamily(
            f"{PREFIX}_attempts_awaiting_review", "Filled forms waiting for their owner to send or skip them.",
            value=by_status.get(AttemptStatus.AWAITING_REVIEW, 0),
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
