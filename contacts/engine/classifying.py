"""What each form field asks for, decided from its attributes and texts alone.

Pure functions over the plain dicts scan.js returns, so they are unit-tested without a
browser. English and Spanish, because many dealer sites serve both.
"""

from __future__ import annotations

import re

from contacts.engine import answers
from contacts.engine.answers import answers_both_ways, yes_no_options

# Kinds the engine knows how to fill (or knowingly leaves alone).
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
FULL_NAME = "full_name"
EMAIL = "email"
EMAIL_CONFIRM = "email_confirm"
PHONE = "phone"
PHONE_AREA = "phone_area"
PHONE_PREFIX = "phone_prefix"
PHONE_LINE = "phone_line"
PHONE_LOCAL = "phone_local"  # the seven digits after a separate area code
ZIP = "zip"
ADDRESS = "address"
CITY = "city"
STATE = "state"
MESSAGE = "message"
SUBJECT = "subject"
CONTACT_METHOD = "contact_method"
VEHICLE = "vehicle"
VEHICLE_YEAR = "vehicle_year"
VEHICLE_MAKE = "vehicle_make"
VEHICLE_MODEL = "vehicle_model"
VEHICLE_TRIM = "vehicle_trim"
CONDITION = "condition"
TRADE_IN = "trade_in"  # about the car the customer owns: nothing we know
# Questions the profile answers (contacts/engine/answers.py).
CURRENT_CUSTOMER = "current_customer"
HAS_TRADE_IN = "has_trade_in"  # "Do you have a trade-in?": yes or no, not the car itself
FINANCING = "financing"
DEPARTMENT = "department"
HEAR_ABOUT = "hear_about"
CONTACT_TIME = "contact_time"
CONSENT = "consent"
MARKETING = "marketing"
STOCK = "stock"
VIN = "vin"
HONEYPOT = "honeypot"
PASSWORD = "password"
SEARCH = "search"
CAPTCHA = "captcha"
DATE = "date"
TIME = "time"
COMPANY = "company"
UNKNOWN = "unknown"

_AUTOCOMPLETE = {
    "given-name": FIRST_NAME,
    "family-name": LAST_NAME,
    "name": FULL_NAME,
    "email": EMAIL,
    "tel": PHONE,
    "tel-national": PHONE,
    "tel-area-code": PHONE_AREA,
    "tel-local-prefix": PHONE_PREFIX,
    "tel-local-suffix": PHONE_LINE,
    "tel-local": PHONE_LOCAL,
    "postal-code": ZIP,
    "street-address": ADDRESS,
    "address-line1": ADDRESS,
    "address-level2": CITY,
    "address-level1": STATE,
    "current-password": PASSWORD,
    "new-password": PASSWORD,
    "organization": COMPANY,
}

# Honeypots: names and labels spam traps use. Checked before anything else.
_HONEYPOT = re.compile(
    r"honey|hpot|h0ney|_gotcha|(^|[-_\s\[])hp([-_\s\]]|$)|\bbot[-_ ]?(field|check|trap)|leave (this )?(field )?(blank|empty)"
    r"|do ?n[o']t (fill|complete|change)|if you are (a )?human|no[-_]?spam|spam[-_ ]?(trap|check)"
    r"|\bak_hp|\bfax[-_]?only|address2_confirm|dejar en blanco|no llenar",
    re.I,
)

_EMAIL_CONFIRM = re.compile(
    r"(confirm|verify|re-?enter|repeat|retype)\W*(your\W*)?(e-?mail|correo)|e-?mail\W*(confirm|again|verify)"
    r"|confirmar (el )?correo",
    re.I,
)

