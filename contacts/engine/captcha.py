"""Is a form (or the whole site) behind a CAPTCHA or bot challenge? Decided from markup.

CAPTCHA scripts never load on a closed network, so the decision cannot wait for a
rendered widget: script sources, widget containers and site keys are enough.

reCAPTCHA v3 (`api.js?render=<site key>`, no widget) scores every visitor and the site
verifies the token server-side when the form is posted. We cannot know the threshold and
must not try to pass it, so a document that loads a CAPTCHA script without any widget
(v3, or an invisible one bound by script) guards every form in it: `captcha`. When the
script is explained by a widget inside some other form, forms without one are free.
"""

from __future__ import annotations

import re

_INTERSTITIAL = re.compile(
    r"just a moment\.\.\.|checking (if the site connection is secure|your browser)|verify(ing)? you are (a )?human"
    r"|attention required! \| cloudflare|please complete the security check|press (&|and) hold|are you a robot"
    r"|ddos protection by|enable javascript and cookies to continue|access to this page has been denied",
    re.I,
)


def challenge_on_page(scan: dict) -> str:
    """Why the page is a bot-challenge interstitial rather than the site, or "".

    A page with a form a person can fill is the site itself, even if a widget on it
    says "verify you are human": that is judged per form, by captcha_guarding."""
    if any(f["visible"] for form in scan.get("forms", []) for f in form["fields"]):
        return ""
    if scan.get("challenge_markup"):
        return "The site shows a bot challenge page."
    head = f"{scan.get('title', '')} {scan.get('body_text', '')[:600]}"
    if _INTERSTITIAL.search(head):
        return "The site shows a bot challenge page (\u201cverify you are human\u201d)."
    return ""


def _script_kind(src: str) -> str:
    if re.search(r"hcaptcha", src, re.I):
        return "hCaptcha"
    if re.search(r"turnstile|challenges\.cloudflare", src, re.I):
        return "Cloudflare Turnstile"
    if re.search(r"recaptcha", src, re.I):
        return "reCAPTCHA v3" if re.search(r"[?&]render=(?!explicit)[\w-]", src) else "reCAPTCHA"
    return "CAPTCHA"


def captcha_guarding(form: dict, scan: dict) -> str:
    """The CAPTCHA guarding `form` in the document `scan` describes, or ""."""
    if form.get("captcha_widgets"):
        return form["captcha_widgets"][0]
    if any(f["kind"] == "captcha" and f["visible"] for f in form["fields"]):
        return "image CAPTCHA"
    widgets = scan.get("captcha_widgets", [])
    if any(w["form"] in ("", form["dc"]) for w in widgets):
        return "CAPTCHA"  # beside the form rather than in it, still guarding it
    scripts = scan.get("captcha_scripts", [])
    if scripts and not widgets:
        return _script_kind(scripts[0])
    if scan.get("captcha_globals") and not widgets:
        return scan["captcha_globals"][0]
    return ""
