"""Server-rendered SVG charts: geometry computed here, drawn by one template partial.

A chart is a list of shapes with CSS classes (colours live in static/css/app.css, so
there is no inline style for the Content-Security-Policy to refuse) in a fixed viewBox
that scales to its container. Every chart has a title and a description for assistive
technology, and the page puts a table with the same numbers under it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Sequence

WIDTH = 720


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str = ""


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str = "grid"


@dataclass
class Label:
    x: float
    y: float
    text: str
    css: str = "axis"
    anchor: str = "start"  # SVG text-anchor: start, middle or end
    title: str = ""


@dataclass
class Chart:
    ident: str
    title: str
    description: str
    height: float
    width: float = WIDTH
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def nice_scale(value: float, *, integer: bool = False) -> tuple[float, float]:
    """(top, step) of an axis from 0 that shows value in at most four round steps.

    A step is 1, 2, 2.5 or 5 times a power of ten (whole numbers only for counts), and
    the top is the first multiple of it at or above value.
    """
    if value <= 0:
        return 1.0, 1.0
    raw_step = value / 4
    power = 10 ** math.floor(math.log10(raw_step))
    multiples = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in multiples if m * power >= raw_step and (not integer or m * power >= 1))
    if integer:
        step = max(1.0, float(round(step)))
    return step * math.ceil(value / step - 1e-9), step


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def stacked_columns(
    ident: str,
    title: str,
    description: str,
    periods: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[int]]],  # (key, label, one count per period)
    period_label: Callable[[date], str],
) -> Chart:
    left, right, top, bottom, height = 44, 8, 10, 30, 240
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    totals = [sum(counts[i] for _, _, counts in series) for i in range(len(periods))]
    top_value, step = nice_scale(max(totals, default=0), integer=True)
    chart = Chart(ident, title, description, height)
    for tick in range(round(top_value / step) + 1):
        value = step * tick
        y = top + plot_h - plot_h * value / top_value
        chart.lines.append(Line(left, y, WIDTH - right, y, "grid" if tick else "axis-line"))
        chart.labels.append(Label(left - 6, y + 4, _number(value), "axis", "end"))
    if not periods:
        return chart
    slot = plot_w / len(periods)
    bar = max(1.0, slot * 0.72)
    every = max(1, math.ceil(len(periods) / 10))  # at most about ten dates under the axis
    for i, day in enumerate(periods):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for key, label, counts in series:
            if not counts[i]:
                continue
            h = plot_h * counts[i] / top_value
            y -= h
            chart.rects.append(Rect(x, y, bar, h, f"series-{key}", f"{period_label(day)}: {counts[i]} {label}"))
        if i % every == 0:
            chart.labels.append(Label(left + slot * (i + 0.5), height - 10, period_label(day), "axis", "middle"))
    chart.legend = [(f"series-{key}", label) for key, label, _ in series]
    return chart


def horizontal_bars(
    ident: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, float, str]]]],  # (label, [(css, value, value text)])
    maximum: float | None = None,
    legend: Sequence[tuple[str, str]] = (),
    label_chars: int = 40,
) -> Chart:
    """One row per label, one bar per (css, value) in it; values on a shared scale from 0."""
    label_w, value_w, bar_h, gap = 290, 120, 16, 12
    per_row = max(1, max((len(bars) for _, bars in rows), default=1))
    row_h = per_row * bar_h + gap
    height = max(row_h * len(rows), row_h) + 8
    top_value = maximum or nice_scale(max((v for _, bars in rows for _, v, _ in bars), default=0))[0]
    plot_w = WIDTH - label_w - value_w
    chart = Chart(ident, title, description, height, legend=list(legend))
    chart.lines.append(Line(label_w, 0, label_w, height - 4, "axis-line"))
    for r, (label, bars) in enumerate(rows):
        y = 4 + r * row_h
        short = label if len(label) <= label_chars else label[: label_chars - 1].rstrip() + "…"
        chart.labels.append(Label(label_w - 8, y + per_row * bar_h / 2 + 4, short, "axis", "end", label))
        for b, (css, value, text) in enumerate(bars):
            width = plot_w * min(value, top_value) / top_value if top_value else 0
            by = y + b * bar_h
            chart.rects.append(Rect(label_w, by + 1, max(width, 0.0), bar_h - 2, css, f"{label}: {text}"))
            chart.labels.append(Label(label_w + width + 6, by + bar_h - 4, text, "value"))
    return chart
