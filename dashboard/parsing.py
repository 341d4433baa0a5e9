"""Reading a country's flow-figures CSV: every problem named by line and column, or rows.

The documented header (docs/dashboard.md) is
`month,reporting_country,border_segment,location,citizenship,demographic,event_type,count`,
in any order, UTF-8 (a byte-order mark is allowed), comma- or semicolon-separated. Nothing is
stored here: the import service stores a file only when this finds no problem at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from dashboard.codes import CITIZENSHIPS, BorderSegment, Demographic, EventType

COLUMNS = ("month", "reporting_country", "border_segment", "location", "citizenship",
           "demographic", "event_type", "count")
KEY_COLUMNS = COLUMNS[:-1]
# A duplicate row is wrong in no single cell: it names the columns that make the key.
DUPLICATE_COLUMNS = "month,border_segment,location,citizenship,demographic,event_type"
MAX_LOCATION = 100
MAX_PROBLEMS = 1000  # past this the list says how many more; the file is refused either way
MAX_COUNT = 2_147_483_647  # the column's range on PostgreSQL


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: where (line, column; 0 and "" for the whole file) and why."""

    line: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": str(self.message)}

    def __str__(self):
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    """A file with no problem: its rows as tuples in COLUMNS order, and the months it covers."""

    rows: list[tuple]
    months: list[dt.date]


def _month_parser(today: dt.date):
    """YYYY-MM to the month's first day; a cache, since a file repeats a few months."""
    current = today.replace(day=1)
    seen: dict[str, object] = {}

    def parse(text: str):
        if text in seen:
            return seen[text]
        value: object
        try:
            if len(text) != 7 or text[4] != "-":
                raise ValueError
            value = dt.date(int(text[:4]), int(text[5:]), 1)
            if value > current:
                value = Problem(0, "month",
                                _("a month in the future (%(month)s)") % {"month": text})
        except ValueError:
            value = Problem(0, "month", _("not a month: %(value)r, expected YYYY-MM")
                            % {"value": text[:20]})
        seen[text] = value
        return value

    return parse


def _header(first: str) -> tuple[str, list[str] | None]:
    delimiter = ";" if first.count(";") > first.count(",") else ","
    names = [name.strip().lower() for name in next(csv.reader([first], delimiter=delimiter))]
    return delimiter, names


def parse_flow_csv(data: bytes, *, country: str, today: dt.date) -> tuple[ParsedFile | None,
                                                                          list[Problem]]:
    """The rows of a good file, or every problem of a bad one (never both)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(0, "", _("the file is not UTF-8 (byte %(at)d)")
                              % {"at": exc.start})]
    lines = io.StringIO(text, newline="")
    first = lines.readline().rstrip("\r\n")
    if not first.strip():
        return None, [Problem(1, "", _("the file is empty; the first line must be the header"))]
    delimiter, names = _header(first)
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        return None, [Problem(1, "", _("the header must name the columns %(columns)s "
                                       "(missing: %(missing)s; unknown or repeated: %(unknown)s)")
                              % {"columns": ",".join(COLUMNS), "missing": ",".join(missing) or "-",
                                 "unknown": ",".join(unknown) or "-"})]
    order = [names.index(c) for c in COLUMNS]
    width = len(names)
    segments, demographics, events = (set(BorderSegment.values), set(Demographic.values),
                                      set(EventType.values))
    month_of = _month_parser(today)
    problems: list[Problem] = []
    rows: list[tuple] = []
    seen_keys: dict[tuple, int] = {}
    months: set = set()

    def bad(line, column, message):
        problems.append(Problem(line, column, message))

    reader = csv.reader(lines, delimiter=delimiter)
    for record in reader:
        line = reader.line_num + 1  # the header was read before the reader started
        if not record or record == [""]:
            continue
        if len(record) != width:
            bad(line, "", _("%(found)d fields, the header has %(expected)d")
                % {"found": len(record), "expected": width})
            continue
        month, reporting, segment, location, citizenship, demographic, event, count = (
            record[i].strip() for i in order)
        ok = True
        parsed_month = month_of(month)
        if isinstance(parsed_month, Problem):
            bad(line, "month", parsed_month.message)
            ok = False
        if reporting.upper() != country:
            bad(line, "reporting_country", _("a row of another country (%(found)s); this file "
                                             "can only hold %(country)s's figures")
                % {"found": reporting[:10], "country": country})
            ok = False
        if segment not in segments:
            bad(line, "border_segment",
                _("unknown border segment %(value)r (choose from %(choices)s)")
                % {"value": segment[:20], "choices": ", ".join(BorderSegment.values)})
            ok = False
        if len(location) > MAX_LOCATION:
            bad(line, "location", _("longer than %(max)d characters") % {"max": MAX_LOCATION})
            ok = False
        if citizenship != "other":
            citizenship = citizenship.upper()
        if citizenship not in CITIZENSHIPS:
            bad(line, "citizenship", _("unknown citizenship code %(value)r (ISO 3166 alpha-2 or "
                                       "other)") % {"value": citizenship[:20]})
            ok = False
        if demographic not in demographics:
            bad(line, "demographic", _("unknown demographic %(value)r (choose from %(choices)s)")
                % {"value": demographic[:30], "choices": ", ".join(Demographic.values)})
            ok = False
        if event not in events:
            bad(line, "event_type", _("unknown event type %(value)r (choose from %(choices)s)")
                % {"value": event[:30], "choices": ", ".join(EventType.values)})
            ok = False
        number = _count(count)
        if isinstance(number, Problem):
            bad(line, "count", number.message)
            ok = False
        if not ok:
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        key = (parsed_month, segment, location, citizenship, demographic, event)
        earlier = seen_keys.setdefault(key, line)
        if earlier != line:
            bad(line, DUPLICATE_COLUMNS,
                _("a duplicate of line %(line)d (same month, segment, location, citizenship, "
                  "demographic and event type)") % {"line": earlier})
            continue
        months.add(parsed_month)
        rows.append((parsed_month, country, segment, location, citizenship, demographic, event,
                     number))
    if len(problems) >= MAX_PROBLEMS:
        bad(0, "", _("too many problems; the list stops here"))
    if not problems and not rows:
        problems.append(Problem(2, "", _("the file has a header but no figures")))
    if problems:
        return None, problems
    return ParsedFile(rows=rows, months=sorted(months)), []


def _count(text: str):
    if text.isdigit() and text.isascii():
        value = int(text)
        if value <= MAX_COUNT:
            return value
        return Problem(0, "count", _("too large (%(value)s)") % {"value": text[:20]})
    if text.startswith("-") and text[1:].isdigit():
        return Problem(0, "count", _("a negative count (%(value)s)") % {"value": text[:20]})
    return Problem(0, "count", _("not a whole number: %(value)r") % {"value": text[:20]})
