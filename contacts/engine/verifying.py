"""Deciding, after the one submit click, whether the dealer got the message.

Signals, strongest first: the submit request's HTTP status, the site's own error
messages, thank-you text or a thank-you URL that was not there before, the form replaced
by a message, and a 2xx answer with no error shown.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Error as PlaywrightError

from contacts.engine import outcomes

FORM_STATE_JS = (Path(__file__).parent / "js" / "form_state.js").read_text()

SUCCESS_TEXT = re.compile(
    r"thank(s| you)\b|we('ve| have)? received|has been (sent|received|submitted)|have been (sent|received)"
    r"|message (was )?sent|successfully (sent|submitted)|submission (was )?(received|successful)"
    r"|we('ll| will) (be in touch|get back|contact you|respond)|someone will (be in touch|contact you|reach out)"
    r"|gracias|mensaje (ha sido )?enviado|hemos recibido|mail_sent|request (has been |was )?received"
    r"|we appreciate your (interest|inquiry|message)|on its way|\bsuccess(ful(ly)?)?\b",
    re.I,
)
SUCCESS_URL = re.compile(r"thank|success|confirm|gracias|submitted|sent", re.I)
ERROR_TEXT = re.compile(
    r"required|please (enter|provide|fill|complete|select|correct|check)|invalid|not valid|must be|error|failed"
    r"|problem|try again|incorrect|went wrong|obligatorio|requerido|inv[aá]lido|no es v[aá]lido|sali[oó] mal",
    re.I,
)
SETTLE_AFTER_RESPONSE_S = 0.8
VERIFY_WINDOW_S = 10.0  # while a submission request is still on its way
QUIET_WINDOW_S = 3.0  # when the click started no request at all


# Requests pages make on their own around a click: never the form's submission.
NOT_A_SUBMISSION = re.compile(
    r"google-analytics|googletagmanager|doubleclick|facebook\.(com|net)|connect\.facebook|bing\.com|clarity\.ms"
    r"|hotjar|segment\.(io|com)|newrelic|nr-data|sentry|datadog|fullstory|mouseflow|/collect\b|/g/collect"
    r"|/(analytics|telemetry|beacon|pixel|track(ing)?|log|rum)\b",
    re.I,
)


@dataclass
class SubmitWatch:
    """Requests a form submission may make (navigations of the form's frame or the page,
    XHR/fetch writes) and alert() texts, from the moment before the click.

    A form with target="_blank", or a submit handler calling window.open(), sends or
    answers from a new tab: pages the context opens meanwhile are watched as well. Their
    own navigations count as the submission's requests, their text and URL as its answer.
    So does a document posted into another frame (a form targeting a hidden iframe).
    """

    frame: object
    main_frame: object
    before_text: str
    before_url: str
    before_errors: set[str]
    pages_before: list = field(default_factory=list)
    opened_pages: list = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    dialogs: list[str] = field(default_factory=list)
    requests: list = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    responses: list = field(default_factory=list)
    last_response_at: float = 0.0

    def on_request(self, request) -> None:
        if NOT_A_SUBMISSION.search(request.url):
            return
        if request.resource_type == "document":
            if self._is_watched_navigation(request):
                self.requests.append(request)
        elif request.resource_type in ("xhr", "fetch") and request.method in ("POST", "PUT", "PATCH"):
            self.requests.append(request)

    def _is_watched_navigation(self, request) -> bool:
        try:
            frame = request.frame
        except PlaywrightError:
            # Playwright has no frame yet for the first navigation of a page still being
            # opened: that is a new tab or window, loading what the submit sent it.
            return request.is_navigation_request()
        if frame in (self.frame, self.main_frame):
            return True
        if request.method == "POST":
            # A document posted into another frame (a form's target="<hidden iframe>", as
            # Gravity Forms' old AJAX does) right after the click: pages post nothing else.
            return True
        # A tab opened since the watch began, navigating again (a redirect, a reload).
        return frame.parent_frame is None and frame.page not in self.pages_before

    def on_page(self, page) -> None:
        self.opened_pages.append(page)
        page.on("dialog", self.on_dialog)

    async def on_dialog(self, dialog) -> None:
        # A thank-you alert() is a confirmation; accepting it is what a person does.
        self.dialogs.append(dialog.message)
        try:
            await dialog.accept()
        except PlaywrightError:
            pass

    def on_response(self, response) -> None:
        if response.request in self.requests:
            self.statuses.append(response.status)
            self.responses.append(response)
            self.last_response_at = time.monotonic()

    def on_failed(self, request) -> None:
        if request in self.requests:
            self.statuses.append(0)
            self.last_response_at = time.monotonic()


async def start_watch(page, frame, form_dc: str) -> SubmitWatch:
    state = await form_state(frame, form_dc)
    context = page.context
    watch = SubmitWatch(
        frame=frame,
        main_frame=page.main_frame,
        before_text=state["text"] if state else "",
        before_url=frame.url,
        before_errors=set(state["errors"]) if state else set(),
        pages_before=list(context.pages),
    )
    # On the context, not the page: a new tab's requests are never the old page's events.
    context.on("request", watch.on_request)
    context.on("response", watch.on_response)
    context.on("requestfailed", watch.on_failed)
    context.on("page", watch.on_page)
    page.on("dialog", watch.on_dialog)
    return watch


def stop_watch(page, watch: SubmitWatch) -> None:
    """Stop listening. Tabs the submission opened stay open until the attempt's context
    closes, which closes them with it; nothing in them is ever clicked."""
    listeners = [(page.context, event, handler) for event, handler in (
        ("request", watch.on_request), ("response", watch.on_response),
        ("requestfailed", watch.on_failed), ("page", watch.on_page))]
    listeners += [(watched, "dialog", watch.on_dialog) for watched in (page, *watch.opened_pages)]
    for emitter, event, handler in listeners:
        try:
            emitter.remove_listener(event, handler)
        except Exception:
            pass


async def form_state(frame, form_dc: str) -> dict | None:
    try:
        return await frame.evaluate(FORM_STATE_JS, form_dc)
    except PlaywrightError:
        return None  # navigating: the next look sees the new document


def _new_success(before: str, after: str) -> bool:
    return len(SUCCESS_TEXT.findall(after)) > len(SUCCESS_TEXT.findall(before))


def _error_summary(state: dict, watch: SubmitWatch) -> str:
    messages = [
        e for e in state["errors"]
        if e not in watch.before_errors and ERROR_TEXT.search(e) and not SUCCESS_TEXT.search(e)
    ]
    if messages:
        return "; ".join(messages[:3])[:240]
    if state["cf7_status"] in ("invalid", "failed", "spam", "aborted"):
        return f"the site reported the submission as {state['cf7_status']}"
    return ""


_JSON_FAILURE_STATUS = re.compile(r"^(error|fail(ed|ure)?|invalid|validation_failed|spam|mail_failed|aborted)$", re.I)


async def rejection_in(response) -> str:
    """The reason a 2xx JSON answer gives for refusing the submission, or ""."""
    if "json" not in (response.headers.get("content-type") or ""):
        return ""
    try:
        data = await response.json()
    except Exception:
        return ""
    if not isinstance(data, dict):
        return ""
    # .NET and Java back ends answer in PascalCase ("Success": false, "Message": ...).
    data = {str(key).lower(): value for key, value in data.items()}
    status = str(data.get("status", "") or data.get("result", ""))
    refused = data.get("success") is False or data.get("ok") is False or _JSON_FAILURE_STATUS.match(status)
    if not refused:
        return ""
    message = (data.get("message") or data.get("msg") or data.get("error_message") or data.get("error")
               or data.get("errors") or status or "refused")
    return str(message)[:200]


def _invalid_summary(state: dict) -> str:
    parts = []
    for item in state["invalid"][:3]:
        text = item["label"] or "a field"
        if item["message"]:
            text += f": {item['message']}"
        parts.append(text)
    return "; ".join(parts)


async def verify(page, frame, form_dc: str, watch: SubmitWatch, clock) -> tuple[str, str]:
    """(status, error) after the submit click. Never clicks or types anything."""
    window_end = min(time.monotonic() + VERIFY_WINDOW_S, time.monotonic() + clock.remaining_s())
    last_state = None
    while True:
        bad = [s for s in watch.statuses if s >= 400]
        if bad:
            return outcomes.FAILED, f"The site answered the submission with HTTP {bad[0]}."
        said = " ".join(watch.dialogs)
        if SUCCESS_TEXT.search(said):
            return outcomes.SUBMITTED, ""
        if ERROR_TEXT.search(said):
            return outcomes.FAILED, f"The site showed an error after submitting: {said[:200]}"
        target = frame if not frame.is_detached() else page.main_frame
        state = await form_state(target, form_dc)
        if state is None and target is not page.main_frame:
            state = await form_state(page.main_frame, form_dc)
        shown = []  # (what a page shows now, its text and URL before the click)
        if state is not None:
            last_state = state
            shown.append((state, watch.before_text, watch.before_url))
        for opened in watch.opened_pages:
            opened_state = await form_state(opened.main_frame, form_dc)
            if opened_state is not None:
                shown.append((opened_state, "", ""))  # a new tab showed nothing before
        for seen, text_before, url_before in shown:
            if seen["cf7_status"] == "sent" or _new_success(text_before, seen["text"]):
                return outcomes.SUBMITTED, ""
            if SUCCESS_URL.search(seen["url"]) and not SUCCESS_URL.search(url_before):
                return outcomes.SUBMITTED, ""
        for seen, _text_before, _url_before in shown:
            error = _error_summary(seen, watch)
            if error and (watch.statuses or time.monotonic() - watch.started > 1.0):
                return outcomes.FAILED, f"The site showed an error after submitting: {error}"
        if state is not None:
            answered = [r for r in watch.responses if 200 <= r.status < 400]
            if answered and time.monotonic() - watch.last_response_at >= SETTLE_AFTER_RESPONSE_S:
                for response in answered:
                    reason = await rejection_in(response)
                    if reason:
                        return outcomes.FAILED, f"The site refused the submission: {reason}"
                # The site accepted the request and shows no error: that is its answer.
                return outcomes.SUBMITTED, ""
            if not watch.requests and state["invalid"] and time.monotonic() - watch.started > 1.5:
                return outcomes.FAILED, f"The form would not submit: {_invalid_summary(state)}"
        if time.monotonic() >= window_end:
            break
        if not watch.requests and time.monotonic() - watch.started >= QUIET_WINDOW_S:
            break
        await page.wait_for_timeout(200)
    if watch.statuses and 0 in watch.statuses:
        return outcomes.UNCONFIRMED, "Submitted, but the connection dropped before the site answered."
    if watch.requests and not watch.statuses:
        waited = time.monotonic() - watch.started
        return outcomes.UNCONFIRMED, f"Submitted, but the site had not answered after {waited:.0f} s."
    if last_state is not None and last_state["invalid"] and not watch.requests:
        return outcomes.FAILED, f"The form would not submit: {_invalid_summary(last_state)}"
    return outcomes.UNCONFIRMED, "Submitted, but no confirmation or error could be seen."
