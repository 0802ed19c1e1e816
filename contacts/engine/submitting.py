"""Choosing the form's submit control, and pressing it exactly once."""

from __future__ import annotations

import re

from playwright.async_api import Error as PlaywrightError

NEXT_TEXT = re.compile(r"^\W*(next|continue|proceed|siguiente|continuar|avanzar)\b|^\W*(go |on )?to step \d", re.I)
# Form plugins name their step controls in their classes (gform_next_button,
# wpforms-page-next, nf-next, forminator-button-next), whatever the button says.
NEXT_CLASS = re.compile(r"(^|[\s_-])(page-)?next($|\s|[_-](button|btn|step|page|link)\b)", re.I)
SUBMIT_TEXT = re.compile(
    r"submit|send|contact|request|get (my |your |the )?(e-?price|quote|info|offer)|ask|inquire|message|confirm|finish"
    r"|enviar|solicitar|go\b|done|save|get started|let'?s talk|check availability|\bbook\b|reserve|agendar|reservar",
    re.I,
)
NOT_SUBMIT_TEXT = re.compile(
    r"^\W*(reset|clear|cancel|close|back|previous|prev|search|log ?in|sign ?in|subscribe|upload|browse|add|remove"
    r"|show|hide|menu|×|x|atr[aá]s|cancelar|cerrar)\W*$",
    re.I,
)


def _usable(button: dict) -> bool:
    return button["visible"] and not button["disabled"] and not NOT_SUBMIT_TEXT.search(button["text"] or "")


def says_next(button: dict) -> bool:
    """A control that moves a form to its next step: it says so, or its classes do and its
    words do not say it sends the form (a last step's "Submit" keeps the Next's classes)."""
    text = button["text"] or ""
    if NEXT_TEXT.search(text):
        return True
    classes = button["classes"] or ""
    # Forminator's last page keeps forminator-button-next beside forminator-button-submit.
    return bool(NEXT_CLASS.search(classes)) and not SUBMIT_TEXT.search(text) and "submit" not in classes.lower()


def next_button(form: dict) -> dict | None:
    for b in form["buttons"]:
        if _usable(b) and says_next(b):
            return b
    return None


def submit_button(form: dict) -> dict | None:
    """The control that sends the form: a submit-typed button, else one that says so."""
    candidates = [b for b in form["buttons"] if _usable(b) and not says_next(b)]

    def rank(b: dict) -> int:
        score = 0
        if b["type"] in ("submit", "image"):
            score += 4
        if SUBMIT_TEXT.search(b["text"] or ""):
            score += 3
        if re.search(r"submit|send", b["classes"], re.I):
            score += 2
        if b["type"] in ("button",) and not SUBMIT_TEXT.search(b["text"] or ""):
            score -= 3
        return score

    candidates = [b for b in candidates if rank(b) > 0]
    return max(candidates, key=rank) if candidates else None


async def press(frame, button: dict) -> None:
    """One activation of the control. If something covers it (a chat bubble, a sticky
    bar) the click is delivered to the control itself instead; never both."""
    target = frame.locator(f'[data-dc="{button["dc"]}"]').first
    try:
        await target.scroll_into_view_if_needed(timeout=1500)
        await target.click(trial=True, timeout=1500)
    except PlaywrightError:
        await target.dispatch_event("click")
        return
    await target.click(timeout=3000, no_wait_after=True)
