"""Review before sending, on the Django side: what the worker records when a reviewed
attempt stops at its filled form, and what the owner's Send, Edit and send and Skip do.

The engine half is contacts/engine/review.py. An attempt awaiting review holds no worker
and no browser; sending queues it again, and the worker re-opens the form in a fresh
context, fills it with the approved values and submits only if the form is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.engine import classifying as k
from contacts.engine.review import CHANGED, EDITABLE_TYPES, Review
from contacts.engine.types import ContactResult
from contacts.models import ACTIVE_STATUSES, AttemptStatus, ContactAttempt

SKIPPED = "Skipped at review; nothing was sent."
VALUE_MAX_CHARS = 5000  # a value typed at review (the message has its own cap)


def engine_review(attempt: ContactAttempt) -> Review | None:
    """What the engine is asked to do about review for this run of the attempt."""
    if not attempt.review_first:
        return None
    if attempt.review_fingerprint:  # reviewed and sent by its owner
        return Review(approved=dict(attempt.approved_values), fingerprint=attempt.review_fingerprint)
    return Review()


def review_fields(result: ContactResult) -> list[dict[str, Any]]:
    return [
        {"key": f.key, "label": f.label, "kind": f.kind, "type": f.type, "value": f.value, "options": list(f.options)}
        for f in result.fields
    ]


def hold_for_review(attempt: ContactAttempt, result: ContactResult, fields: dict[str, Any],
                    replaced: list[str] = ()) -> str:
    """The worker's record of a reviewed attempt stopped at its form: awaiting review, or
    cancelled if its owner cancelled while it ran. Returns the status recorded. `replaced`
    are the screenshot files this run's supersede (the form reviewed before), deleted once
    the new ones are recorded."""
    from contacts.lifecycle import delete_files

    # Only a form that changed since its review has something to say; a first stop is the plan.
    error = result.error if result.error == CHANGED else ""
    if attempt.await_review(
        error=error, review_fields=review_fields(result), review_fingerprint=result.fingerprint, **fields
    ):
        attempt.record_event("finished")  # the row shows the filled form now
    elif attempt.finish(AttemptStatus.CANCELLED, error="Cancelled before submitting.", **fields):
        attempt.record_event("finished")
    else:  # ended meanwhile, or deleted: keep no files for this run
        delete_files([fields[name] for name in ("screenshot_form", "screenshot_result") if name in fields])
        return attempt.status
    delete_files([name for name in replaced if name])
    return attempt.status


def editable(field: Mapping[str, Any]) -> bool:
    return field.get("type") in EDITABLE_TYPES


def input_name(attempt: ContactAttempt, index: int) -> str:
    """The posted name of the n-th field's value (one results page shows many reviews)."""
    return f"a{attempt.pk}-value-{index}"


def panel_fields(attempt: ContactAttempt, errors: Mapping[str, str] = {}, posted: Mapping[str, str] = {}
                 ) -> list[dict[str, Any]]:
    """The field list as the review panel shows it, with what was posted and its errors."""
    shown = []
    for index, field in enumerate(attempt.review_fields):
        name = input_name(attempt, index)
        shown.append({**field, "name": name, "editable": editable(field), "error": errors.get(field["key"], ""),
                      "current": posted.get(name, field["value"]), "long": field["type"] == "textarea"})
    return shown


def clean_values(attempt: ContactAttempt, posted: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The values to send: the engine's, with the person's edits (posted under
    input_name for the n-th field). Returns (values, errors by field key). A list or radio group takes
    only a choice the form offered; a value the engine filled may not be emptied."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for index, field in enumerate(attempt.review_fields):
        key, value = field["key"], field["value"]
        name = input_name(attempt, index)
        if editable(field) and name in posted:
            value = posted[name].replace("\r\n", "\n").strip()
            if field["type"] in ("select", "radio"):
                if value not in field["options"]:
                    errors[key] = f"Choose one of the form's own choices for \u201c{field['label']}\u201d."
            elif not value and field["value"]:
                errors[key] = f"\u201c{field['label']}\u201d cannot be left empty."
            elif len(value) > VALUE_MAX_CHARS or (field["kind"] == k.MESSAGE and len(value) > settings.MESSAGE_MAX_CHARS):
                errors[key] = f"\u201c{field['label']}\u201d is too long."
            elif field["kind"] in (k.EMAIL, k.EMAIL_CONFIRM):
                try:
                    validate_email(value)
                except ValidationError:
                    errors[key] = f"\u201c{field['label']}\u201d is not an email address."
        if editable(field) and key:
            values[key] = value
    return values, errors


def room_to_send(owner_id: int) -> int:
    """How many reviewed forms may be queued now: a form waiting for review holds no worker,
    so sending it counts again toward ACTIVE_ATTEMPTS_PER_USER (queued or running at once)."""
    active = ContactAttempt.objects.filter(owner_id=owner_id, status__in=ACTIVE_STATUSES).count()
    return max(0, settings.ACTIVE_ATTEMPTS_PER_USER - active)


def send(attempt: ContactAttempt, values: dict[str, str]) -> bool:
    """Queue an attempt awaiting review to be sent with `values`; False if it no longer waits."""
    from contacts.tasks import enqueue_attempt

    if not attempt.approve_for_sending(values):
        return False
    attempt.record_event("queued")
    enqueue_attempt(attempt.pk)
    return True


def skip(attempt: ContactAttempt) -> bool:
    if attempt.finish(AttemptStatus.CANCELLED, error=SKIPPED, only_from=(AttemptStatus.AWAITING_REVIEW,)):
        attempt.record_event("finished")
        return True
    return False


def send_all(attempts: list[ContactAttempt]) -> int:
    """Send attempts awaiting review with the values the engine chose, as many as the
    owner's limit of attempts at once leaves room for (the rest keep waiting)."""
    sent = 0
    room = room_to_send(attempts[0].owner_id) if attempts else 0
    for attempt in attempts[:room]:
        values, _errors = clean_values(attempt, {})
        sent += send(attempt, values)
    return sent