# Arithmetic questions spell numbers out so bots cannot parse them ("three plus five").
_WORD_NUMBER = r"(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty)"
_ANY_NUMBER = rf"(\d+|{_WORD_NUMBER})"
# (kind, pattern) in priority order; the first that matches a field's text wins.
_RULES: list[tuple[str, re.Pattern]] = [
    (CAPTCHA, re.compile(
        r"captcha|security code|verification code|c[oó]digo de seguridad|anti-?spam|are you (a )?human"
        r"|(stop|prevent|fight|block)\w*\s+spam|spam (check|question|prevention|protection)"
        r"|prove (that )?you('| a)re (a )?(human|person|real|not a (ro)?bot)|\bnot a (ro)?bot\b"
        rf"|(what is|what's|how much is|solve|calculate)\W{{0,3}}{_ANY_NUMBER}\s*(\+|-|plus|minus|x|times|\*)\s*{_ANY_NUMBER}"
        rf"|\b{_ANY_NUMBER}\s+(plus|minus|times)\s+{_ANY_NUMBER}\b|\b{_WORD_NUMBER}\s*[+x×*]\s*{_ANY_NUMBER}\b"
        r"|\d+\s*(\+|plus)\s*\d+\s*=",
        re.I,
    )),
    (EMAIL_CONFIRM, _EMAIL_CONFIRM),
    (EMAIL, re.compile(r"e-?mail|correo", re.I)),
    (CURRENT_CUSTOMER, re.compile(
        r"(current|existing|previous|past|returning|repeat)\s+(\S+\s+){0,3}(customer|client|owner)"
        r"|are you (a|an) (\S+\s+){0,3}(customer|client)\b|(purchased|bought|serviced)\b.{0,25}\b(from|with) us"
        r"|(done business|purchased|bought).{0,15}\bbefore|cliente (actual|existente|anterior)|es (usted )?cliente"
        # "Have you purchased a vehicle from Hillcrest Buick GMC before?": the dealer named.
        r"|(purchased|bought|leased|serviced)\b.{0,40}\b(from|with|at)\b.{0,40}\bbefore\b"
        r"|ya es cliente|ha comprado (antes )?(con|de|en) nosotros|comprado .{0,40}antes",
        re.I,
    )),
    (HAS_TRADE_IN, re.compile(
        r"(do|will|would|are|did) you\b.{0,30}\btrad(e|ing)\b|\btrad(e|ing)[- ]?in\s*\?|any trade|have a trade"
        r"|trading (in|a vehicle)|(tiene|tienes|tendr[aá]|va a).{0,30}(intercambio|a cuenta|parte de pago)"
        r"|intercambio\s*\?",
        re.I,
    )),
    (FINANCING, re.compile(
        r"financ|\bloan\b|(how|plan)\b.{0,25}\bpay\b|payment (method|type|plan|option)|purchase (type|method|plan)"
        r"|cash or|buy or lease|lease or (buy|finance|purchase)|financiar|financiamiento|forma de pago|m[eé]todo de pago"
        r"|tipo de compra|c[oó]mo (piensa|va a|planea) pagar",
        re.I,
    )),
    (TRADE_IN, re.compile(r"trade|current (vehicle|car)|vehicle you (own|have)|mileage|odometer|payoff|intercambio|veh[ií]culo actual", re.I)),
    # "Stock # or vehicle of interest": the customer answers the alternative it can.
    (VEHICLE, re.compile(r"(stock|\bstk\b|\bvin\b)\W{0,8}(number|no)?\W{0,3}\b(or|/)\W{0,3}(the |your )?(vehicle|car|model)"
                         r"|(vehicle|car|model)\b.{0,20}\W(or|/)\W{0,3}(stock|\bstk\b|\bvin\b)", re.I)),
    (STOCK, re.compile(r"stock|\bstk\b", re.I)),
    (VIN, re.compile(r"\bvin\b|vehicle identification", re.I)),
    (PHONE_AREA, re.compile(r"area[-_ ]?code|phone[-_ ]?(1|part1|area)\b|\b(phone|tel)[-_]?a\b|c[oó]digo de [aá]rea", re.I)),
    (PHONE_PREFIX, re.compile(r"phone[-_ ]?(2|part2|prefix|exchange)\b|\b(phone|tel)[-_]?b\b", re.I)),
    (PHONE_LINE, re.compile(r"phone[-_ ]?(3|part3|line|suffix)\b|\b(phone|tel)[-_]?c\b", re.I)),
    (PHONE, re.compile(r"phone|tel[eé]fono|\btel\b|\bcell|mobile|celular|m[oó]vil", re.I)),
    (FULL_NAME, re.compile(r"full[-_ ]?name|nombre completo|nombre y apellidos?|first (and|&) last name|\(first (and|&) last\)", re.I)),
    (FIRST_NAME, re.compile(r"first[-_ ]?name|\bfname|given[-_ ]?name|\bfirst\b|forename|primer nombre|^nombre$|\bnombre\b(?!.*(completo|apellido))", re.I)),
    (LAST_NAME, re.compile(r"last[-_ ]?name|\blname|surname|family[-_ ]?name|\blast\b|apellido", re.I)),
    (ZIP, re.compile(r"\bzip|postal|post[-_ ]?code|c[oó]digo postal", re.I)),
    (VEHICLE, re.compile(r"year\W{0,5}make|make\W{0,5}(and\W{0,5})?model|vehicle of interest|veh[ií]culo de inter[eé]s"
                         r"|a[nñ]o\W{0,5}marca|marca\W{0,5}(y\W{0,5})?modelo", re.I)),
    (VEHICLE_YEAR, re.compile(r"\byear\b|\ba[nñ]o\b|model[-_ ]?year|veh(icle)?[-_]?year", re.I)),
    (VEHICLE_MAKE, re.compile(r"\bmake\b|\bmarca\b|manufacturer|\bbrand\b|veh(icle)?[-_]?make", re.I)),
    (VEHICLE_TRIM, re.compile(r"\btrim\b|versi[oó]n|\bstyle\b", re.I)),
    (VEHICLE_MODEL, re.compile(r"\bmodel\b|\bmodelo\b|veh(icle)?[-_]?model", re.I)),
    (CONTACT_TIME, re.compile(r"(best|preferred|good) time|time of (the )?day|what time (works|is|would)|time to (call|contact|reach|text)|(call|contact) time|times? (are you|you are) available|mejor (hora|horario|momento)|horario (de|para) (contacto|llamar)", re.I)),
    (CONTACT_METHOD, re.compile(r"(preferred|best|how).{0,30}(contact|reach|method)|how (should|shall|can|may) we (reply|respond|answer|get back)|(reply|respond) (to you )?(by|via)|contact[-_ ]?(method|preference|by|via)|prefer.{0,20}(contact|reach)|m[eé]todo de contacto|forma de contacto|contactarle por|prefiere", re.I)),
    (DEPARTMENT, re.compile(r"department|departamento|\bdept\b|send (to|message to)|inquiry type|type of inquiry|reason for|topic|tipo de consulta|\bregarding\b", re.I)),
    (HEAR_ABOUT, re.compile(r"hear about|heard about|how did you find|referr?al source|lead source|c[oó]mo (se )?enter[oó]|c[oó]mo nos conoci", re.I)),
    (CONDITION, re.compile(r"\bcondition\b|new or (used|pre-?owned)|new/(used|pre-?owned)|nuevo o (usado|seminuevo)|vehicle type|inventory type", re.I)),
    (SUBJECT, re.compile(r"subject|asunto", re.I)),
    (MESSAGE, re.compile(r"message|comment|question|inquiry|enquiry|details|how can we help|additional info|notes?\b|mensaje|comentario|pregunta|consulta|tell us|your request|anything else", re.I)),
    (VEHICLE, re.compile(r"vehicle|\bcar\b|veh[ií]culo|auto\b|interested in", re.I)),
    (ADDRESS, re.compile(r"address|street|direcci[oó]n|\bcalle\b", re.I)),
    (CITY, re.compile(r"\bcity\b|\btown\b|ciudad", re.I)),
    (STATE, re.compile(r"\bstate\b|province|\bregion\b|estado", re.I)),
    (FULL_NAME, re.compile(r"full[-_ ]?name|your[-_ ]?name|\bname\b|nombre completo|\bnombre\b|contact[-_ ]?name", re.I)),
    (COMPANY, re.compile(r"company|business|organi[sz]ation|empresa", re.I)),
    (DATE, re.compile(r"\bdate\b|fecha|appointment|\bday\b", re.I)),
    (TIME, re.compile(r"\btime\b|\bhora\b", re.I)),
    (SEARCH, re.compile(r"search|buscar|keyword", re.I)),
]

