"""Typing, choosing and ticking like a person would, and checking each value stuck."""

from __future__ import annotations

import re

from playwright.async_api import Error as PlaywrightError

from contacts.engine.pace import TYPED_KEYS_PER_FIELD, key_delay_ms
from contacts.engine.planning import Action, field_name
from contacts.engine.types import FilledField


class FillProblem(Exception):
    """A value would not stay in a field; the message names it."""

    def __init__(self, message: str, stale: bool = False) -> None:
        super().__init__(message)
        # The page re-rendered the form and the field we had found is gone.
        self.stale = stale


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _stuck(action: Action, value: str) -> bool:
    if action.kind.startswith("phone"):
        return _digits(value).endswith(action.value) or _digits(action.value) == _digits(value)[-len(action.value):]
    if action.kind == "zip":
        return _digits(value).startswith(action.value[:5])
    maxlength = action.field.get("maxlength") or 0
    expected = action.value[:maxlength] if maxlength else action.value
    # Text areas turn "\r\n" into "\n", and sites trim or collapse spaces.
    return " ".join(value.split()) == " ".join(expected.split())


def _locator(frame, action: Action):
    return frame.locator(f'[data-dc="{action.field["dc"]}"]').first


# Reads every typed field's value at once, after the last one has lost focus (masks and
# validators reformat on blur), so checking costs one round trip instead of one per field.
_READ_VALUES_JS = """(ids) => {
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  const find = (id) => {
    const walk = (root) => { const hit = root.querySelector(`[data-dc="${id}"]`); if (hit) return hit;
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const h = walk(el.shadowRoot); if (h) return h; }
      return null; };
    return walk(document);
  };
  return ids.map((id) => { const el = find(id); return el ? el.value : null; });
}"""


# Boxes a person types into key by key; date, time, number and the like take keys in
# their own formats, so they are always filled at once.
KEY_TYPED = {"", "text", "email", "tel", "search", "url", "textarea"}


async def _type(frame, action: Action, delay_ms: int = 0) -> None:
    # fill() focuses the field itself, so an overlay covering it does not matter.
    if not delay_ms or action.field.get("type", "") not in KEY_TYPED:
        await _locator(frame, action).fill(action.value)
        return
    # At human pace: key by key, so scripts watching key events see someone typing; past
    # the first few dozen keys the rest goes in at once, as a paste would (each key costs
    # CPU in every process, which a busy worker running many attempts does not have).
    box = _locator(frame, action)
    await box.fill("")
    text = action.value
    if action.field.get("tag") != "textarea":
        text = " ".join(text.splitlines())  # Enter in a one-line box would send the form
    keys, rest = text[:TYPED_KEYS_PER_FIELD], text[TYPED_KEYS_PER_FIELD:]
    try:
        await box.press_sequentially(keys, delay=delay_ms, timeout=10_000 + len(keys) * (delay_ms + 100))
        if rest:
            await frame.page.keyboard.insert_text(rest)
    except PlaywrightError:
        if await box.count() == 0:
            raise
        # Too slow to type on a busy machine: the value matters more than the pace.
        await box.fill(action.value)


async def _type_key_by_key(frame, action: Action) -> None:
    """Masked inputs reject values set at once: press each key, digits only for phones."""
    box = _locator(frame, action)
    await box.fill("")
    await box.press("End")
    digits_only = action.kind.startswith("phone") or action.kind == "zip"
    keys = _digits(action.value) if digits_only else action.value
    # Masks want a human pace for a few digits; a long message is typed without pauses.
    delay = 15 if digits_only else 0
    await box.press_sequentially(keys, delay=delay, timeout=5000 + len(keys) * (delay + 10))
    await box.blur()
    if not _stuck(action, await box.input_value()):
        raise FillProblem(f"The field \u201c{field_name(action.field)}\u201d would not keep the value typed into it.")


async def _check_typed(frame, typed: list[Action]) -> None:
    if not typed:
        return
    values = await frame.evaluate(_READ_VALUES_JS, [a.field["dc"] for a in typed])
    for action, value in zip(typed, values):
        if value is None:
            raise FillProblem(f"The field \u201c{field_name(action.field)}\u201d vanished while filling.", stale=True)
        if not _stuck(action, value):
            await _type_key_by_key(frame, action)


async def _select(frame, action: Action) -> None:
    box = _locator(frame, action)
    # Styled dropdowns (Select2, Chosen) hide the real select and mirror its change event.
    await box.select_option(value=action.value, force=bool(action.field.get("via_widget")))
    if await box.input_value() != action.value:
        raise FillProblem(f"The choice \u201c{field_name(action.field)}\u201d would not stay selected.")


async def _check(frame, action: Action) -> None:
    box = _locator(frame, action)
    try:
        await box.check(timeout=1500)
    except PlaywrightError:
        # Styled checkboxes hide the input behind their label: click it the way the label would.
        await box.evaluate("el => { if (!el.checked) el.click(); }")
    if not await box.is_checked():
        raise FillProblem(f"The box \u201c{field_name(action.field)}\u201d could not be ticked.")


async def perform(frame, actions: list[Action], clock, pace_s: float = 0) -> list[FilledField]:
    """Carry out the planned actions in order; return what was filled. With `pace_s`
    (the human-pace dwell, pace.py), text is typed key by key spread over part of it."""
    filled = []
    typed = []
    delay = key_delay_ms(pace_s, sum(min(len(a.value), TYPED_KEYS_PER_FIELD) for a in actions
                                     if a.how == "type" and a.field.get("type", "") in KEY_TYPED))
    for action in actions:
        await clock.check()
        try:
            if action.how == "type":
                await _type(frame, action, delay)
                typed.append(action)
            elif action.how == "select":
                await _select(frame, action)
            else:
                await _check(frame, action)
        except PlaywrightError as exc:
            reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
            stale = await _locator(frame, action).count() == 0
            raise FillProblem(
                f"The field \u201c{field_name(action.field)}\u201d could not be filled ({reason}).", stale=stale
            ) from exc
        filled.append(FilledField(action.kind, field_name(action.field), action.shown))
    await _check_typed(frame, typed)
    return filled
