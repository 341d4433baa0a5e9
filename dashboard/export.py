"""A table as CSV: exactly what the page shows, under a metadata header.

The header lines (`# source`, `# as of`, `# unit`, `# rounding`, ...) say where the numbers
come from and how they were disclosed. Text cells that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) are prefixed with an apostrophe, as
OWASP advises against CSV injection.
"""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from dashboard.disclosure import FLOWS, Table
from dashboard.selectors import DEMONSTRATION_LABEL, Dashboard

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> str:
    """Numbers as they are; text that a spreadsheet would evaluate, defused."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _rounding(table: Table) -> str:
    if table.publication:
        return _("every count rounded to the nearest 10 (marked for publication)")
    if table.kind == FLOWS:
        return _("none: flow figures as each country submitted them")
    return _("counts about partners' records rounded to the nearest 10; own country exact")


def table_csv(table: Table, dashboard: Dashboard, *, filters: str) -> str:
    """The CSV text of one disclosed table (the page's figures, nothing more)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    as_of = "; ".join(
        f"{a.country} {a.uploaded_at:%Y-%m-%d %H:%M} UTC" if a.uploaded_at else
        f"{a.country} -" for a in dashboard.as_of)
    source = (_("flow figures submitted by each country's statistics members") if
              table.kind == FLOWS else _("the Working Group Exchange's own records (aggregates)"))
    meta = [("title", table.title), ("source", source), ("as of", as_of), ("unit", table.unit),
            ("rounding", _rounding(table)), ("filters", filters)]
    if dashboard.demonstration:
        meta.append(("note", str(DEMONSTRATION_LABEL)))
    meta += [("note", note) for note in table.notes]
    for key, value in meta:
        writer.writerow([escape_cell(f"# {key}: {value}")])
    totals = bool(table.row_totals)
    header = ["key", "label", *[s.label for s in table.series]] + ([_("Total")] if totals else [])
    writer.writerow([escape_cell(h) for h in header])
    for row in table.rows:
        cells = [table.cell(row.key, s.key).value for s in table.series]
        if totals:
            cells.append(table.row_totals[row.key].value)
        writer.writerow([escape_cell(row.key), escape_cell(row.label),
                         *[escape_cell(v) for v in cells]])
    if table.series_totals:
        writer.writerow(["total", escape_cell(_("Total")),
                         *[escape_cell(table.series_totals[s.key].value) for s in table.series],
                         escape_cell(table.total.value if table.total else None)])
    return out.getvalue()
