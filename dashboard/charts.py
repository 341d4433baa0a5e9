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

from dashboard.disclosure import Table

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
    text: str


@dataclass(frozen=True)
class Legend:
    index: int
    label: str
    colour: str
    pattern: str
    y: float


def _nice_step(top: float) -> float:
    if top <= 0:
        return 1
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def chart(table: Table) -> dict:
    """Bars, axis ticks, row labels and legend of a disclosed table (withheld cells: no bar)."""
    values = [c.value for c in table.cells.values() if c.value is not None]
    step = _nice_step(max(values, default=0))
    top = max(step, math.ceil(max(values, default=0) / step) * step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(table.rows))
    bar_w = group_w * 0.8 / max(1, len(table.series))
    bars, labels = [], []
    every = max(1, math.ceil(len(table.rows) / 8))  # at most 8 row labels: they never overlap
    for i, row in enumerate(table.rows):
        x0 = LEFT + i * group_w + group_w * 0.1
        if i % every == 0:
            labels.append(Label(LEFT + (i + 0.5) * group_w, row.label))
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
                  number_format(k * step, force_grouping=True))
             for k in range(int(round(top / step)) + 1)]
    legend = [Legend(j, s.label, PALETTE[j % len(PALETTE)], PATTERNS[j % len(PATTERNS)],
                     j * 22) for j, s in enumerate(table.series)]
    return {"width": WIDTH, "height": HEIGHT + 22 * len(legend) + 8, "plot_bottom": TOP + plot_h,
            "left": LEFT, "right": WIDTH - RIGHT, "label_y": TOP + plot_h + 16,
            "legend_y": HEIGHT + 4, "bars": bars, "ticks": ticks, "labels": labels,
            "legend": legend, "patterns": list(zip(PATTERNS, PALETTE, strict=True))}
