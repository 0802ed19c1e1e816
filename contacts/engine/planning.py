"""What to put in each field of the chosen form, decided before touching the page.

Pure: field descriptors (with "kind") and the customer in, a list of Actions out, or
UnfillableField naming the required field no honest value exists for.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from contacts.engine import answers
from contacts.engine import classifying as k
from contacts.engine.types import Customer


@dataclass
class Action:
    field: dict
    kind: str
    how: str  # "type", "select" (value is the option's value), "check", "uncheck"
    value: str
    shown: str  # what the site shows for the value (an option's text, a checkbox's label)


class UnfillableField(Exception):
    """A required field no honest value exists for; `answer` is the profile's answer
    (for the questions of engine/answers.py) that none of the site's choices says."""

    def __init__(self, label: str, answer: str = "", choices: tuple[str, ...] = ()) -> None:
        super().__init__(label)
        self.label = label
        self.answer = answer
        self.choices = choices

    def sentence(self) -> str:
        """The `failed` reason, naming the question."""
        if self.answer:
            offered = ", ".join(f"\u201c{c}\u201d" for c in self.choices[:6])
            return (f"The form requires \u201c{self.label}\u201d and none of its choices ({offered}) fits the "
                    f"profile's answer \u201c{self.answer}\u201d; nothing was sent.")
        return f"The form requires \u201c{self.label}\u201d, which the profile cannot answer."


# Field kinds that ask one of the profile's questions, and which question.
PROFILE_QUESTIONS = {
    k.CURRENT_CUSTOMER: answers.CURRENT_CUSTOMER,
    k.HAS_TRADE_IN: answers.TRADE_IN,
    k.FINANCING: answers.FINANCING,
    k.HEAR_ABOUT: answers.HEARD_ABOUT,
    k.CONTACT_TIME: answers.BEST_TIME,
}


def profile_answer(kind: str, customer: Customer) -> tuple[str, str]:
    """(question, the customer's answer code) for a question kind."""
    question = PROFILE_QUESTIONS[kind]
    return question, getattr(customer, question) or answers.DEFAULTS[question]


_PLACEHOLDER_OPTION = re.compile(
    r"^\W*$|select|choose|pick|please|--|^\s*(none|n/?a)\s*$|seleccion|elija|escoja", re.I
)
_OTHER_OPTION = re.compile(r"\b(other|not sure|undecided|unsure|any|no preference|otro|cualquier)\b", re.I)
_METHOD_WORDS = {
    "email": re.compile(r"e-?mail|correo", re.I),
    "phone": re.compile(r"phone|call|tel[eé]fono|llamada", re.I),
    "text": re.compile(r"\btext|sms|mensaje de texto", re.I),
}
_DEPARTMENT_PREFERENCE = [
    re.compile(r"new (vehicle|car)s? sales|sales|ventas", re.I),
    re.compile(r"\bnew\b|nuevo", re.I),
    re.compile(r"general|internet|inquiry|information|informaci[oó]n", re.I),
]
_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico",
}


def field_name(field: dict) -> str:
    """How to name a field to a person: its label, else whatever else describes it."""
    for key in ("label", "group_label", "aria_label", "placeholder", "nearby", "title", "name", "id"):
        text = (field.get(key) or "").strip(" *:")
        if text:
            return text[:60]
    return "an unnamed field"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def real_options(field: dict) -> list[dict]:
    options = [o for o in field.get("options", []) if not o["disabled"]]
    return [o for o in options if o["value"].strip() and not _PLACEHOLDER_OPTION.search(o["text"] or o["value"])]


def _pick(options: list[dict], patterns: list[re.Pattern]) -> dict | None:
    for pattern in patterns:
        for o in options:
            if pattern.search(o["text"]) or pattern.search(o["value"]):
                return o
    return None


def _pick_equal(options: list[dict], wanted: str) -> dict | None:
    """The option that is `wanted`, or else the one that starts with it and adds the
    fewest words of its own before any aside: inventory lists add a stock number or a
    price ("2024 Toyota RAV4 XLE (Stock #T1187)"), and a longer trim listed first
    ("... XLE Premium") is another car."""
    target = _norm(wanted)
    if not target:
        return None
    for o in options:
        if _norm(o["text"]) == target or _norm(o["value"]) == target:
            return o
    starting = [o for o in options if _norm(o["text"]).startswith(target)]
    return min(starting, key=lambda o: _words_added(o["text"], target), default=None)


# Where what an option adds to a name stops being more of the name: "(", "-", "|", "$", "#"...
_ASIDE = re.compile(r"[(\[{|,:;$#/\u2013\u2014]|\s-\s")


