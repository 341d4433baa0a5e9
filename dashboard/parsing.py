"""Reading a country's flow-figures CSV: every problem named by line and column, or rows.

The documented header (docs/dashboard.md) is
`month,reporting_country,border_segment,location,citizenship,demographic,event_type,count`,
in any order, UTF-8 (a byte-order mark is allowed), comma- or semicolon-separated. Nothing is
stored here: the import service stores a file only when this finds no problem at all.

Each column has one check (`_Checks`), which turns a cell's text into its value or a problem.
A file is read twice at most: first every distinct value of each column is checked once (a
file of 100,000 rows holds a few hundred distinct values), which is all a good file needs;
only when something is wrong are the rows walked one by one to name each problem's line.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io
from dataclasses import dataclass
from operator import itemgetter

from django.utils.translation import gettext_lazy as _

from dashboard.codes import CITIZENSHIPS, BorderSegment, Demographic, EventType

COLUMNS = ("month", "reporting_country", "border_segment", "location", "citizenship",
           "demographic", "event_type", "count")
# A duplicate row is wrong in no single cell: it names the columns that make the key.
DUPLICATE_COLUMNS = "month,border_segment,location,citizenship,demographic,event_type"
KEY = itemgetter(0, 2, 3, 4, 5, 6)  # of a row in COLUMNS order, without the country
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


class _Checks:
    """One check per column: a cell's text -> its value, or the Problem (line 0) it shows."""

    def __init__(self, country: str, today: dt.date):
        self.country = country
        self.current = today.replace(day=1)
        self.segments = frozenset(BorderSegment.values)
        self.demographics = frozenset(Demographic.values)
        self.events = frozenset(EventType.values)

    def month(self, text):
        text = text.strip()
        try:
            if len(text) != 7 or text[4] != "-":
                raise ValueError
            value = dt.date(int(text[:4]), int(text[5:]), 1)
        except ValueError:
            return Problem(0, "month", _("not a month: %(value)r, expected YYYY-MM")
                           % {"value": text[:20]})
        if value > self.current:
            return Problem(0, "month", _("a month in the future (%(month)s)") % {"month": text})
        return value

    def reporting_country(self, text):
        text = text.strip()
        if text.upper() != self.country:
            return Problem(0, "reporting_country",
                           _("a row of another country (%(found)s); this file can only hold "
                             "%(country)s's figures") % {"found": text[:10],
                                                         "country": self.country})
        return self.country

    def border_segment(self, text):
        text = text.strip()
        if text not in self.segments:
            return Problem(0, "border_segment",
                           _("unknown border segment %(value)r (choose from %(choices)s)")
                           % {"value": text[:20], "choices": ", ".join(BorderSegment.values)})
        return text

    def location(self, text):
        text = text.strip()
        if len(text) > MAX_LOCATION:
            return Problem(0, "location", _("longer than %(max)d characters")
                           % {"max": MAX_LOCATION})
        return text

    def citizenship(self, text):
        text = text.strip()
        if text not in CITIZENSHIPS:
            text = text.upper()  # "gt" is GT; "other" is in the set as it is
        if text not in CITIZENSHIPS:
            return Problem(0, "citizenship", _("unknown citizenship code %(value)r (ISO 3166 "
                                               "alpha-2 or other)") % {"value": text[:20]})
        return text

    def demographic(self, text):
        text = text.strip()
        if text not in self.demographics:
            return Problem(0, "demographic",
                           _("unknown demographic %(value)r (choose from %(choices)s)")
                           % {"value": text[:30], "choices": ", ".join(Demographic.values)})
        return text

    def event_type(self, text):
        text = text.strip()
        if text not in self.events:
            return Problem(0, "event_type",
                           _("unknown event type %(value)r (choose from %(choices)s)")
                           % {"value": text[:30], "choices": ", ".join(EventType.values)})
        return text

    def count(self, text):
        text = text.strip()
        if text.isdigit() and text.isascii():
            if int(text) <= MAX_COUNT:
                return int(text)
            return Problem(0, "count", _("too large (%(value)s)") % {"value": text[:20]})
        if text.startswith("-") and text[1:].isdigit():
            return Problem(0, "count", _("a negative count (%(value)s)") % {"value": text[:20]})
        return Problem(0, "count", _("not a whole number: %(value)r") % {"value": text[:20]})


@contextlib.contextmanager
def no_cyclic_gc():
    """Hundreds of thousands of lists and tuples, none in a cycle: the cyclic collector would
    scan them over and over as they are made (it doubled the time of a 100,000-row file).
    Reference counting still frees everything; the collector is back on afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _header(first: str) -> tuple[str, list[str]]:
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
    checks = _Checks(country, today)
    positions = [names.index(c) for c in COLUMNS]
    body = lines.tell()
    with no_cyclic_gc():
        records = [r for r in csv.reader(lines, delimiter=delimiter) if r and r != [""]]
        parsed = _all_good(records, positions, len(names), checks)
    if parsed is not None:
        return parsed, []
    lines.seek(body)
    return None, _problems(lines, delimiter, positions, len(names), checks)


def _all_good(records, positions, width, checks) -> ParsedFile | None:
    """The rows, when every distinct value of every column passes its check and no key repeats;
    None otherwise (then _problems names each one by line)."""
    if not records or any(len(r) != width for r in records):
        return None
    converted = []
    for name, position in zip(COLUMNS, positions, strict=True):
        check = getattr(checks, name)
        column = list(map(itemgetter(position), records))
        values = {}
        for text in set(column):
            value = check(text)
            if isinstance(value, Problem):
                return None
            values[text] = value
        converted.append(map(values.__getitem__, column))
    rows = list(zip(*converted, strict=True))
    if len(set(map(KEY, rows))) != len(rows):
        return None
    return ParsedFile(rows=rows, months=sorted({row[0] for row in rows}))


def _problems(lines, delimiter, positions, width, checks) -> list[Problem]:
    """Every problem of a bad file, each with its line (the slow path, rows one by one)."""
    problems: list[Problem] = []
    seen_keys: dict[tuple, int] = {}
    order = [(name, position, getattr(checks, name))
             for name, position in zip(COLUMNS, positions, strict=True)]
    reader = csv.reader(lines, delimiter=delimiter)
    good_rows = 0
    for record in reader:
        line = reader.line_num + 1  # the header was read before the reader started
        if not record or record == [""]:
            continue
        if len(record) != width:
            problems.append(Problem(line, "", _("%(found)d fields, the header has %(expected)d")
                                    % {"found": len(record), "expected": width}))
        else:
            row, ok = [], True
            for name, position, check in order:
                value = check(record[position])
                if isinstance(value, Problem):
                    problems.append(Problem(line, name, value.message))
                    ok = False
                row.append(value)
            if ok:
                earlier = seen_keys.setdefault(KEY(row), line)
                if earlier != line:
                    problems.append(Problem(
                        line, DUPLICATE_COLUMNS,
                        _("a duplicate of line %(line)d (same month, segment, location, "
                          "citizenship, demographic and event type)") % {"line": earlier}))
                else:
                    good_rows += 1
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(0, "", _("too many problems; the list stops here")))
            break
    if not problems and not good_rows:
        problems.append(Problem(2, "", _("the file has a header but no figures")))
    return problems
