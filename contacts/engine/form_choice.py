"""Which of a page's forms is the dealer's sales/general contact form, if any.

Pure functions over scan.js form descriptors whose fields already have a "kind".
"""

from __future__ import annotations

import re

from contacts.engine import classifying as k
from contacts.engine.submitting import next_button

_SALES_CHOICE = re.compile(r"\bsales\b|\bventas\b", re.I)
# A form that is clearly for something else is never a contact form, however it is built.
_NOT_CONTACT = [
    ("newsletter", re.compile(r"newsletter|subscribe|sign up for (our )?(e-?mail|news|updates|offers)|suscr[ií]b|bolet[ií]n", re.I)),
    ("service scheduling", re.compile(r"schedule (a )?service|service (appointment|scheduler|request|scheduling)|book (a |your )?service|maintenance appointment|cita de servicio", re.I)),
    ("parts request", re.compile(r"parts (request|order|department|inquiry)|order parts|part number", re.I)),
    ("login", re.compile(r"\blog ?in\b|sign ?in\b|forgot (your )?password|create (an |your )?account|iniciar sesi[oó]n", re.I)),
    ("job application", re.compile(r"career|\bresume\b|\br[eé]sum[eé]\b|job application|apply for (this|a) (job|position)|empleo", re.I)),
    ("credit application", re.compile(r"credit app|social security|\bssn\b|monthly income|apply for financing|finance application|pre-?qualif|pre-?approv|get approved|solicitud de cr[eé]dito", re.I)),
    ("trade-in appraisal", re.compile(r"value your trade|trade-?in (value|appraisal)|what'?s my car worth|appraise|sell (us )?your (car|vehicle)|instant (cash )?offer|we buy cars", re.I)),
    ("privacy request", re.compile(r"do not sell|opt[- ]?out|unsubscribe|privacy (rights )?request|data (access |deletion )?request|\bccpa\b|personal information request", re.I)),
    ("review", re.compile(r"write a review|leave (us )?a review|testimonial", re.I)),
    ("event registration", re.compile(r"\brsvp\b|register for (the|our|this) event", re.I)),
]
# Judged on the form's name, heading and buttons only: contact forms often mention chat.
# Texting widgets ("Text with a team member", "Send us a text") start an SMS conversation.
_CHAT = re.compile(
    r"\bchat\b|live ?chat|\btext (us|with)\b|send us a text|\btexting\b|\bsms\b|start (a )?conversation"
    r"|podium|gubagoo|kenect|textus",
    re.I,
)
_CONTACT_WORDS = re.compile(
    r"contact|get in touch|send (us )?a message|message us|ask a question|question|inquiry|enquiry|request (more )?info"
    r"|e-?price|sales|how can we help|quote|availability|test drive|inquire|cont[aá]ct|env[ií]enos|mensaje|pregunta"
    r"|cotizaci[oó]n",
    re.I,
)
# A form headed for another department (the service desk, the parts counter, the body
# shop) does not reach sales, however contact-like its fields; judged on its heading and
# buttons only, as a general form's department list names them all.
_OTHER_DEPARTMENT = re.compile(
    r"(?<!customer )\bservice\b|\bparts\b|body shop|collision|servicio|refacciones|repuestos", re.I
)
_SALES_TOO = re.compile(r"\bsales\b|ventas|general", re.I)
# Without a message box, these words make a name-and-email form a mailing list sign-up.
_SIGN_UP_WORDS = re.compile(
    r"sign ?up|join|stay (in touch|informed|in the loop|connected|up to date)|get (updates|offers|deals|alerts)"
    r"|notify me|price (drop )?alerts?|keep me (posted|informed)|register",
    re.I,
)
# Questions only a credit application asks. A contact form never wants the customer's
# birth date, income or SSN, whatever its heading says ("Check your buying power").
_CREDIT_QUESTION = re.compile(
    r"social security|\bssn\b|date of birth|birth ?date|\bdob\b|fecha de nacimiento|(annual|monthly|gross|yearly) income"
    r"|employment status|time at (job|employer|address|residence)|(housing|rent|mortgage) payment"
    r"|ingresos",
    re.I,
)
_FILTER_KINDS = {k.VEHICLE_YEAR, k.VEHICLE_MAKE, k.VEHICLE_MODEL, k.VEHICLE_TRIM, k.CONDITION, k.SEARCH, k.STOCK}
_NAME_KINDS = {k.FIRST_NAME, k.LAST_NAME, k.FULL_NAME}
_PHONE_KINDS = {k.PHONE, k.PHONE_AREA}


def usable_fields(form: dict) -> list[dict]:
    """Fields a person can fill now, and in a wizard also those of its later steps."""
    wizard = next_button(form) is not None
    return [
        f for f in form["fields"]
        if (f["visible"] or wizard) and not f["disabled"] and f["kind"] != k.HONEYPOT
    ]


def _offers_sales(fields: list[dict]) -> bool:
    """Whether a department list or radio group among `fields` has a Sales choice."""
    for f in fields:
        if f["kind"] != k.DEPARTMENT:
            continue
        choices = [o["text"] for o in f.get("options", [])] + ([f.get("label", "")] if f["type"] == "radio" else [])
        if any(_SALES_CHOICE.search(choice) for choice in choices):
            return True
    return False


