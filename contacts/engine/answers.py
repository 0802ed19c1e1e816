"""The customer's answers to questions a dealer's form may ask that are not contact
details: "Are you a current customer?", "Do you have a trade-in?", "Will you be
financing?", "How did you hear about us?", "Best time to reach you?".

One vocabulary for the whole product: the profile model's choices, the profile form, the
CLI's customer JSON and the engine all use these codes, labels and defaults. The engine
answers such a question only when the form requires it (or pre-selected an answer that
contradicts the customer's), and only with an option that says what the customer said.
Pure: no Django, no browser.
"""

from __future__ import annotations

import re

CURRENT_CUSTOMER = "current_customer"
TRADE_IN = "trade_in"
FINANCING = "financing"
HEARD_ABOUT = "heard_about"
BEST_TIME = "best_time"

YES_NO = (("no", "No"), ("yes", "Yes"))
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    CURRENT_CUSTOMER: YES_NO,
    TRADE_IN: YES_NO,
    FINANCING: (("undecided", "Undecided"), ("yes", "Yes, financing"), ("lease", "Leasing"), ("no", "No, paying cash")),
    HEARD_ABOUT: (("internet", "Internet"), ("referral", "Friend or family"), ("advertising", "TV, radio or print ad"),
                  ("drive_by", "Drove by"), ("other", "Other")),
    BEST_TIME: (("any", "Any time"), ("morning", "Morning"), ("afternoon", "Afternoon"), ("evening", "Evening")),
}
DEFAULTS: dict[str, str] = {
    CURRENT_CUSTOMER: "no",
    TRADE_IN: "no",
    FINANCING: "undecided",
    HEARD_ABOUT: "internet",
    BEST_TIME: "any",
}
# How the profile form and the CLI name each question.
QUESTIONS: dict[str, str] = {
    CURRENT_CUSTOMER: "Current customer of the dealer",
    TRADE_IN: "Trade-in",
    FINANCING: "Financing",
    HEARD_ABOUT: "How they heard about the dealer",
    BEST_TIME: "Best time to reach them",
}


def label(question: str, code: str) -> str:
    return dict(CHOICES[question]).get(code, code)


def problem(question: str, value: object) -> str:
    """Why `value` is not an answer to `question` ("" when it is): one sentence naming the
    question and the answers it takes, for the profile form and the CLI alike."""
    codes = [code for code, _ in CHOICES[question]]
    if isinstance(value, str) and value in codes:
        return ""
    shown = ", ".join(f"{code} ({text})" if code.lower() != text.lower() else code for code, text in CHOICES[question])
    return f"{QUESTIONS[question]}: choose one of {shown}."


# --- matching an answer to a site's options (English and Spanish) ---------------------

_YES = re.compile(r"^\W*(yes|yeah|y|s[ií]|i do|i am|i will|i have)\b", re.I)
# "Not sure", "No preference" and "No sé" are not a no.
_NO = re.compile(r"^\W*(no(?!\s+(s[eé]\b|estoy segur|preference|preferencia))|nope|n|not(?!\s+(sure|yet|certain))"
                 r"|i do not|i don'?t|i am not|i'?m not|i will not|i won'?t|i have no)\b|\bnone\b|\bninguno\b", re.I)
_NOT_SURE = re.compile(r"not sure|unsure|undecided|don'?t know|do not know|maybe|not yet|undetermined|no preference"
                       r"|no s[eé]|indecis[oa]|tal vez|quiz[aá]s|todav[ií]a no|a[uú]n no", re.I)
_OTHER = re.compile(r"\b(other|otros?|otra)\b", re.I)