def _words_added(text: str, start: str) -> int:
    """How many words `text` adds after its letters and digits spell `start` (as _norm
    squashes them), up to the first aside. A word `start` ends inside counts as added."""
    matched, lowered = 0, text.lower()
    for position, char in enumerate(lowered):
        if matched == len(start):
            rest = lowered[position:]
            return len(re.findall(r"[^\W_]+", _ASIDE.split(rest, maxsplit=1)[0]))
        if re.match(r"[a-z0-9]", char):
            matched += 1
    return 0


def _condition_wanted(customer: Customer) -> str:
    year = int(customer.vehicle_year) if customer.vehicle_year.isdigit() else 0
    return "used" if year and year < datetime.date.today().year - 1 else "new"


# Kinds answered from the customer's own data: left alone when optional and nothing matches.
_CUSTOMER_DATA_KINDS = {k.CONTACT_METHOD, k.STATE, k.VEHICLE_YEAR, k.VEHICLE_MAKE, k.VEHICLE_MODEL, k.VEHICLE_TRIM}
# Optional choices still worth making: they route the inquiry to the sales team.
_WORTH_ANSWERING = {k.DEPARTMENT, k.SUBJECT, k.VEHICLE, k.UNKNOWN}


def _customer_answer(kind: str, options: list[dict], customer: Customer) -> dict | None:
    if kind == k.CONTACT_METHOD:
        preferred = _METHOD_WORDS.get(customer.preferred_contact, _METHOD_WORDS["email"])
        return _pick(options, [preferred, _METHOD_WORDS["email"]])
    if kind == k.STATE:
        return _pick_equal(options, customer.state) or _pick_equal(options, _STATES.get(customer.state, ""))
    if kind == k.VEHICLE:
        return _pick_equal(options, customer.vehicle) or _pick_equal(
            options, f"{customer.vehicle_make} {customer.vehicle_model}"
        )
    if kind in PROFILE_QUESTIONS:
        return answers_option(kind, options, customer)
    wanted = {
        k.VEHICLE_YEAR: customer.vehicle_year,
        k.VEHICLE_MAKE: customer.vehicle_make,
        k.VEHICLE_MODEL: customer.vehicle_model,
        k.VEHICLE_TRIM: customer.vehicle_trim,
    }.get(kind, "")
    return _pick_equal(options, wanted)


def _sensible_answer(kind: str, options: list[dict], customer: Customer) -> dict | None:
    if kind in _WORTH_ANSWERING:
        # "Department", "Reason for inquiry", "I'm interested in": the sales side.
        return _pick(options, _DEPARTMENT_PREFERENCE)
    if kind == k.CONDITION:
        wanted = _condition_wanted(customer)
        words = r"\bnew\b|nuevo" if wanted == "new" else r"\bused\b|pre-?owned|usado|seminuevo"
        return _pick(options, [re.compile(words, re.I)])
    return None


def choose_option(kind: str, options: list[dict], customer: Customer, required: bool) -> dict | None:
    """The option to choose for a select or radio group, or None to leave it alone."""
    if not options:
        return None
    if kind in PROFILE_QUESTIONS:
        # Answered only where the form insists, and only with what the profile says: a
        # customer who can be reached any time did not say "Morning".
        return answers_option(kind, options, customer) if required else None
    matched = _customer_answer(kind, options, customer)
    if matched or (kind in _CUSTOMER_DATA_KINDS and not required):
        return matched
    sensible = _sensible_answer(kind, options, customer)
    if not required:
        return sensible if kind in _WORTH_ANSWERING else None
    # Required, and the customer has no answer: "Other"/"Not sure", or the only one there is.
    return sensible or _pick(options, [_OTHER_OPTION]) or (options[0] if len(options) == 1 else None)


def answers_option(kind: str, options: list[dict], customer: Customer) -> dict | None:
    """The option that says the profile's answer to this question, or None."""
    return answers.pick(*profile_answer(kind, customer), options)


def _unanswerable(kind: str, label: str, options: list[dict], customer: Customer) -> UnfillableField:
    if kind in PROFILE_QUESTIONS:
        question, answer = profile_answer(kind, customer)
        return UnfillableField(label, answers.label(question, answer), tuple(o["text"] for o in options))
    return UnfillableField(label)