def form_purpose(form: dict) -> tuple[str, int]:
    """("contact", score) for a contact form, else (what it is instead, 0)."""
    if not any(f["visible"] for f in form["fields"]):
        return "hidden", 0
    fields = usable_fields(form)
    kinds = {f["kind"] for f in fields}
    if not fields:
        return "hidden", 0
    if any(f["kind"] == k.PASSWORD and f["visible"] for f in fields):
        # Only a password a person can see: Gravity Forms' hidden honeypot asks browsers
        # not to autofill it with autocomplete="new-password".
        return "login", 0
    # The form's own words, without its fields' option lists that mention every make.
    # Its own words: heading, names, address, buttons and its opening text, not the
    # option lists or the small print further down.
    words = " ".join([form.get("heading", ""), form.get("id", ""), form.get("classes", ""), form.get("action", ""),
                      form.get("text", "")[:150]] + [b["text"] for b in form["buttons"]])
    has_email = k.EMAIL in kinds
    has_phone = bool(kinds & _PHONE_KINDS)
    has_message = k.MESSAGE in kinds
    has_name = bool(kinds & _NAME_KINDS)
    # A multi-part form that draws one part at a time (Ninja Forms) may ask for the vehicle
    # first and how to reply later: its own words say whether it is a contact form.
    later_parts = next_button(form) is not None and bool(_CONTACT_WORDS.search(words))
    if not (has_email or has_phone or later_parts):
        if kinds & _FILTER_KINDS or k.SEARCH in kinds or len(fields) <= 2:
            return "search or filter", 0
        return "no way to reply", 0
    identity = " ".join([form.get("heading", ""), form.get("id", ""), form.get("classes", "")]
                        + [b["text"] for b in form["buttons"]])
    if _CHAT.search(identity):
        return "chat", 0
    if any(_CREDIT_QUESTION.search(k.field_texts(f)) for f in fields):
        return "credit application", 0
    # A department choice that offers Sales reaches sales, whatever another department's
    # pre-selected questions say at the top (Service pre-checked, "Service Requested" shown).
    sales_offered = _offers_sales(fields)
    for purpose, pattern in _NOT_CONTACT:
        if pattern.search(words) and not (has_message and purpose in ("newsletter", "login")):
            if sales_offered and purpose in ("service scheduling", "parts request"):
                continue
            return purpose, 0
    addressed = " ".join([form.get("heading", "")] + [b["text"] for b in form["buttons"]])
    if _OTHER_DEPARTMENT.search(addressed) and not _SALES_TOO.search(addressed):
        return "another department", 0
    if purpose_is_scheduling(kinds) and not has_message:
        return "service scheduling", 0
    if not has_message and not has_name and not later_parts:
        return "newsletter", 0
    if not has_message and _SIGN_UP_WORDS.search(words):
        return "newsletter", 0
    if not has_message and not _CONTACT_WORDS.search(words):
        return "no message and no sign it reaches sales", 0
    score = 10
    score += 6 if has_message else 0
    score += 3 if has_email else 0
    score += 2 if has_phone else 0
    score += 2 if has_name else 0
    score += 4 if _CONTACT_WORDS.search(words) else 0
    score -= 2 * len(kinds & {k.DATE, k.TIME})
    return "contact", score


def purpose_is_scheduling(kinds: set[str]) -> bool:
    return bool(kinds & {k.DATE, k.TIME})


def best_contact_form(forms: list[dict]) -> dict | None:
    best, best_score = None, 0
    for form in forms:
        purpose, score = form_purpose(form)
        form["purpose"] = purpose
        if purpose == "contact" and score > best_score:
            best, best_score = form, score
    return best


def closed_contact_forms(forms: list[dict]) -> list[dict]:
    """Forms that would be the contact form if a person opened them (no field shown yet:
    a closed accordion, <details> or tab), best first. Which of them can be opened is
    for the page to say."""
    scored = []
    for form in forms:
        if any(f["visible"] for f in form["fields"]):
            continue
        shown = {**form, "fields": [{**f, "visible": True} for f in form["fields"]]}
        purpose, score = form_purpose(shown)
        if purpose == "contact":
            scored.append((score, form))
    scored.sort(key=lambda item: -item[0])
    return [form for _, form in scored]


# What a later step's own questions or words can show, whatever the first step looked like.
_PLAIN_PURPOSES = {"job application", "credit application", "trade-in appraisal", "privacy request"}


def plainly_not_contact(form: dict) -> str:
    """What the shown part of a form is for when its questions or words say it is not a
    contact form: a credit application's SSN and income, a password, a job or trade-in
    heading ("" when nothing says so). For a multi-step form's later steps, which may
    not repeat the email asked on the first."""
    fields = [f for f in form["fields"] if f["visible"] and not f["disabled"] and f["kind"] != k.HONEYPOT]
    if any(f["kind"] == k.PASSWORD for f in fields):
        return "login"
    if any(_CREDIT_QUESTION.search(k.field_texts(f)) for f in fields):
        return "credit application"
    words = " ".join([form.get("heading", ""), form.get("text", "")[:150]] + [b["text"] for b in form["buttons"]])
    for purpose, pattern in _NOT_CONTACT:
        if purpose in _PLAIN_PURPOSES and pattern.search(words):
            return purpose
    return ""
