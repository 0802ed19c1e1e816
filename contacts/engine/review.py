"""Review before sending: what a person is shown of the filled form, the form's
fingerprint, and the values they approved (pure; no browser, no Django).

A reviewed attempt runs twice. The first run fills the form and stops there with the
filled fields (label, kind, value and, for a list or radio group, the options the form
offers) and a fingerprint of the form. The person may change any value; sending runs the
attempt again in a fresh browser context with those values, and submits only when the
form found has the same fingerprint: same fields, same types, same options.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from contacts.engine.planning import Action, real_options
from contacts.engine.stepping import field_key

# The kinds of field whose value a person may change at review; a box (consent, an
# opt-in the engine unticked) is shown but keeps the engine's answer.
EDITABLE_TYPES = ("text", "textarea", "select", "radio")
_TEXT_TYPES = ("text", "email", "tel", "number", "url", "search", "")

CHANGED = ("The dealer's form changed since it was reviewed (its fields or choices are not the same); "
           "nothing was sent. Check it again.")


@dataclass(frozen=True)
class Review:
    """Stop at the filled form (approved None), or send it with these values (field key ->
    value: the text typed, or the text of the option or radio button chosen) when the
    form still has `fingerprint`."""

    approved: Mapping[str, str] | None = None
    fingerprint: str = ""

    @property
    def sending(self) -> bool:
        return self.approved is not None


def review_type(field: dict) -> str:
    """text, textarea, select, radio or checkbox: how a person edits the value."""
    kind = field["type"]
    if kind in ("textarea", "select", "radio", "checkbox"):
        return kind
    return "text"


def value_key(field: dict) -> str:
    """What names a field's value across runs: a radio group by its name."""
    return field_key(field)


def offered(field: dict, form: dict) -> tuple[str, ...]:
    """The choices the form offers for a list or radio group, as their text."""
    if field["type"] == "select":
        return tuple(o["text"] or o["value"] for o in real_options(field))
    if field["type"] == "radio" and field["name"]:
        return tuple(_radio_text(r) for r in form["fields"] if r["type"] == "radio" and r["name"] == field["name"])
    return ()


def _radio_text(radio: dict) -> str:
    return (radio.get("label") or radio.get("value") or "").strip()


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def approve(actions: list[Action], form: dict, approved: Mapping[str, str]) -> list[Action]:
    """The planned actions with the person's values in place of the engine's. A value no
    longer among the form's options is left to the plan: the fingerprint then differs,
    and the form goes back to review rather than being sent."""
    changed = []
    for action in actions:
        key = value_key(action.field)
        kind = review_type(action.field)
        if key not in approved or kind not in EDITABLE_TYPES or action.how not in ("type", "select", "check"):
            changed.append(action)
            continue
        wanted = approved[key]
        if kind in ("text", "textarea"):
            action = replace(action, value=wanted, shown=wanted)
        elif kind == "select":
            option = next((o for o in real_options(action.field) if _same(o["text"] or o["value"], wanted)), None)
            if option is not None:
                action = replace(action, value=option["value"], shown=option["text"])
        else:
            radio = next((r for r in form["fields"] if r["type"] == "radio" and r["name"] == action.field["name"]
                          and _same(_radio_text(r), wanted)), None)
            if radio is not None:
                action = replace(action, field=radio, value=_radio_text(radio), shown=_radio_text(radio))
        changed.append(action)
    return changed


def fingerprint(filled: list, form: dict) -> str:
    """A digest of the form's shape: every filled field's key, type and options, and the
    key, type and choices of every field the last step shows. Values typed are not in
    it, so the person's edits do not change it; a new, renamed or removed field, or a
    list with other options, does."""
    shape = {
        "filled": sorted([f.key, f.type, list(f.options)] for f in filled),
        "shown": sorted(
            [field_key(f), f["type"], f.get("value", "") if f["type"] in ("radio", "checkbox") else "",
             [o["value"] for o in f.get("options", [])]]
            for f in form["fields"] if f["visible"] and f["type"] not in _SKIPPED_TYPES
        ),
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


_SKIPPED_TYPES = ("hidden", "submit", "button", "image", "reset")


def reason_to_stop(review: Review, found: str) -> str | None:
    """Why the attempt stops at the filled form (for review, or because the form is not
    the one reviewed), or None when it may be sent."""
    if not review.sending:
        return "Filled and waiting for your review; nothing was sent."
    if found != review.fingerprint:
        return CHANGED
    return None