def text_value(kind: str, field: dict, customer: Customer) -> str:
    """What to type into a text field of this kind ("" = nothing sensible)."""
    digits = customer.phone_digits
    values = {
        k.FIRST_NAME: customer.first_name,
        k.LAST_NAME: customer.last_name,
        k.FULL_NAME: customer.full_name,
        k.EMAIL: customer.email,
        k.EMAIL_CONFIRM: customer.email,
        k.PHONE: phone_as_expected(digits, field),
        k.PHONE_LOCAL: digits[3:],
        k.PHONE_AREA: digits[:3],
        k.PHONE_PREFIX: digits[3:6],
        k.PHONE_LINE: digits[6:],
        k.ZIP: customer.zip_code,
        k.MESSAGE: customer.message,
        k.CITY: customer.city,
        k.STATE: customer.state,
        k.VEHICLE: customer.vehicle,
        k.VEHICLE_YEAR: customer.vehicle_year,
        k.VEHICLE_MAKE: customer.vehicle_make,
        k.VEHICLE_MODEL: customer.vehicle_model,
        k.VEHICLE_TRIM: customer.vehicle_trim,
        k.SUBJECT: f"Inquiry about the {customer.vehicle}" if customer.vehicle else "Sales inquiry",
        k.CONTACT_METHOD: {"phone": "Phone", "text": "Text"}.get(customer.preferred_contact, "Email"),
        k.DEPARTMENT: "Sales",
    }
    if kind in PROFILE_QUESTIONS:
        # A typed answer is the profile's own words ("No", "Internet", "Any time").
        return answers.label(*profile_answer(kind, customer))
    return values.get(kind, "")


_ALWAYS_TYPED = {k.FIRST_NAME, k.LAST_NAME, k.FULL_NAME, k.EMAIL, k.EMAIL_CONFIRM, k.PHONE, k.PHONE_LOCAL, k.PHONE_AREA,
                 k.PHONE_PREFIX, k.PHONE_LINE, k.MESSAGE, k.ZIP, k.VEHICLE, k.VEHICLE_YEAR, k.VEHICLE_MAKE,
                 k.VEHICLE_MODEL, k.VEHICLE_TRIM}
_NEVER_TOUCHED = {k.HONEYPOT, k.PASSWORD, k.SEARCH, k.CAPTCHA}


def plan(fields: list[dict], customer: Customer, waiting: list[dict] | None = None,
         refused: list[UnfillableField] | None = None) -> list[Action]:
    """Actions for the visible fields of one form (or one step of it).

    With a `waiting` list, a select that has no options to choose from yet (a Model list
    that fills once a Make is chosen) is put there instead of being refused; with a
    `refused` list, a required field nothing fits is put there instead of raising. Either
    way the caller makes the choices it can first (which may load those options, or hide
    that field) and asks again.
    """
    actions: list[Action] = []
    radio_groups: dict[str, list[dict]] = {}

    def add(make_action, *args) -> None:
        try:
            action = make_action(*args)
        except UnfillableField as missing:
            if refused is None:
                raise
            refused.append(missing)
            return
        if action:
            actions.append(action)

    for f in fields:
        if waiting is not None and _options_pending(f):
            waiting.append(f)
            continue
        if f["type"] == "checkbox" and f["checked"] and f["kind"] == k.MARKETING and not f["disabled"] and (
            f["visible"] or f.get("via_label")
        ):
            add(_pre_ticked_opt_in_action, f)
            continue
        if not f["visible"] or f["disabled"] or f["readonly"] or f["kind"] in _NEVER_TOUCHED:
            continue
        if f["type"] == "radio" or (f["type"] == "checkbox" and f["kind"] in PROFILE_QUESTIONS):
            # Boxes under one question are answered as a radio group is: one choice.
            radio_groups.setdefault(f["name"] or f["dc"], []).append(f)
        elif f["type"] == "checkbox":
            add(_checkbox_action, f)
        elif f["type"] == "select":
            add(_select_action, f, customer)
        else:
            add(_text_action, f, customer)
    for group in radio_groups.values():
        add(_radio_action, group, customer)
    return actions


def _text_action(f: dict, customer: Customer) -> Action | None:
    if f["value"].strip() and f["kind"] not in _ALWAYS_TYPED:
        return None  # the site filled it in already (a vehicle of interest, a subject)
    # Optional fields get only the customer's own details; required ones also the
    # obvious answers (a subject, "Sales"), and nothing is ever made up.
    value = text_value(f["kind"], f, customer) if f["kind"] in _ALWAYS_TYPED or f["required"] else ""
    if not value:
        if f["required"]:
            raise UnfillableField(field_name(f))
        return None
    return Action(f, f["kind"], "type", value, value)


