"""Typing, choosing and ticking like a person would, reading the form again after every
choice (lists that load, fields that appear), and checking each value stuck."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Error as PlaywrightError

from contacts.engine import classifying as k
from contacts.engine.key_watch import KeyWatch
from contacts.engine.pace import key_delay_ms, keys_per_field
from contacts.engine.planning import PROFILE_QUESTIONS, Action, UnfillableField, field_name, plan
from contacts.engine.review import approve, offered, review_type, value_key
from contacts.engine.scanning import rescan_form
from contacts.engine.types import Customer, FilledField


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


MASK_KEY_DELAY_MS = 15  # masks want a human pace for a few digits
MAX_BACKSPACES = 64  # more than any masked value holds

# Boxes a person types into key by key; date, time, number and the like take keys in
# their own formats, so they are always filled at once.
KEY_TYPED = {"", "text", "email", "tel", "search", "url", "textarea"}


async def _type(frame, action: Action, delay_ms: int = 0, keys_typed: int = 0, watch: KeyWatch | None = None) -> None:
    # fill() focuses the field itself, so an overlay covering it does not matter.
    if not delay_ms or not keys_typed or action.field.get("type", "") not in KEY_TYPED:
        await _locator(frame, action).fill(action.value)
        return
    # At human pace, where a script listens for key events: the first keys one by one, so
    # it sees someone typing; the rest at once, as autofill or a paste would (pace.py:
    # each key costs CPU in every process, which a worker running many attempts does not
    # have). Where nothing listens, the whole value goes in at once.
    box = _locator(frame, action)
    if watch is not None:
        seen = watch.known(frame, action.field["dc"])  # asked for the whole form at once
        if seen is None:
            await box.focus()  # asked alone, starting from the focus (key_watch.py)
            seen = await watch.watched(frame, action.field["dc"])
        if not seen:
            await box.fill(action.value)
            return
    await box.fill("")
    if _digits_only(action):
        # A number is short and typed whole, key by key: input masks build the value from
        # the keys pressed and would keep a number's first digits twice otherwise.
        delay = max(delay_ms, MASK_KEY_DELAY_MS)
        await box.press_sequentially(action.value, delay=delay, timeout=10_000 + len(action.value) * (delay + 100))
        return
    text = action.value
    if action.field.get("tag") != "textarea":
        text = " ".join(text.splitlines())  # Enter in a one-line box would send the form
    keys, rest = text[:keys_typed], text[keys_typed:]
    try:
        await box.press_sequentially(keys, delay=delay_ms, timeout=10_000 + len(keys) * (delay_ms + 100))
        if rest:
            await frame.page.keyboard.insert_text(rest)
    except PlaywrightError:
        if await box.count() == 0:
            raise
        # Too slow to type on a busy machine: the value matters more than the pace.
        await box.fill(action.value)


def _digits_only(action: Action) -> bool:
    """Phone numbers and ZIP codes are typed as digits: masks add their own punctuation."""
    return action.kind.startswith("phone") or action.kind == "zip"


async def _clear_by_keys(box) -> None:
    """Empty a field, by Backspace where setting it empty does not hold: a key-driven
    mask keeps its own buffer of the keys pressed and writes it back over any value a
    script sets, so only Backspace takes its digits away."""
    await box.fill("")
    await box.press("End")
    for _ in range(min(len(await box.input_value()), MAX_BACKSPACES)):
        await box.press("Backspace")


async def _type_key_by_key(frame, action: Action) -> None:
    """Masked inputs reject values set at once: press each key, digits only for phones."""
    box = _locator(frame, action)
    await _clear_by_keys(box)
    keys = _digits(action.value) if _digits_only(action) else action.value
    # Masks want a human pace for a few digits; a long message is typed without pauses.
    delay = MASK_KEY_DELAY_MS if _digits_only(action) else 0
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


# The widget's item for one value, and whether the hidden select lacks that option.
_CHOICES_ITEM = ".choices__list--dropdown .choices__item--choice[data-value={value}]"
_LACKS_OPTION_JS = "(el, value) => ![...el.options].some((o) => o.value === value)"


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _select(frame, action: Action) -> None:
    box = _locator(frame, action)
    if action.field.get("in_choices") and await box.evaluate(_LACKS_OPTION_JS, action.value):
        # Choices.js: the other options live only in its list; open it and pick, as a person would.
        widget = box.locator("xpath=ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' choices ')][1]")
        await widget.click()
        await widget.locator(_CHOICES_ITEM.format(value=_css_string(action.value))).first.click()
    else:
        # Styled dropdowns (Select2, Chosen) hide the real select and mirror its change event.
        await box.select_option(value=action.value, force=bool(action.field.get("via_widget")))
    if await box.input_value() != action.value:
        raise FillProblem(f"The choice \u201c{field_name(action.field)}\u201d would not stay selected.")


async def _check(frame, action: Action) -> None:
    box = _locator(frame, action)
    try:
        if action.field.get("via_label"):
            # Only its label shows (a styled box): Playwright would wait in vain for the input.
            raise PlaywrightError("hidden behind its label")
        await box.check(timeout=1500)
    except PlaywrightError:
        # Styled checkboxes hide the input behind their label: click it the way the label would.
        await box.evaluate("el => { if (!el.checked) el.click(); }")
    if not await box.is_checked():
        raise FillProblem(f"The box \u201c{field_name(action.field)}\u201d could not be ticked.")


async def _uncheck(frame, action: Action) -> None:
    box = _locator(frame, action)
    try:
        if action.field.get("via_label"):
            raise PlaywrightError("hidden behind its label")
        await box.uncheck(timeout=1500)
    except PlaywrightError:
        await box.evaluate("el => { if (el.checked) el.click(); }")
    if await box.is_checked():
        raise FillProblem(
            f"The site ticked \u201c{field_name(action.field)}\u201d in advance and it would not stay unticked; "
            "the customer did not ask for offers, so nothing was sent."
        )


async def _act(frame, action: Action, delay_ms: int = 0, keys_typed: int = 0, watch: KeyWatch | None = None) -> None:
    try:
        if action.how == "type":
            await _type(frame, action, delay_ms, keys_typed, watch)
        elif action.how == "select":
            await _select(frame, action)
        elif action.how == "uncheck":
            await _uncheck(frame, action)
        else:
            await _check(frame, action)
    except PlaywrightError as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        stale = await _locator(frame, action).count() == 0
        raise FillProblem(
            f"The field \u201c{field_name(action.field)}\u201d could not be filled ({reason}).", stale=stale
        ) from exc


def _filled(action: Action, form: dict) -> FilledField:
    # A radio button's own label is the answer; its group's label is the question.
    f = action.field
    grouped = f["type"] == "radio" or (f["type"] == "checkbox" and f["kind"] in PROFILE_QUESTIONS)
    label = (f.get("group_label") or "").strip(" *:")[:60] if grouped else ""
    return FilledField(action.kind, label or field_name(f), action.shown,
                       key=value_key(f), type=review_type(f), options=offered(f, form))


# --- Forms that change as they are filled ------------------------------------------------

MAX_ROUNDS = 30  # plans of one form: one per choice, plus the typing between them
REQUEST_SETTLE_MS = 4000  # longest wait for what a choice asked the server for (options, fields)
OPTIONS_WAIT_MS = 4000  # longest wait for a select's options to arrive once nothing else is left

# After a choice the page may fetch options or show fields with an animation: wait until
# no finite CSS animation or jQuery effect runs inside the form (a slider elsewhere on the
# page, or a spinner that never stops, is not waited for).
_ANIMATIONS_DONE_JS = """(formId) => {
  const form = document.querySelector(`[data-dc="${formId}"]`);
  if (!form) return true;
  const inForm = (el) => !!el && el.nodeType === 1 && form.contains(el);
  const css = document.getAnimations ? document.getAnimations().some((a) => a.playState === 'running'
    && a.effect && inForm(a.effect.target) && a.effect.getTiming().iterations !== Infinity) : false;
  const timers = (window.jQuery && window.jQuery.timers) || [];
  const jq = timers.some((t) => t && inForm(t.elem));
  return !css && !jq;
}"""
# Resolves once any of these selects has different options or enabled state than given.
_OPTIONS_CHANGED_JS = """(before) => before.some(([id, shape]) => {
  const el = document.querySelector(`[data-dc="${id}"]`);
  return !el || (el.disabled + '|' + [...el.options].map((o) => o.value).join('\\u0001')) !== shape;
})"""


def _select_shape(f: dict) -> str:
    return f"{str(f['disabled']).lower()}|" + "\u0001".join(o["value"] for o in f["options"])


class _RequestsWatch:
    """The fetch/XHR requests a page starts while it is watched, so a choice that loads
    options or fields from the server is waited for, and nothing else is."""

    def __init__(self, page) -> None:
        self.page = page
        self.pending: set = set()
        self._changed = asyncio.Event()

    def _started(self, request) -> None:
        if request.resource_type in ("fetch", "xhr"):
            self.pending.add(request)

    def _ended(self, request) -> None:
        self.pending.discard(request)
        if not self.pending:
            self._changed.set()

    def __enter__(self) -> "_RequestsWatch":
        self.page.on("request", self._started)
        self.page.on("requestfinished", self._ended)
        self.page.on("requestfailed", self._ended)
        return self

    def __exit__(self, *_exc) -> None:
        for event, handler in (("request", self._started), ("requestfinished", self._ended),
                               ("requestfailed", self._ended)):
            self.page.remove_listener(event, handler)

    async def settled(self, timeout_s: float) -> None:
        if not self.pending:
            return
        self._changed.clear()
        try:
            await asyncio.wait_for(self._wait_empty(), timeout_s)
        except asyncio.TimeoutError:
            pass  # a slow or endless request is the site's business: read the form as it is

    async def _wait_empty(self) -> None:
        while self.pending:
            await self._changed.wait()
            self._changed.clear()


async def _choose(frame, form_dc: str, action: Action, clock) -> None:
    """One choice, then what it set off: requests for options or fields, and effects."""
    with _RequestsWatch(frame.page) as watch:
        await _act(frame, action)
        try:
            # Change handlers start their requests at once; give them one turn of the loop.
            await frame.evaluate("() => new Promise((r) => setTimeout(r, 0))")
        except PlaywrightError:
            return  # the choice replaced the page: reading the form again will say so
        await watch.settled(min(REQUEST_SETTLE_MS / 1000, clock.remaining_s()))
    try:
        await frame.wait_for_function(
            _ANIMATIONS_DONE_JS, arg=form_dc, timeout=min(2000, clock.remaining_ms()), polling=50
        )
    except PlaywrightError:
        pass  # an effect that never ends does not hold the attempt


async def _wait_for_options(frame, selects: list[dict], clock) -> None:
    before = [[f["dc"], _select_shape(f)] for f in selects]
    try:
        await frame.wait_for_function(
            _OPTIONS_CHANGED_JS, arg=before, timeout=min(OPTIONS_WAIT_MS, clock.remaining_ms()), polling=100
        )
    except PlaywrightError:
        pass  # still nothing to choose: the caller says which required field that leaves


def _same_group(form: dict, action: Action) -> set[str]:
    """A radio button stands for its whole group: once one is chosen, the group is done."""
    f = action.field
    grouped = f["type"] == "radio" or (f["type"] == "checkbox" and f["kind"] in PROFILE_QUESTIONS)
    if not grouped or not f["name"]:
        return {f["dc"]}
    return {g["dc"] for g in form["fields"] if g["type"] == f["type"] and g["name"] == f["name"]}


async def fill_form(frame, form: dict, customer: Customer, clock, skip: set[str] = frozenset(),
                    pace_s: float = 0, approved: dict[str, str] | None = None) -> tuple[list[FilledField], dict]:
    """Fill the form's shown fields (not those in `skip`), reading it again after every
    choice: a choice may load a dependent list's options (Year, then Make, then Model) or
    show fields the site's conditional logic asks for, which are filled in turn. With
    `pace_s` (the human-pace dwell, pace.py), each text field whose key events a script
    listens for (key_watch.py) starts with a few keys pressed one by one.
    `approved` (field key -> value, from a person's review) replaces the plan's values.

    Returns what was filled and the form as it now stands. Raises UnfillableField for a
    required field nothing honest fits, FillProblem for a value that would not stay.
    """
    watch = KeyWatch(frame.page) if pace_s > 0 else None
    try:
        return await _fill_rounds(frame, form, customer, clock, skip, pace_s, approved, watch)
    finally:
        if watch is not None:
            await watch.close()


async def _fill_rounds(frame, form: dict, customer: Customer, clock, skip: set[str], pace_s: float,
                       approved: dict[str, str] | None, watch: KeyWatch | None) -> tuple[list[FilledField], dict]:
    filled: list[FilledField] = []
    typed: list[Action] = []
    chosen: list[Action] = []
    done: set[str] = set(skip)
    waited: set[str] = set()
    for _round in range(MAX_ROUNDS):
        waiting: list[dict] = []
        refused: list[UnfillableField] = []
        actions = plan([f for f in form["fields"] if f["dc"] not in done], customer, waiting=waiting, refused=refused)
        if approved:
            actions = approve(actions, form, approved)
        if actions:
            # Type everything up to the first choice; after a choice the form is read again.
            first_choice = next((i for i, a in enumerate(actions) if a.how != "type"), len(actions))
            key_typed = [a for a in actions if a.how == "type" and a.field.get("type", "") in KEY_TYPED]
            keys = keys_per_field(len(key_typed))
            delay = key_delay_ms(pace_s, sum(min(len(a.value), keys) for a in key_typed))
            if watch is not None and delay:
                await watch.look_at(frame, [a.field["dc"] for a in key_typed])
            for action in actions[: first_choice + 1]:
                await clock.check()
                if action.how == "type":
                    await _act(frame, action, delay, keys, watch)
                    typed.append(action)
                else:
                    await _choose(frame, form["dc"], action, clock)
                    chosen.append(action)
                    waited.clear()  # a new choice may start new lists loading
                done.update(_same_group(form, action))
                filled.append(_filled(action, form))
        else:
            late = [f for f in waiting if f["dc"] not in waited]
            if not (late and chosen):
                break
            # Nothing else to do: give lists that load after a choice time to arrive.
            waited.update(f["dc"] for f in late)
            await _wait_for_options(frame, late, clock)
        form = await rescan_form(frame, form["dc"]) or form
    else:
        raise FillProblem("The contact form kept changing while it was filled; nothing was sent.")
    # Refused only once every choice is made: a choice may have hidden the field.
    if refused:
        raise refused[0]
    for f in waiting:
        if f["required"] and not f["disabled"]:
            raise UnfillableField(field_name(f))
    await _check_typed(frame, typed)
    # Only lists still shown: a later choice may have hidden one (Sales chosen over a
    # pre-checked Service hides the service questions), and the site has emptied it.
    shown = {f["dc"] for f in form["fields"] if f["visible"]}
    await _check_selected(frame, form["dc"], [a for a in chosen if a.how == "select" and a.field["dc"] in shown], clock)
    await _no_opt_in_left_ticked(frame, form)
    return filled, form


async def _check_selected(frame, form_dc: str, selects: list[Action], clock) -> None:
    """A later choice may have reset an earlier list (a Make list reloaded after a slow
    answer): choose again once what no longer holds."""
    if not selects:
        return
    values = await frame.evaluate(_READ_VALUES_JS, [a.field["dc"] for a in selects])
    for action, value in zip(selects, values):
        if value is not None and value != action.value:
            await _choose(frame, form_dc, action, clock)


async def _no_opt_in_left_ticked(frame, form: dict) -> None:
    """The last word on marketing opt-ins before anything is sent: one still ticked (hidden
    with its label, or ticked again by a script) is unticked, or nothing is sent."""
    for f in form["fields"]:
        if f["type"] == "checkbox" and f["kind"] == k.MARKETING and f["checked"] and not f["required"]:
            action = Action(f, k.MARKETING, "uncheck", "no", "unticked")
            box = _locator(frame, action)
            await box.evaluate(
                "el => { if (el.checked) { el.checked = false; el.dispatchEvent(new Event('input', {bubbles: true}));"
                " el.dispatchEvent(new Event('change', {bubbles: true})); } }"
            )
            if await box.is_checked():
                await _uncheck(frame, action)
