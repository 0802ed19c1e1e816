"""Whether the page's scripts would see key presses in a field.

At human pace (pace.py) the engine presses keys only where a script listens for them: a
`keydown`, `keyup` or `keypress` listener on the field, on anything it sits in (its form, a
shadow host, the document) or on its window, where every key press reaches. Anywhere else
the value goes in at once, as autofill would: nothing in the page can tell the difference,
and every key costs an event, a repaint and a composited frame in several processes, which
a worker running many attempts at once pays for in throughput.

The listeners are read through the DevTools protocol, which page scripts cannot observe.
Fields of the page's own document, open shadow roots included, are answered all at once,
before any of them is focused (`look_at`): one evaluation per round of filling, where
focusing each field and asking for it alone cost a batch about 0.05 CPU-seconds per
dealer. A field whose path has a focus listener is left out of that answer: a script may
start listening for keys once a field is focused, so that field is asked about the old
way, once focused. (One that starts listening only after a first value goes in is not
seen: asked field by field, the later fields would have seen it.) Every other field is asked about alone (`watched`), starting from the
focused element: focus is the one thing that leads through iframes
(their documents are reached through the protocol, whatever their origin) and shadow
roots to the field. Usually one evaluation with the console's `getEventListeners()`
answers; a field inside a frame of the same process or a closed shadow root takes a walk
over protocol objects (`DOMDebugger.getEventListeners`), a dozen round trips more.
Whenever the answer is not certain (the walk ends somewhere else, the protocol refuses),
the field counts as watched and is typed.
"""

from __future__ import annotations

import asyncio
import json

from playwright.async_api import Error as PlaywrightError

KEY_EVENTS = frozenset({"keydown", "keyup", "keypress"})
# A script listening for these may begin listening for keys once a field is focused.
FOCUS_EVENTS = frozenset({"focus", "focusin"})

_GROUP = "dc-key-watch"  # the protocol objects made for one question, released after it
_MAX_DEPTH = 8  # frames and shadow roots nested inside each other, more than any real form

# The focused element inside any open shadow roots from `this`.
_DEEPEST_FOCUS_JS = """function () {
  let el = this;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el;
}"""
_ACTIVE_ELEMENT_JS = "function () { return this.activeElement; }"
# Whether `this` is the field marked `dc`. Marks count per document, so a frame element in
# the page around a form may carry the same mark as a field inside the frame.
_IS_FIELD_JS = """function (dc) {
  return (/^(INPUT|TEXTAREA)$/.test(this.tagName) || !!this.isContentEditable) && this.getAttribute('data-dc') === dc;
}"""
# What a key event in `this` travels through: the field, its ancestors across shadow roots
# (an event from inside one is passed on to its host), the document, then the window.
_EVENT_PATH_JS = """function () {
  const path = [];
  for (let node = this; node; node = node.parentNode || node.host || null) path.push(node);
  if (this.ownerDocument && this.ownerDocument.defaultView) path.push(this.ownerDocument.defaultView);
  return path;
}"""


# Whether `this` has a listener for any of the event types given (the console's
# getEventListeners(), so only in an evaluation that includes the command line API).
_LISTENS_JS = """function (types) {
  const found = getEventListeners(this) || {};
  return types.some((type) => Array.isArray(found[type]) && found[type].length > 0);
}"""


def _one_step_js(dc: str) -> str:
    """The whole question in one evaluation, from the same pieces the walk uses, with the
    DevTools console's getEventListeners(): true or false, or null when the focus leads
    into a frame or a closed shadow root, which only the protocol's own objects can enter."""
    return f"""(() => {{
  const active = document.activeElement;
  const field = active && ({_DEEPEST_FOCUS_JS}).call(active);
  if (!field || !({_IS_FIELD_JS}).call(field, {json.dumps(dc)})) return null;
  const keys = {json.dumps(sorted(KEY_EVENTS))};
  return ({_EVENT_PATH_JS}).call(field).some((target) => ({_LISTENS_JS}).call(target, keys));
}})()"""


def _whole_form_js(dcs: list[str]) -> str:
    """Every field of `dcs` in the document, through open shadow roots, at once, with the
    same pieces: {dc: true or false}, leaving out a field not found exactly once (in a
    closed shadow root, say) and one whose path has a focus listener (see above)."""
    return f"""(() => {{
  const roots = [document];
  for (let i = 0; i < roots.length; i++) {{
    for (const el of roots[i].querySelectorAll('*')) if (el.shadowRoot) roots.push(el.shadowRoot);
  }}
  const listens = (target, types) => ({_LISTENS_JS}).call(target, types);
  const answers = {{}};
  for (const dc of {json.dumps(dcs)}) {{
    const fields = roots.flatMap((root) => [...root.querySelectorAll('[data-dc="' + CSS.escape(dc) + '"]')])
      .filter((el) => ({_IS_FIELD_JS}).call(el, dc));
    if (fields.length !== 1) continue;
    const path = ({_EVENT_PATH_JS}).call(fields[0]);
    if (path.some((target) => listens(target, {json.dumps(sorted(FOCUS_EVENTS))}))) continue;
    answers[dc] = path.some((target) => listens(target, {json.dumps(sorted(KEY_EVENTS))}));
  }}
  return answers;
}})()"""