def _options_pending(f: dict) -> bool:
    """A shown select with nothing to choose yet: empty (or "Loading…"), or disabled and
    empty until an earlier choice is made."""
    if f["type"] != "select" or not f["visible"] or f["kind"] in _NEVER_TOUCHED or real_options(f):
        return False
    return f["disabled"] or f["required"] or f["kind"] in _CUSTOMER_DATA_KINDS


def phone_as_expected(digits: str, field: dict) -> str:
    """The ten digits in the shape the field's pattern demands, else as bare digits
    (input masks format them as they are typed)."""
    shapes = [digits, f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
              f"{digits[:3]}.{digits[3:6]}.{digits[6:]}", f"{digits[:3]} {digits[3:6]} {digits[6:]}",
              f"({digits[:3]}){digits[3:6]}-{digits[6:]}", f"+1{digits}", f"1{digits}"]
    pattern = field.get("pattern") or ""
    if pattern:
        try:
            matcher = re.compile(f"^(?:{pattern})$")
        except re.error:
            return digits
        return next((shape for shape in shapes if matcher.match(shape)), digits)
    return digits


def _pre_ticked_opt_in_action(f: dict) -> Action | None:
    """A marketing opt-in the site ticked in advance: the customer asked about a car, not
    for offers, so it is unticked. One the form requires is ticked only when its words
    also agree to being contacted about the inquiry; one that only signs up for offers
    cannot be sent honestly."""
    if not f["required"]:
        return Action(f, k.MARKETING, "uncheck", "no", "unticked")
    if k.agrees_to_contact(f):
        return None
    raise UnfillableField(field_name(f))


def _checkbox_action(f: dict) -> Action | None:
    if f["checked"]:
        return None
    if f["required"] and f["kind"] in (k.CONSENT, k.MARKETING) and k.agrees_to_contact(f):
        # Required to send the inquiry the customer asked us to send.
        return Action(f, k.CONSENT, "check", "yes", field_name(f))
    if f["required"]:
        raise UnfillableField(field_name(f))
    return None


def _select_action(f: dict, customer: Customer) -> Action | None:
    options = real_options(f)
    selected = next((o for o in f["options"] if o["selected"]), None)
    chosen = choose_option(f["kind"], options, customer, f["required"])
    if chosen is None and f["kind"] in PROFILE_QUESTIONS and selected in options:
        # An answer the site pre-selected is the customer's only if it says what the profile
        # says; an optional one that cannot be changed to that is the site's, not theirs.
        own = answers_option(f["kind"], options, customer)
        if own is None and f["required"]:
            raise _unanswerable(f["kind"], field_name(f), options, customer)
        chosen = own or selected
    if chosen is None:
        if f["required"] and not (selected and selected in options):
            raise _unanswerable(f["kind"], field_name(f), options, customer)
        return None
    if selected is not None and selected["value"] == chosen["value"]:
        return None
    return Action(f, f["kind"], "select", chosen["value"], chosen["text"])


def _radio_action(group: list[dict], customer: Customer) -> Action | None:
    first = group[0]
    kind = first["kind"]
    options = [{"value": r["dc"], "text": r["label"] or r["value"], "disabled": False, "selected": False} for r in group]
    checked = next((r for r in group if r["checked"]), None)
    if checked is not None:
        # The site's pre-checked answer stands unless it contradicts what the customer told
        # us (Phone pre-checked for a customer who prefers email), as a pre-selected option does.
        own = (_customer_answer(kind, options, customer)
               if kind in _CUSTOMER_DATA_KINDS or kind in PROFILE_QUESTIONS else None)
        if kind == k.DEPARTMENT and not _DEPARTMENT_PREFERENCE[0].search(checked["label"] or checked["value"]):
            # Service pre-checked (its follow-up questions shown) for a buyer: Sales, where offered.
            own = _pick(options, _DEPARTMENT_PREFERENCE[:1])
        if own is None and kind in PROFILE_QUESTIONS and any(r["required"] for r in group):
            label = (first.get("group_label") or "").strip(" *:") or field_name(first)
            raise _unanswerable(kind, label, options, customer)
        if own is None or own["value"] == checked["dc"]:
            return None
        radio = next(r for r in group if r["dc"] == own["value"])
        return Action(radio, kind, "check", own["text"], own["text"])
    required = any(r["required"] for r in group)
    chosen = choose_option(kind, options, customer, required)
    if chosen is None:
        if required:
            label = (first.get("group_label") or "").strip(" *:") or field_name(first)
            raise _unanswerable(kind, label, options, customer)
        return None
    radio = next(r for r in group if r["dc"] == chosen["value"])
    return Action(radio, kind, "check", chosen["text"], chosen["text"])
