"""Typing, choosing and ticking like a person would, and checking each value stuck."""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError

from contacts.engine.planning import Action, field_name
from contacts.engine.types import FilledField


class FillProblem(Exception):
    """A value would not stay in a field; the message names it."""


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _stuck(action: Action, value: str) -> bool:
    if action.kind.startswith("phone"):
        return _digits(value).endswith(action.value) or _digits(action.value) == _digits(value)[-len(action.value):]
    if action.kind == "zip":
        return _digits(value).startswith(action.value[:5])
    maxlength = action.field.get("maxlength") or 0
    expected = action.value[:maxlength] if maxlength else action.value
    return value.strip() == expected.strip()


def _locator(frame, action: Action):
    return frame.locator(f'[data-dc="{action.field["dc"]}"]').first


def _type(frame, action: Action) -> None:
    box = _locator(frame, action)
    # fill() focuses the field itself, so an overlay covering it does not matter.
    box.fill(action.value)
    if _stuck(action, box.input_value()):
        box.blur()
        return
    # Masked inputs reject values set at once; type key by key, digits only for phones.
    box.fill("")
    keys = _digits(action.value) if action.kind.startswith("phone") or action.kind == "zip" else action.value
    box.press_sequentially(keys, delay=20)
    if not _stuck(action, box.input_value()):
        raise FillProblem(f"The field \u201c{field_name(action.field)}\u201d would not keep the value typed into it.")
    box.blur()


def _select(frame, action: Action) -> None:
    box = _locator(frame, action)
    # Styled dropdowns (Select2, Chosen) hide the real select and mirror its change event.
    box.select_option(value=action.value, force=bool(action.field.get("via_widget")))
    if box.input_value() != action.value:
        raise FillProblem(f"The choice \u201c{field_name(action.field)}\u201d would not stay selected.")


def _check(frame, action: Action) -> None:
    box = _locator(frame, action)
    try:
        box.check(timeout=1500)
    except PlaywrightError:
        # Styled checkboxes hide the input behind their label: click it the way the label would.
        box.evaluate("el => { if (!el.checked) el.click(); }")
    if not box.is_checked():
        raise FillProblem(f"The box \u201c{field_name(action.field)}\u201d could not be ticked.")


def perform(frame, actions: list[Action], clock) -> list[FilledField]:
    """Carry out the planned actions in order; return what was filled."""
    filled = []
    for action in actions:
        clock.check()
        if action.how == "type":
            _type(frame, action)
        elif action.how == "select":
            _select(frame, action)
        else:
            _check(frame, action)
        filled.append(FilledField(action.kind, field_name(action.field), action.shown))
    return filled