class KeyWatch:
    """Answers, for one page, whether a field's key presses would be seen by the page.

    Sessions are opened as needed (one for the page, one for each frame that runs in a
    process of its own) and closed by `close()`."""

    def __init__(self, page) -> None:
        self._page = page
        self._sessions: dict[object, object | None] = {}
        self._known: dict[tuple[object, str], bool] = {}  # (frame, dc) -> answered by look_at

    async def look_at(self, frame, dcs: list[str]) -> None:
        """Answer for the fields `dcs` of `frame` at once, none of them focused, where one
        evaluation can: `frame` is the page's own (the page's session evaluates there).
        Fields it cannot answer for are left to `watched`."""
        if frame.parent_frame is not None or not dcs:
            return
        try:
            session = await self._session_for(frame)
            answer = await session.send("Runtime.evaluate", {
                "expression": _whole_form_js(dcs), "includeCommandLineAPI": True,
                "returnByValue": True, "silent": True})
        except PlaywrightError:
            return
        value = answer.get("result", {}).get("value")
        if isinstance(value, dict):
            self._known.update({(frame, dc): seen for dc, seen in value.items() if dc in dcs and isinstance(seen, bool)})

    def known(self, frame, dc: str) -> bool | None:
        """What `look_at` found for the field marked `dc` in `frame`; None if it did not answer."""
        return self._known.get((frame, dc))

    async def watched(self, frame, dc: str) -> bool:
        """Whether a script would see keys pressed in the field marked `dc` in `frame`,
        which must hold the focus. True when it cannot be told."""
        try:
            session = await self._session_for(frame)
            answer = await session.send("Runtime.evaluate", {
                "expression": _one_step_js(dc), "includeCommandLineAPI": True,
                "returnByValue": True, "silent": True})
            if isinstance(answer.get("result", {}).get("value"), bool):
                return answer["result"]["value"]
            try:
                field = await self._focused_element(session)
                if field is None or not await self._call(session, field, _IS_FIELD_JS, dc):
                    return True
                return await self._listens_for_keys(session, field)
            finally:
                await session.send("Runtime.releaseObjectGroup", {"objectGroup": _GROUP})
        except (PlaywrightError, KeyError, TypeError):
            return True  # the protocol refused, or answered in a shape this does not know

    async def close(self) -> None:
        for session in self._sessions.values():
            if session is not None:
                try:
                    await session.detach()
                except PlaywrightError:
                    pass  # the page or frame has gone with its session
        self._sessions.clear()

    async def _session_for(self, frame):
        # A frame in a process of its own has its own session; any other frame is reached
        # from the nearest one above it that has one, the page's at the top.
        while frame.parent_frame is not None:
            if frame not in self._sessions:
                try:
                    self._sessions[frame] = await self._page.context.new_cdp_session(frame)
                except PlaywrightError:
                    self._sessions[frame] = None  # part of its parent's process
            if self._sessions[frame] is not None:
                return self._sessions[frame]
            frame = frame.parent_frame
        if self._page not in self._sessions:
            self._sessions[self._page] = await self._page.context.new_cdp_session(self._page)
        return self._sessions[self._page]

    async def _focused_element(self, session) -> str | None:
        found = await session.send("Runtime.evaluate", {"expression": "document.activeElement", "objectGroup": _GROUP})
        element = found["result"].get("objectId")
        for _ in range(_MAX_DEPTH):
            if element is None:
                return None
            element = (await self._call_for_object(session, element, _DEEPEST_FOCUS_JS)) or element
            node = (await session.send("DOM.describeNode", {"objectId": element, "depth": 0, "pierce": True}))["node"]
            # Into a frame's document, or a closed shadow root (the browser's own shadow
            # roots inside inputs hold nothing of the page's).
            inner = node.get("contentDocument") or next(
                (root for root in node.get("shadowRoots", []) if root.get("shadowRootType") != "user-agent"), None)
            if inner is None:
                return element
            resolved = await session.send("DOM.resolveNode", {"backendNodeId": inner["backendNodeId"], "objectGroup": _GROUP})
            focused = await self._call_for_object(session, resolved["object"]["objectId"], _ACTIVE_ELEMENT_JS)
            if focused is None:
                return element
            element = focused
        return None

    async def _listens_for_keys(self, session, element: str) -> bool:
        path = await self._call_for_object(session, element, _EVENT_PATH_JS)
        if path is None:
            return True
        properties = (await session.send("Runtime.getProperties", {"objectId": path, "ownProperties": True}))["result"]
        targets = [p["value"]["objectId"] for p in properties
                   if p["name"].isdigit() and p.get("value", {}).get("objectId")]
        answers = await asyncio.gather(*(session.send("DOMDebugger.getEventListeners", {"objectId": target})
                                         for target in targets))
        return any(listener["type"] in KEY_EVENTS for answer in answers for listener in answer["listeners"])

    @staticmethod
    async def _call(session, object_id: str, function: str, *args):
        answer = await session.send("Runtime.callFunctionOn", {
            "objectId": object_id, "functionDeclaration": function, "returnByValue": True,
            "arguments": [{"value": a} for a in args]})
        return answer["result"].get("value")

    @staticmethod
    async def _call_for_object(session, object_id: str, function: str) -> str | None:
        answer = await session.send("Runtime.callFunctionOn", {
            "objectId": object_id, "functionDeclaration": function, "objectGroup": _GROUP})
        return answer["result"].get("objectId")
