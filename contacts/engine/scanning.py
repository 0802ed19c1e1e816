"""Running scan.js in every frame of a page and classifying what it found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from contacts.engine.classifying import classify_fields

SCAN_JS = (Path(__file__).parent / "js" / "scan.js").read_text()


@dataclass
class FrameScan:
    frame: object  # playwright Frame
    data: dict  # what scan.js returned, fields classified


def scan_frames(page) -> list[FrameScan]:
    """One scan per frame, main frame first; frames that vanish mid-scan are skipped."""
    scans = []
    for frame in page.frames:
        if frame.is_detached():
            continue
        try:
            data = frame.evaluate(SCAN_JS)
        except PlaywrightError:
            continue
        for form in data["forms"]:
            classify_fields(form["fields"])
        scans.append(FrameScan(frame, data))
    return scans


def rescan_form(frame, form_dc: str) -> dict | None:
    """The same form described again (after a step, or after the page changed it)."""
    try:
        data = frame.evaluate(SCAN_JS)
    except PlaywrightError:
        return None
    for form in data["forms"]:
        if form["dc"] == form_dc:
            classify_fields(form["fields"])
            return form
    return None
