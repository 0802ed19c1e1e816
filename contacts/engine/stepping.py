"""Moving a multi-step form (Forminator pages, Gravity Forms pages, WPForms page breaks,
Ninja Forms parts, hand-made wizards) on to its next step, never sending it.

A "Next" or "Continue" is pressed as a step only when it surely is one; the form is then
read again, found again if the step re-rendered it (Gravity Forms posts each page and
redraws the form), and its new fields are filled by the caller. The final submit is
never pressed here.
"""

from __future__ import annotations

import re
import time

from contacts.engine import classifying as k
from contacts.engine import outcomes
from contacts.engine.form_choice import best_contact_form, form_purpose, plainly_not_contact
from contacts.engine.scanning import rescan_form, scan_frame
from contacts.engine.submitting import NEXT_CLASS, press, submit_button
from contacts.engine.verifying import SUCCESS_TEXT, form_state

STEP_WAIT_S = 5.0  # for the next step to show (a Gravity Forms page is a round trip)
_POLL_MS = 200
# A form that shows it has pages: its plugin's classes, a progress line ("Step 1 of 3").
PAGED_FORM = re.compile(
    r"multi-?step|multi-?part|wizard|paginat|page-?break|gform_page|wpforms-page|forminator-pagination|nf-mp|nf-breadcrumb"
    r"|frm_page_num|frm_page_order|ff-step|fluentform-step"
    r"|\bstep \d+ (of|/) \d+|\bpage \d+ (of|/) \d+|\bpart \d+ of \d+|\bpaso \d+ de \d+",
    re.I,
)
_NOT_FILLED = {k.HONEYPOT, k.CAPTCHA}
# "Next" always leads to another step (Formidable's page "Next" is a plain submit button
# the server answers with page two); only "Continue" may send a one-page form.
_SAYS_NEXT_STEP = re.compile(r"^\W*(next|siguiente|avanzar)\b|\bstep \d|\bpaso \d", re.I)
_REPLY_KINDS = {k.EMAIL, k.PHONE, k.PHONE_LOCAL, k.PHONE_AREA, k.PHONE_PREFIX, k.PHONE_LINE}


def asks_how_to_reply(filled: list) -> bool:
    """Whether the steps filled so far (FilledFields) gave the dealer a way to answer."""
    return any(f.kind in _REPLY_KINDS for f in filled)


class StepProblem(Exception):
    """The form would not go on to its next step, or its next step showed it is not a
    contact form; the message says what it showed, `status` is the outcome."""

    def __init__(self, message: str, status: str = outcomes.FAILED) -> None:
        super().__init__(message)
        self.status = status


def field_key(field: dict) -> str:
    """What names a field across a re-render: its name or id (our data-dc tag is lost
    when a plugin redraws the form)."""
    return field["name"] or field["id"] or field["dc"]


def has_later_steps(form: dict, done: set[str]) -> bool:
    """Fields of the form still hidden (a later page) that nothing has filled yet."""
    return any(
        not f["visible"] and field_key(f) not in done and f["kind"] not in _NOT_FILLED
        and f["type"] not in ("checkbox", "radio")
        for f in form["fields"]
    )


def leads_on(step: dict, form: dict, done: set[str]) -> bool:
    """Whether pressing `step` shows another step rather than sending the form. A lone
    "Continue" on a one-page form sends it; a "Next", a plugin's step control, or any
    Continue on a form that has hidden pages or says it has steps never does."""
    if has_later_steps(form, done) or NEXT_CLASS.search(step["classes"] or "") or _SAYS_NEXT_STEP.search(step["text"] or ""):
        return True
    words = " ".join([form.get("id", ""), form.get("classes", ""), form.get("text", "")])
    return bool(PAGED_FORM.search(words))


def _moved_on(form: dict, shown_before: set[str]) -> bool:
    fresh = [f for f in form["fields"] if f["visible"] and f["kind"] not in _NOT_FILLED and field_key(f) not in shown_before]
    return bool(fresh) or submit_button(form) is not None


# What a later step of a contact form may look like on its own (page two of Gravity Forms
# shows only the message box); anything else is another form on the page.
_A_LATER_STEP = {"contact", "no way to reply", "no message and no sign it reaches sales", "search or filter"}


def _likeness(candidate: dict, form: dict) -> int:
    """How surely `candidate` is `form` drawn again (a later step has other fields, so the
    form's own marks count: its id, name, classes, action and heading, and the fields the
    two share, hidden ones included)."""
    score = 0
    for key, weight in (("id", 10), ("name", 5), ("classes", 3), ("action", 3), ("heading", 3)):
        if form.get(key) and candidate.get(key) == form[key]:
            score += weight
    before = {field_key(f) for f in form["fields"]}
    if any(field_key(f) in before for f in candidate["fields"]):
        score += 2
    return score


async def _find_again(frame, form: dict) -> dict | None:
    """The form after a step redrew it: the most like it on the page, else the page's
    contact form. Never a form plainly for something else (a newsletter beside it)."""
    scan = await scan_frame(frame)
    if not scan:
        return None
    shown = [
        f for f in scan["forms"]
        if any(field["visible"] for field in f["fields"]) and form_purpose(f)[0] in _A_LATER_STEP
    ]
    alike = max(shown, key=lambda f: _likeness(f, form), default=None)
    if alike is not None and _likeness(alike, form) >= 3:
        return alike
    return best_contact_form(scan["forms"])


async def next_step(frame, form: dict, step: dict, clock) -> dict:
    """Press the step control once and return the form as its next step shows it."""
    shown_before = {field_key(f) for f in form["fields"] if f["visible"]}
    before = await form_state(frame, form["dc"])
    await press(frame, step)
    give_up = time.monotonic() + STEP_WAIT_S
    while True:
        await clock.check()
        await frame.page.wait_for_timeout(_POLL_MS)
        current = await rescan_form(frame, form["dc"]) or await _find_again(frame, form)
        if current is not None and _moved_on(current, shown_before):
            purpose = plainly_not_contact(current)
            if purpose:
                # Its next step asks for an SSN or income: a credit application, sent nothing.
                raise StepProblem(f"The form turned out to be a {purpose} on its next step; it was not submitted.",
                                  outcomes.NO_FORM)
            return current
        if time.monotonic() >= give_up:
            break
    state = await form_state(frame, form["dc"])
    if state and before and len(SUCCESS_TEXT.findall(state["text"])) > len(SUCCESS_TEXT.findall(before["text"])):
        # The "step" sent the form (a last page's submit still dressed as Next): say so.
        raise StepProblem("The form was sent by its last step's button, which looked like a Next.", outcomes.SUBMITTED)
    errors = "; ".join(state["errors"][:2]) if state else ""
    raise StepProblem(
        "The contact form would not go on to its next step" + (f": {errors[:200]}" if errors else ".")
    )
