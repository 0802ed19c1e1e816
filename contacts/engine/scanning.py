"""Running scan.js in every frame of a page and classifying what it found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Error as PlaywrightError

from contacts.engine.classifying import classify_fields

SCAN_JS = (Path(__file__).parent / "js" / "scan.js").read_text()


@dataclass
class FrameScan:
    frame: object  # playwright Frame
    data: dict  # what scan.js returned, fields classified


async def scan_frames(page) -> list[FrameScan]:
    """One scan per frame, main frame first; frames that vanish mid-scan are skipped."""
    scans = []
    for frame in page.frames:
        data = None if frame.is_detached() else await scan_frame(frame)
        if data is not None:
            scans.append(FrameScan(frame, data))
    return scans


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
