"""One structured log line per phase per attempt, for a log shipper.

Each line is a single JSON object on the "contacts.attempt_log" logger, whose handler
prints the message alone (settings.LOGGING), so Vector, Fluent Bit, Loki or `jq` can
read it without a pattern:

    {"ts": "2026-12-03T14:02:11.514+00:00", "event": "attempt_phase", "attempt_id": 41,
     "dealer_id": 7, "dealer": "Canyon Crest Toyota", "phase": "filling",
     "duration_s": 2.41, "outcome": "done"}

`outcome` is "done" for a phase the attempt left for the next one, and the attempt's
final outcome (submitted, captcha, failed, …) for the phase it ended in. An attempt
that ended before its first phase logs phase "starting".
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.utils import timezone

from contacts.models import FINAL_STATUSES, ContactAttempt

logger = logging.getLogger("contacts.attempt_log")

PHASE_DONE = "done"
BEFORE_FIRST_PHASE = "starting"


def log_line(attempt: ContactAttempt, phase: str, duration_s: float | None, outcome: str) -> dict[str, Any]:
    record = {
        "ts": timezone.now().isoformat(timespec="milliseconds"),
        "event": "attempt_phase",
        "attempt_id": attempt.pk,
        "dealer_id": attempt.dealer_id,
        "dealer": attempt.dealer.name,
        "phase": phase or BEFORE_FIRST_PHASE,
        "duration_s": None if duration_s is None else round(float(duration_s), 3),
        "outcome": outcome,
    }
    logger.info(json.dumps(record, ensure_ascii=False))
    return record


def phase_ended(attempt: ContactAttempt, phase: str, duration_s: float) -> None:
    """The attempt moved on from `phase` to the next one."""
    log_line(attempt, phase, duration_s, PHASE_DONE)


def attempt_finished(attempt: ContactAttempt, last_phase: str) -> None:
    """The attempt ended (worker or reaper) while in `last_phase`: log that phase with the outcome."""
    if attempt.status not in FINAL_STATUSES:
        # Someone else (the reaper, a cancel) recorded the outcome first: log theirs.
        attempt.refresh_from_db(fields=["status", "finished", "phase_timings"])
    duration = (attempt.phase_timings or {}).get(last_phase)
    if duration is None and attempt.finished:
        since = attempt.phase_started or attempt.started
        if since:
            duration = (attempt.finished - since).total_seconds()
    log_line(attempt, last_phase, duration, attempt.status)