_MARKETING = re.compile(
    r"newsletter|special offers?|promotion|marketing|subscribe|e-?mail me (offers|deals|news)|deals|"
    r"news and|latest news|updates? (and|&) offers|sign me up|opt[- ]?in to (receive )?(email|news|promo)|"
    r"exclusive offers?|offers and|new arrivals|price[- ](drop|alert)s?|coupons?|savings|"
    r"keep me (posted|in the loop) (on|about) (specials|offers|events|deals|new)|"
    # Sign-ups worded without those words: lists, clubs, alerts, events, updates to come.
    r"mailing list|e-?mail list|\bvip\b|\bclubs?\b|\balerts\b|\bevents\b|\blaunch(es)?\b|\bspecials\b|"
    r"\bdigest\b|\bweekly\b|\bmonthly\b|inventory updates|(receive|get) (text|sms|e-?mail)s?( messages)? (about|with|on)|"
    r"\bupdates? (on|about|from)\b|(send|e-?mail|text) me (the latest|updates|news|specials)|"
    r"keep me (informed|updated|posted)|future (offers|promotions|communications|mailings)|"
    r"ofertas|promociones|bolet[ií]n|suscrib|novedades|lista de correo|\beventos\b|noticias|\bespeciales\b|"
    r"resumen (semanal|mensual)|\bsemanal\b",
    re.I,
)
_CONSENT = re.compile(
    r"consent|i agree|agree to|i accept|accept the|authori[sz]e|terms|privacy|by checking|permission|"
    r"i understand|opt[- ]?in|contact me|acepto|autorizo|consiento|t[eé]rminos|privacidad",
    re.I,
)

