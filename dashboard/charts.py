"""Grouped bar charts as plain geometry for templates/dashboard/chart.svg.html.

The SVG is drawn by a template, not a library, so it carries no inline style or script
(the Content-Security-Policy stays strict): colours are presentation attributes, and every
series has a pattern as well as a colour, so a chart reads in greyscale and for colour-blind
readers. The palette is Okabe and Ito's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.formats import number_format

from dashboard.disclosure import COUNT, Table

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
PATTERNS = ("solid", "hatch", "dots", "cross", "vertical", "horizontal", "checks", "rings")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    label: str  # "<row>, <series>: <value>" for the bar's own <title>


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str  # the row's full label
    lines: tuple = ()  # what is drawn: at most two lines that fit the label's room
    shortened: bool = False  # True when a line ends in "…" (the full text is the <title>)


CHAR_WIDTH = 7.2  # a generous average glyph width at font-size 12, so estimates err wide
LINE_HEIGHT = 14


def _fit(text: str, room: float, max_lines: int = 2) -> tuple[tuple, bool]:
    """Wrap a row label at spaces into at most max_lines lines of room px; shorten the last
    with "…" when it still does not fit, so no label runs into its neighbour."""
    per_line = max(3, int(room // CHAR_WIDTH))
    lines, line = [], ""
    for word in str(text).split():
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= per_line or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    shortened = len(lines) > max_lines or any(len(one) > per_line for one in lines)
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [" ".join(lines[max_lines - 1:])]
    lines = [one if len(one) <= per_line else one[:per_line - 1].rstrip() + "…" for one in lines]
    return tuple(lines), shortened


@dataclass(frozen=True)
class Legend:
    index: int
    label: str
    colour: str
    pattern: str
    y: float


def _nice_step(top: float, whole: bool = False) -> float:
    """A 1, 2, 2.5 or 5 times a power of ten step giving about five ticks; whole numbers
    only when the chart counts things (a count has no 0.2 or 1.5)."""
    if top <= 0:
        return 1
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    steps = (m * power for m in (1, 2, 2.5, 5, 10))
    if whole:
        return next(int(round(step)) for step in steps
                    if step >= raw and step >= 1 and float(step).is_integer())
    return next(step for step in steps if step >= raw)


def _tick_label(value: float, step: float, whole: bool) -> str:
    """The tick's number with as many decimals as its step needs, so a float artefact
    (0.6000000000000001) never reaches the page."""
    if whole:
        return number_format(int(round(value)), force_grouping=True)
    decimals = 0
    while decimals < 6 and abs(round(step, decimals) - step) > 1e-9:
        decimals += 1
    return number_format(round(value, decimals), decimal_pos=decimals, force_grouping=True)


def chart(table: Table) -> dict:
    """Bars, axis ticks, row labels and legend of a disclosed table (withheld cells: no bar)."""
    values = [c.value for c in table.cells.values() if c.value is not None]
    whole = table.measure == COUNT
    step = _nice_step(max(values, default=0), whole)
    top = max(step, math.ceil(max(values, default=0) / step) * step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(table.rows))
    bar_w = group_w * 0.8 / max(1, len(table.series))
    bars, labels = [], []
    every = max(1, math.ceil(len(table.rows) / 8))  # at most 8 row labels: they never overlap
    for i, row in enumerate(table.rows):
        x0 = LEFT + i * group_w + group_w * 0.1
        if i % every == 0:
            lines, shortened = _fit(row.label, group_w * every - 6)
            labels.append(Label(round(LEFT + (i + 0.5) * group_w, 2), row.label, lines,
                                shortened))
        for j, series in enumerate(table.series):
            value = table.cell(row.key, series.key).value
            if value is None:
                continue
            h = plot_h * value / top
            shown = number_format(value, force_grouping=True)
            bars.append(Bar(round(x0 + j * bar_w, 2), round(TOP + plot_h - h, 2),
                            round(max(bar_w - 1, 1), 2), round(h, 2), j,
                            f"{row.label}, {series.label}: {shown}"))
    ticks = [Tick(round(TOP + plot_h - plot_h * k * step / top, 2),
                  _tick_label(k * step, step, whole))
             for k in range(int(round(top / step)) + 1)]
    legend = [Legend(j, s.label, PALETTE[j % len(PALETTE)], PATTERNS[j % len(PATTERNS)],
                     j * 22) for j, s in enumerate(table.series)]
    return {"width": WIDTH, "height": HEIGHT + 22 * len(legend) + 8, "plot_bottom": TOP + plot_h,
            "left": LEFT, "right": WIDTH - RIGHT, "label_y": TOP + plot_h + 16,
            "line_height": LINE_HEIGHT,
            "legend_y": HEIGHT + 4, "bars": bars, "ticks": ticks, "labels": labels,
            "legend": legend, "patterns": list(zip(PATTERNS, PALETTE, strict=True))}
