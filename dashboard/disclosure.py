"""The disclosure rule: the one function every dashboard figure passes before it is shown.

As the US Office of Homeland Security Statistics publishes since 2023: counts rounded to the
nearest 10 (0-4 shows 0, 5-14 shows 10), totals computed from the exact counts and rounded
afterwards (so rounded parts may not add up, and a note says so). What is rounded:

- counts about another country's records (the group's own figures: cases, shares, lookups);
  a count that mixes the viewer's records with a partner's is about a partner too;
- every count in an export marked for publication, the viewer's own and flow figures too.

What is exact: the viewer's own country's operational counts, and flow figures on the page
(each country's own published aggregates, shown as submitted). A median about a partner is
shown only when it rests on at least 10 decisions (MEDIAN_MIN_BASIS). No total is ever exact
when one of its parts is rounded, so no partner's count can be recovered by subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

ROUND_TO = 10
MEDIAN_MIN_BASIS = 10
FLOWS, OPERATIONAL = "flows", "operational"
COUNT, MEDIAN = "count", "median"

ROW_HEADINGS = {  # a table's first column heading, by slug (months: "Month")
    "flows-segment": pgettext_lazy("dashboard column", "Border segment"),
    "flows-citizenship": pgettext_lazy("dashboard column", "Citizenship"),
    "flows-demographic": pgettext_lazy("dashboard column", "Demographic group"),
    "cases-type": pgettext_lazy("dashboard column", "Case type"),
    "shares-status": pgettext_lazy("dashboard column", "Status"),
    "shares-pairs": pgettext_lazy("dashboard column", "Owner to recipient"),
}

ROUNDING_NOTE = _("Counts about partners' records are rounded to the nearest 10 (0-4 shows 0, "
                  "5-14 shows 10); totals are computed before rounding, so rounded parts may "
                  "not add up.")
PUBLICATION_NOTE = _("Marked for publication: every count is rounded to the nearest 10 (0-4 "
                     "shows 0, 5-14 shows 10); totals are computed before rounding, so rounded "
                     "parts may not add up.")
MEDIAN_NOTE = _("A median about a partner is shown only when it rests on at least 10 decisions.")


def round_count(value: int) -> int:
    """Nearest 10, halves up: 0-4 -> 0, 5-14 -> 10, 15-24 -> 20."""
    if value < 0:
        raise ValueError("counts are never negative")
    return (value + ROUND_TO // 2) // ROUND_TO * ROUND_TO


@dataclass(frozen=True)
class Axis:
    """A row or a series: its key, its label, and whose records it counts (country codes)."""

    key: str
    label: str
    about: frozenset = frozenset()


@dataclass
class RawTable:
    """Exact numbers from an aggregate selector, before anything shows them."""

    slug: str
    title: str
    description: str
    unit: str
    kind: str  # FLOWS or OPERATIONAL
    rows: list[Axis]
    series: list[Axis]
    values: dict  # (row key, series key) -> int (COUNT) or float (MEDIAN); missing means 0
    measure: str = COUNT
    basis: dict = field(default_factory=dict)  # MEDIAN: (row, series) -> decisions behind it
    totals: bool = True


@dataclass(frozen=True)
class Cell:
    """A shown figure: its value (None when withheld) and whether it was rounded."""

    value: int | float | None
    rounded: bool = False

    @property
    def withheld(self) -> bool:
        return self.value is None


@dataclass
class Table:
    """What a page, chart and CSV may show: disclosed cells only, never a raw number."""

    slug: str
    title: str
    description: str
    unit: str
    kind: str
    measure: str
    rows: list[Axis]
    series: list[Axis]
    cells: dict  # (row key, series key) -> Cell
    row_totals: dict  # row key -> Cell (empty without totals)
    series_totals: dict  # series key -> Cell
    total: Cell | None
    notes: list = field(default_factory=list)
    publication: bool = False

    def cell(self, row: str, series: str) -> Cell:
        return self.cells[(row, series)]

    @property
    def row_heading(self) -> str:
        """What the rows are (the first column's heading): "Month", "Status", ..."""
        if self.slug.endswith("-month"):
            return str(pgettext("dashboard column", "Month"))
        return str(ROW_HEADINGS.get(self.slug, pgettext("dashboard column", "Figure")))

    def grid(self) -> list[tuple]:
        """(row, [cell per series], row total or None) per row, for templates and CSVs."""
        return [(row, [self.cells[(row.key, s.key)] for s in self.series],
                 self.row_totals.get(row.key)) for row in self.rows]

    def totals_row(self) -> list[Cell]:
        return [self.series_totals[s.key] for s in self.series] if self.series_totals else []


def disclose(raw: RawTable, *, viewer_country: str | None, publication: bool = False) -> Table:
    """Apply the rule above to a selector's exact numbers; the only way to a `Table`."""
    own = frozenset({viewer_country}) if viewer_country else frozenset()

    def exact(about: frozenset) -> bool:
        if publication:
            return False
        return raw.kind == FLOWS or about <= own

    def count(value: int, about: frozenset) -> Cell:
        if exact(about):
            return Cell(value)
        return Cell(round_count(value), rounded=True)

    cells, row_totals, series_totals = {}, {}, {}
    if raw.measure == MEDIAN:
        for row in raw.rows:
            for series in raw.series:
                value = raw.values.get((row.key, series.key))
                basis = raw.basis.get((row.key, series.key), 0)
                shown = value is not None and (
                    (not publication and (row.about | series.about) <= own)
                    or basis >= MEDIAN_MIN_BASIS)
                cells[(row.key, series.key)] = Cell(round(value, 1) if shown else None)
        total = None
    else:
        for row in raw.rows:
            for series in raw.series:
                cells[(row.key, series.key)] = count(raw.values.get((row.key, series.key), 0),
                                                     row.about | series.about)
        total = None
        if raw.totals:
            everyone = frozenset()
            for row in raw.rows:
                about = row.about.union(*(s.about for s in raw.series))
                row_totals[row.key] = count(
                    sum(raw.values.get((row.key, s.key), 0) for s in raw.series), about)
                everyone |= about
            for series in raw.series:
                about = series.about.union(*(r.about for r in raw.rows))
                series_totals[series.key] = count(
                    sum(raw.values.get((r.key, series.key), 0) for r in raw.rows), about)
            total = count(sum(raw.values.get((r.key, s.key), 0)
                              for r in raw.rows for s in raw.series), everyone)
    notes = []
    shown_cells = [*cells.values(), *row_totals.values(), *series_totals.values()]
    if any(c.rounded for c in shown_cells):
        notes.append(PUBLICATION_NOTE if publication else ROUNDING_NOTE)
    if raw.measure == MEDIAN and any(c.withheld for c in cells.values()):
        notes.append(MEDIAN_NOTE)
    return Table(slug=raw.slug, title=raw.title, description=raw.description, unit=raw.unit,
                 kind=raw.kind, measure=raw.measure, rows=raw.rows, series=raw.series,
                 cells=cells, row_totals=row_totals, series_totals=series_totals, total=total,
                 notes=notes, publication=publication)