_SECONDARY_PHONE = re.compile(r"\b(work|office|business|alternate|alternative|other|secondary|home|fax)\b", re.I)
_PLAINLY_MESSAGE = re.compile(r"message|comment|question|how can we help|mensaje|comentario|pregunta", re.I)


def _one_message_box(fields: list[dict]) -> None:
    """The message goes in one box: the one that says so, else the first."""
    boxes = [f for f in fields if f["kind"] == MESSAGE]
    if not boxes:
        # "Tell us about the vehicle you want" is the only free-text box: the message goes there.
        boxes = [f for f in fields if f["type"] == "textarea" and f["kind"] == VEHICLE][:1]
        for f in boxes:
            f["kind"] = MESSAGE
    if len(boxes) < 2:
        return
    keep = next((f for f in boxes if _PLAINLY_MESSAGE.search(field_texts(f))), boxes[0])
    for f in boxes:
        if f is not keep:
            f["kind"] = UNKNOWN


_SAYS_FIRST = re.compile(r"first|fname|given|primer", re.I)


def field_texts(field: dict) -> str:
    """Everything a person or a script might read about the field, most telling first."""
    parts = [
        field.get("label", ""),
        field.get("aria_label", ""),
        field.get("group_label", ""),
        field.get("placeholder", ""),
        field.get("title", ""),
        field.get("nearby", ""),
        _words_of_identifier(field.get("name", "")),
        _words_of_identifier(field.get("id", "")),
    ]
    return " | ".join(p for p in parts if p)


def _words_of_identifier(identifier: str) -> str:
    """`contact[firstName]` -> `contact first Name`; keeps underscores for `first_name`."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", identifier)
    return re.sub(r"[\[\]().:]+", " ", spaced).strip()


def is_honeypot(field: dict) -> bool:
    idents = " ".join(
        field.get(k, "") for k in ("name", "id", "label", "placeholder", "aria_label", "nearby", "classes")
    )
    if _HONEYPOT.search(idents):
        return True
    # A text field nobody can tab to and that no person can read about is a trap.
    return field.get("tabindex") == "-1" and field.get("autocomplete") == "off" and not field.get("label")


def classify_field(field: dict) -> str:
    """The kind of one field (see the constants above)."""
    ftype = field.get("type", "text")
    if is_honeypot(field):
        return HONEYPOT
    if ftype == "password":
        return PASSWORD
    if ftype == "search":
        return SEARCH
    if ftype == "checkbox":
        return _classify_checkbox(field)
    if ftype == "radio":
        # Each option's label names a value ("Email", "Phone"); the group's label names the field.
        return _first_rule_match({"label": field.get("group_label", ""), "name": field.get("name", "")})
    by_autocomplete = _from_autocomplete(field.get("autocomplete", ""))
    if by_autocomplete:
        return by_autocomplete
    if ftype == "email":
        texts = field_texts(field)
        return EMAIL_CONFIRM if _EMAIL_CONFIRM.search(texts) else EMAIL
    if ftype == "tel" and not _split_phone_kind(field):
        return PHONE
    if ftype == "date":
        return DATE
    if ftype == "time":
        return TIME
    kind = _first_rule_match(field)
    if ftype == "textarea" and kind in (UNKNOWN, SUBJECT, DEPARTMENT, FULL_NAME, FINANCING):
        # A big free-text box is where the message goes, whatever it is called.
        return MESSAGE
    return kind


def _from_autocomplete(value: str) -> str:
    for token in reversed(value.split()):
        if token in _AUTOCOMPLETE:
            return _AUTOCOMPLETE[token]
    return ""


def _split_phone_kind(field: dict) -> str:
    for kind, pattern in _RULES:
        if kind in (PHONE_AREA, PHONE_PREFIX, PHONE_LINE) and pattern.search(field_texts(field)):
            return kind
    return ""


def _first_rule_match(field: dict) -> str:
    # The label decides first; names and placeholders are only consulted when it is silent,
    # because `name="field_12"` labelled "Email" is common and the reverse is not.
    primary = " | ".join(
        p for p in (field.get("label", ""), field.get("aria_label", ""), field.get("group_label", "")) if p
    )
    secondary = field_texts(field)
    for texts in (primary, secondary):
        if not texts:
            continue
        for kind, pattern in _RULES:
            if pattern.search(texts):
                return kind
    return UNKNOWN


def _checkbox_texts(field: dict) -> str:
    return " ".join(field.get(k, "") for k in ("label", "aria_label", "nearby", "group_label", "name", "id"))


def _classify_checkbox(field: dict) -> str:
    texts = _checkbox_texts(field)
    if _MARKETING.search(texts):
        return MARKETING
    if _CONSENT.search(texts):
        return CONSENT
    return UNKNOWN


def agrees_to_contact(field: dict) -> bool:
    """Whether a checkbox's words are an agreement (consent, terms, authorisation), even
    one that also mentions marketing: a site that requires it to send the inquiry."""
    return bool(_CONSENT.search(_checkbox_texts(field)))


def assign_split_phones(fields: list[dict]) -> None:
    """Three short tel inputs in a row (3/3/4 characters) are one phone split in parts.

    Sites often label only the first ("Phone") and leave the others bare.
    """
    for i in range(len(fields) - 2):
        trio = fields[i : i + 3]
        if [f.get("maxlength") for f in trio] == [3, 3, 4] and any(
            f["kind"] in (PHONE, PHONE_AREA, UNKNOWN) for f in trio
        ):
            for part, f in zip((PHONE_AREA, PHONE_PREFIX, PHONE_LINE), trio):
                f["kind"] = part


def _choice_texts(field: dict, fields: list[dict]) -> list[str]:
    """The options of a select, or the labels of a radio group's buttons."""
    if field["type"] == "select":
        return [o["text"] for o in field.get("options", []) if o.get("value", "").strip()]
    if field["type"] == "radio":
        group = field.get("name") or field["dc"]
        return [f.get("label") or f.get("value", "") for f in fields
                if f["type"] == "radio" and (f.get("name") or f["dc"]) == group]
    return []


