"""Running scan.js in every frame of a page and classifying what it found."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Error as PlaywrightError

from contacts.engine.classifying import classify_fields
from contacts.engine.form_choice import best_contact_form

SCAN_JS = (Path(__file__).parent / "js" / "scan.js").read_text()


@dataclass
class FrameScan:
    frame: object  # playwright Frame
    data: dict  # what scan.js returned, fields classified


# A frame whose document has not arrived (a slow ad server) cannot be scanned until it
# does: evaluate() waits for it. The wait is bounded and the scan left running, so the
# next look picks it up without asking the frame again. Longer when the page's own
# document has no contact form, since a frame may then hold it.
FRAME_WAIT_S = 0.3
FRAME_WAIT_NO_FORM_S = 2.5
_frame_scans: dict[object, asyncio.Future] = {}


async def scan_frames(page) -> list[FrameScan]:
    """One scan per frame, main frame first; frames that vanish mid-scan, or whose
    document is still on its way, are skipped."""
    frames = [frame for frame in page.frames if not frame.is_detached()]
    if not frames:
        return []
    main, children = frames[0], frames[1:]
    main_data = await scan_frame(main)
    if not children:
        return [FrameScan(main, main_data)] if main_data is not None else []
    has_form = main_data is not None and best_contact_form(main_data["forms"]) is not None
    wait_s = FRAME_WAIT_S if has_form else FRAME_WAIT_NO_FORM_S
    found = await asyncio.gather(*(_scan_within(frame, wait_s) for frame in children))
    scans = [FrameScan(main, main_data)] if main_data is not None else []
    return scans + [FrameScan(frame, data) for frame, data in zip(children, found) if data is not None]


async def _scan_within(frame, wait_s: float) -> dict | None:
    running = _frame_scans.get(frame)
    if running is None:
        running = _frame_scans[frame] = asyncio.ensure_future(scan_frame(frame))
        running.add_done_callback(lambda _done: _frame_scans.pop(frame, None))
    try:
        return await asyncio.wait_for(asyncio.shield(running), wait_s)
    except asyncio.TimeoutError:
        return None


async def scan_frame(frame) -> dict | None:
    """One frame's scan with its fields classified, or None if the frame is gone."""
    try:
        data = await frame.evaluate(SCAN_JS)
    except PlaywrightError:
        return None
    for form in data["forms"]:
        classify_fields(form["fields"])
    return data


async def rescan_form(frame, form_dc: str) -> dict | None:
    """The same form described again (after a step, or after the page changed it)."""
    data = await scan_frame(frame)
    return next((form for form in data["forms"] if form["dc"] == form_dc), None) if data else None