# What an option must say to mean each answer, most specific first.
_MEANS: dict[str, dict[str, list[re.Pattern]]] = {
    FINANCING: {
        "yes": [re.compile(r"financ|\bloan\b|cr[eé]dito|pr[eé]stamo", re.I), _YES],
        "lease": [re.compile(r"\blease|leasing|arrendamiento|arrendar", re.I)],
        "no": [re.compile(r"\bcash\b|contado|efectivo|pay(ing)? in full|pago total|outright", re.I), _NO],
        "undecided": [_NOT_SURE],
    },
    HEARD_ABOUT: {
        # "Internet" is true of every inquiry we send; a named site (Google, Facebook) would be made up.
        "internet": [re.compile(r"internet|online|\bweb(site)?\b|search engine|en l[ií]nea|p[aá]gina web|sitio web", re.I)],
        "referral": [re.compile(r"referr?al|friend|family|word of mouth|recommend|referid|amig|famil|recomend", re.I)],
        "advertising": [re.compile(r"advert|\bads?\b|\btv\b|television|televisi[oó]n|radio|print|newspaper|magazine"
                                   r"|billboard|mail(er)?\b|anuncio|publicidad|peri[oó]dico|revista", re.I)],
        "drive_by": [re.compile(r"drive|drove|passing|passed by|walk[- ]?in|saw (your|the) (lot|dealership|sign)"
                                r"|pas[eé]|pasando", re.I)],
        "other": [_OTHER],
    },
    BEST_TIME: {
        "any": [re.compile(r"\bany\s?time|anytime|any time of|whenever|no preference|flexible|cualquier|todo el d[ií]a", re.I)],
        "morning": [re.compile(r"morning|\bam\b|a\.m\.|ma[nñ]ana", re.I)],
        "afternoon": [re.compile(r"afternoon|mid-?day|\bpm\b|p\.m\.|tarde", re.I)],
        "evening": [re.compile(r"evening|night|noche", re.I)],
    },
}
_MEANS[CURRENT_CUSTOMER] = {
    "yes": [_YES, re.compile(r"\b(existing|current|returning|repeat|previous)\b|cliente (actual|existente)", re.I)],
    "no": [_NO, re.compile(r"\bnew (customer|client|here)|first[- ]time|cliente nuevo|nuevo cliente|primera vez", re.I)],
}
_MEANS[TRADE_IN] = {
    "yes": [_YES, re.compile(r"\b(have|with|got) (a |my )?trade|trading (in|my)|con intercambio|tengo (un )?(veh[ií]culo|auto|carro)", re.I)],
    "no": [_NO, re.compile(r"\bno trade|without (a )?trade|not trading|sin (veh[ií]culo (de|para) )?intercambio", re.I)],
}
_YES_NO_MEANS = {"yes": [_YES], "no": [_NO]}


def _means(question: str) -> dict[str, list[re.Pattern]]:
    return _MEANS.get(question, _YES_NO_MEANS)


def matches(question: str, answer: str, text: str) -> bool:
    """Whether an option's text says `answer` to `question`."""
    return any(p.search(text) for p in _means(question).get(answer, []))


def pick(question: str, answer: str, options: list[dict]) -> dict | None:
    """The option that says the customer's answer, or None.

    An option that would also say another answer (for "Yes, financing" options like
    "Finance or lease") is passed over when a cleaner one exists. Where a source is asked
    and no option names the customer's, "Other" is still true; nothing else is guessed.
    """
    means = _means(question)
    for pattern in means.get(answer, []):
        hits = [o for o in options if pattern.search(o["text"]) or pattern.search(o["value"])]
        if hits:
            clean = [o for o in hits if not any(
                matches(question, other, o["text"]) for other in means if other != answer
            )]
            return (clean or hits)[0]
    if question == HEARD_ABOUT:
        return next((o for o in options if _OTHER.search(o["text"]) or _OTHER.search(o["value"])), None)
    return None


def answers_both_ways(question: str, texts: list[str]) -> bool:
    """Whether the options say both yes and no to `question` ("I have a trade-in" /
    "No trade-in"): the choice asks that question, whatever its label."""
    return (any(matches(question, "yes", t) and not matches(question, "no", t) for t in texts)
            and any(matches(question, "no", t) and not matches(question, "yes", t) for t in texts))


def yes_no_options(texts: list[str]) -> bool:
    """Whether a choice's options are a yes/no answer ("Yes", "No", maybe "Not sure")."""
    texts = [t for t in texts if t.strip()]
    if len(texts) < 2:
        return False
    return (any(_YES.search(t) for t in texts) and any(_NO.search(t) for t in texts)
            and all(_YES.search(t) or _NO.search(t) or _NOT_SURE.search(t) for t in texts))