def _yes_no_trade_questions(fields: list[dict]) -> None:
    """A "Trade-in" choice answered Yes or No asks whether there is one, not about the car."""
    for f in fields:
        texts = _choice_texts(f, fields) if f["kind"] == TRADE_IN else []
        if texts and (yes_no_options(texts) or answers_both_ways(answers.TRADE_IN, texts)):
            f["kind"] = HAS_TRADE_IN


# Questions the customer profile answers (engine/answers.py).
PROFILE_QUESTION_KINDS = {CURRENT_CUSTOMER, HAS_TRADE_IN, FINANCING, HEAR_ABOUT, CONTACT_TIME}


def _checkbox_questions(fields: list[dict]) -> None:
    """Boxes sharing a name under one question ("How did you hear about us?" [ ] Internet
    [ ] Radio) are that question's choices, whatever each box's own words say."""
    groups: dict[str, list[dict]] = {}
    for f in fields:
        if f["type"] == "checkbox" and f.get("name") and f.get("group_label"):
            groups.setdefault(f["name"], []).append(f)
    for group in groups.values():
        if len(group) < 2:
            continue
        kind = _first_rule_match({"label": group[0]["group_label"]})
        if kind in PROFILE_QUESTION_KINDS:
            for f in group:
                f["kind"] = kind


def classify_fields(fields: list[dict]) -> None:
    """Set each field's "kind", then settle what only the whole form can tell."""
    for f in fields:
        f["kind"] = classify_field(f)
    _yes_no_trade_questions(fields)
    _checkbox_questions(fields)
    assign_split_phones(fields)
    _one_message_box(fields)
    kinds = {f["kind"] for f in fields}
    for f in fields:
        # A second phone ("Work phone", "Alternate") is not one the customer gave us.
        if f["kind"] == PHONE and _SECONDARY_PHONE.search(field_texts(f)):
            f["kind"] = UNKNOWN
    for before, f in zip([None, *fields], fields):
        # An area code box and a seven-digit box: the second takes the local number. Jotform
        # and others set no maxlength: a phone box right after the area code box is its rest.
        follows_area = before is not None and before["kind"] == PHONE_AREA and PHONE_PREFIX not in kinds
        if f["kind"] == PHONE and PHONE_AREA in kinds and (f.get("maxlength") in (7, 8) or follows_area):
            f["kind"] = PHONE_LOCAL
    for f in fields:
        # "Name" next to "Last Name" is the first name; a lone "Nombre" is the whole name.
        if f["kind"] == FULL_NAME and LAST_NAME in kinds and FIRST_NAME not in kinds:
            f["kind"] = FIRST_NAME
        elif f["kind"] == FIRST_NAME and LAST_NAME not in kinds and not _SAYS_FIRST.search(field_texts(f)):
            f["kind"] = FULL_NAME
