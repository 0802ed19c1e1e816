"""Running one contact attempt: claim the row, drive the engine, record the outcome."""

from __future__ import annotations

from contacts.models import ContactAttempt


def execute_attempt(attempt_id: int) -> None:
    raise NotImplementedError  # being written now; see the task integration commit


def reap_stale_attempts() -> list[ContactAttempt]:
    return ContactAttempt.reap_stale()
