"""A known data set: every figure on the page and in each CSV against counts computed in SQL,
exact for the viewer's own country and rounded by the rule for partners'; and over every
combination of filters, every figure about a partner's records is a multiple of 10."""

import csv
import datetime as dt
import io
import itertools
import re
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

import pytest
from django.db import connection
from freezegun import freeze_time

import audit
from audit.drain import drain_outbox
from cases.models import Case
from dashboard.selectors import FlowFilter, dashboard_for
from dashboard.services import flow_import
from sharing.models import ShareRequest
from tests.dashboard.conftest import csv_file

COUNTRIES = ("GT", "MX", "US")
PERIOD = "month_from=2026-01&month_to=2026-06"
LO, HI = dt.date(2026, 1, 1), dt.date(2026, 6, 1)
START, END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
UTC = dt.UTC
# Cases opened: (owner, month, type, how many, how many of them closed)
CASES = [("US", 1, "trafficking", 7, 2), ("US", 3, "smuggling", 16, 0),
         ("MX", 1, "smuggling", 4, 1), ("MX", 2, "trafficking", 5, 0),
         ("MX", 5, "smuggling", 14, 3), ("GT", 2, "smuggling", 3, 0),
         ("GT", 4, "trafficking", 15, 5), ("US", 12, "trafficking", 2, 0)]  # Dec 2025: outside
CITIZENSHIPS = ["GT", "HN", "SV", "MX", "VE", "CU", "HT", "NI", "EC", "CO", "BR", "other"]


def nearest10(n: int) -> int:
    return int((Decimal(n) / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 10


def month_sql(column):
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"
    return f"strftime('%%Y-%%m', {column})"


def sql(query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


@pytest.fixture
def known_data(db, make_case, make_member, us_statistics, mx_statistics, gt_statistics):
    """Cases, share requests, lookups and flow figures with counts that exercise rounding."""
    by_country = {}
    for owner, month, case_type, count, closed in CASES:
        year = 2025 if month == 12 else 2026
        for i in range(count):
            case = make_case(owner, case_type=case_type)
            Case.objects.filter(pk=case.pk).update(
                created_at=dt.datetime(year, month, 3 + i, 12, tzinfo=UTC),
                status="closed" if i < closed else "open")
            by_country.setdefault(owner, []).append(case)
    requester = {c: make_member(c, "investigator") for c in COUNTRIES}
    liaison = {c: make_member(c, "liaison") for c in COUNTRIES}
    plan = [("US", "MX", "approved", 12), ("US", "GT", "denied", 3), ("MX", "US", "approved", 6),
            ("MX", "GT", "pending", 2), ("GT", "US", "revoked", 4), ("GT", "MX", "approved", 1),
            # Issue 18's states: one approval of two given; renewals cancelled with their share.
            ("US", "MX", "awaiting_second_approval", 2), ("US", "GT", "cancelled", 2)]
    for n, (owner, recipient, status, count) in enumerate(plan):
        for i in range(count):
            created = dt.datetime(2026, 2, 1 + i, 9, tzinfo=UTC)
            undecided = status in ("pending", "awaiting_second_approval")
            decided = None if undecided else created + dt.timedelta(hours=6 * (i + n))
            ShareRequest.objects.create(
                case=by_country[owner][i % len(by_country[owner])], recipient_country_id=recipient,
                scope="summary", justification="known data set", origin="request",
                requested_by=requester[recipient], created_at=created,
                expires_at=created + dt.timedelta(days=90), status=status,
                decided_by=liaison[owner] if decided else None, decided_at=decided,
                revoked_by=liaison[owner] if status == "revoked" else None,
                revoked_at=decided + dt.timedelta(days=1) if status == "revoked" else None)
    lookups = [("US", 1, 9, 3), ("MX", 2, 6, 5), ("GT", 2, 2, 0), ("US", 4, 15, 4)]
    for country, month, count, hits in lookups:
        with freeze_time(dt.datetime(2026, month, 10, tzinfo=UTC)):
            for i in range(count):
                audit.record("lookup.search", requester[country], identifier_type="passport",
                             partner_countries=1 if i < hits else 0)
    drain_outbox()
    members = {"US": us_statistics, "MX": mx_statistics, "GT": gt_statistics}
    for k, country in enumerate(COUNTRIES):
        rows = []
        for month in range(1, 7):
            for c, citizenship in enumerate(CITIZENSHIPS):
                for segment, demographic, event in (("US-MX", "single_adult", "encounter"),
                                                    ("MX-GT", "family_unit", "return"),
                                                    ("other", "unknown", "rescue")):
                    count = (month * 7 + c * 13 + k * 5) % 23 + (40 if c < 3 else 0)
                    rows.append((f"2026-{month:02d}", country, segment, f"Loc {k}", citizenship,
                                 demographic, event, count))
        flow_import(actor=members[country], data=csv_file(*rows), today=dt.date(2026, 7, 1))
    return members


def parse_csv(body: str):
    records = list(csv.reader(io.StringIO(body)))
    meta = [r[0] for r in records if len(r) == 1 and r[0].startswith("# ")]
    table = [r for r in records if not (len(r) == 1 and r[0].startswith("# "))]
    header, rows = table[0], table[1:]
    return meta, header, {row[0]: dict(zip(header[2:], row[2:], strict=True)) for row in rows}


def expected_tables(viewer):
    """Every table of the page, computed here from SQL alone: {slug: {row: {column: value}}}."""
    own = {viewer} if viewer else set()

    def shown(n, about, flows=False):
        return n if flows or set(about) <= own else nearest10(n)

    def build(cells, rows, columns, flows=False, about_row=None, totals=True):
        """cells {(row, column): n}; columns [(label, key, about)]."""
        out = {}
        for row in rows:
            row_about = about_row(row) if about_row else set()
            line = {label: shown(cells.get((row, key), 0), row_about | about, flows)
                    for label, key, about in columns}
            if totals:
                everyone = row_about.union(*(about for _, _, about in columns))
                line["Total"] = shown(sum(cells.get((row, key), 0) for _, key, _ in columns),
                                      everyone, flows)
            out[row] = line
        if totals:
            out["total"] = {}
            for label, key, about in columns:
                union = set(about).union(*((about_row(r) if about_row else set()) for r in rows))
                out["total"][label] = shown(sum(cells.get((r, key), 0) for r in rows), union,
                                            flows)
            everything = set().union(*(a for _, _, a in columns),
                                     *((about_row(r) if about_row else set()) for r in rows))
            out["total"]["Total"] = shown(sum(cells.values()) if cells else 0, everything, flows)
        return out

    months = [f"2026-{m:02d}" for m in range(1, 7)]
    countries = [(c, c, {c}) for c in COUNTRIES]
    flows_cols = [(c, c, set()) for c in COUNTRIES]
    flow_where = "month >= %s AND month <= %s"
    t = {}
    cells = {(str(m)[:7], c): n for m, c, n in sql(
        f"SELECT month, country_id, SUM(count) FROM dashboard_flowfigure WHERE {flow_where} "
        "GROUP BY month, country_id", [LO, HI])}
    t["flows-month"] = build(cells, months, flows_cols, flows=True)
    cells = dict(((s, c), n) for s, c, n in sql(
        "SELECT border_segment, country_id, SUM(count) FROM dashboard_flowfigure WHERE "
        f"{flow_where} GROUP BY border_segment, country_id", [LO, HI]))
    t["flows-segment"] = build(cells, ["US-MX", "MX-GT", "other"], flows_cols, flows=True)
    ranked = sql(f"SELECT citizenship, SUM(count) FROM dashboard_flowfigure WHERE {flow_where} "
                 "GROUP BY citizenship ORDER BY SUM(count) DESC, citizenship", [LO, HI])
    cells = {(code, "events"): n for code, n in ranked[:10]}
    cells[("rest", "events")] = sum(n for _, n in ranked[10:])
    t["flows-citizenship"] = build(cells, [code for code, _ in ranked[:10]] + ["rest"],
                                   [("Events", "events", set())], flows=True)
    cells = {(d, "events"): n for d, n in sql(
        f"SELECT demographic, SUM(count) FROM dashboard_flowfigure WHERE {flow_where} "
        "GROUP BY demographic", [LO, HI])}
    t["flows-demographic"] = build(cells, ["single_adult", "family_unit", "accompanied_minor",
                                           "unaccompanied_minor", "unknown"],
                                   [("Events", "events", set())], flows=True)
    period = "created_at >= %s AND created_at < %s"
    cells = {(m, c): n for m, c, n in sql(
        f"SELECT {month_sql('created_at')}, owner_country_id, COUNT(*) FROM cases_case "
        f"WHERE {period} GROUP BY 1, 2", [START, END])}
    t["cases-month"] = build(cells, months, countries)
    cells = {(ty, c): n for ty, c, n in sql(
        f"SELECT case_type, owner_country_id, COUNT(*) FROM cases_case WHERE {period} "
        "GROUP BY 1, 2", [START, END])}
    t["cases-type"] = build(cells, ["trafficking", "smuggling"], countries)
    cells = {("open", c): n for c, n in sql(
        "SELECT owner_country_id, COUNT(*) FROM cases_case WHERE status = 'open' GROUP BY 1")}
    t["cases-open"] = build(cells, ["open"], countries)
    cells = {(s, c): n for s, c, n in sql(
        "SELECT s.status, c.owner_country_id, COUNT(*) FROM sharing_sharerequest s JOIN "
        "cases_case c ON c.id = s.case_id WHERE s.created_at >= %s AND s.created_at < %s "
        "GROUP BY 1, 2", [START, END])}
    t["shares-status"] = build(cells, ["pending", "awaiting_second_approval", "approved",
                                       "denied", "revoked", "expired", "cancelled"], countries)
    waits = {}
    for c, created, decided in sql(
            "SELECT c.owner_country_id, s.created_at, s.decided_at FROM sharing_sharerequest s "
            "JOIN cases_case c ON c.id = s.case_id WHERE s.decided_at >= %s AND "
            "s.decided_at < %s AND s.status <> 'cancelled'", [START, END]):
        if isinstance(created, str):  # SQLite hands raw SQL timestamps back as text
            created, decided = (dt.datetime.fromisoformat(created),
                                dt.datetime.fromisoformat(decided))
        waits.setdefault(c, []).append((decided - created).total_seconds() / 86400)
    t["shares-decision"] = {"median": {
        c: (f"{round(median(waits[c]), 1)}" if c in waits and (c == viewer or len(waits[c]) >= 10)
            else "") for c in COUNTRIES}}
    cells = {(f"{a}>{b}", "approved"): n for a, b, n in sql(
        "SELECT c.owner_country_id, s.recipient_country_id, COUNT(*) FROM sharing_sharerequest s "
        "JOIN cases_case c ON c.id = s.case_id WHERE s.status IN ('approved', 'revoked', "
        "'expired') AND s.decided_at >= %s AND s.decided_at < %s GROUP BY 1, 2", [START, END])}
    pairs = [f"{a}>{b}" for a in COUNTRIES for b in COUNTRIES if a != b]
    t["shares-pairs"] = build(cells, pairs, [("Approved shares", "approved", set())],
                              about_row=lambda pair: {pair[:2]})
    hit = ("(details->>'partner_countries')::int > 0" if connection.vendor == "postgresql"
           else "json_extract(details, '$.partner_countries') > 0")
    cells = {}
    for m, c, n, h in sql(
            f"SELECT {month_sql('occurred_at')}, actor_country, COUNT(*), "
            f"SUM(CASE WHEN {hit} THEN 1 ELSE 0 END) FROM audit_auditentry WHERE action = "
            "'lookup.search' AND occurred_at >= %s AND occurred_at < %s GROUP BY 1, 2",
            [START, END]):
        cells[(m, f"{c}:lookups")], cells[(m, f"{c}:hits")] = n, h
    columns = [(label % c, f"{c}:{kind}", {c}) for c in COUNTRIES
               for kind, label in (("lookups", "%s lookups"), ("hits", "%s lookups with a hit"))]
    t["lookups-month"] = build(cells, months, columns, totals=False)
    return t


def as_text(expected):
    return {row: {col: ("" if v == "" else str(v)) for col, v in line.items()}
            for row, line in expected.items()}


def page_tables(html):
    """{slug: [data-value of every count cell, in document order]} from the page."""
    out = {}
    for slug, body in re.findall(r'<section class="panel"[^>]*id="([^"]+)">(.*?)</section>',
                                 html, re.S):
        table = body[body.index("<table"):]
        out[slug] = re.findall(r'<td class="num">(?:<span data-value="([^"]*)"|([^<]*))', table)
    return out


@pytest.mark.parametrize("viewer", ["US", "MX", "GT"])
def test_every_figure_on_the_page_and_in_each_csv_matches_sql(known_data, web, make_member,
                                                              viewer):
    member = make_member(viewer, "investigator")
    client = web(member)
    expected = expected_tables(viewer)
    page = client.get(f"/dashboard/?{PERIOD}")
    assert page.status_code == 200
    shown_on_page = page_tables(page.content.decode())
    assert set(shown_on_page) == set(expected)
    for slug, table in expected.items():
        response = client.get(f"/dashboard/csv/{slug}/?{PERIOD}")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        meta, header, rows = parse_csv(response.content.decode())
        assert any(line.startswith("# unit: ") for line in meta)
        assert {row: {k: v for k, v in line.items()} for row, line in rows.items()} == \
            as_text(table), slug
        # the page's table holds the same numbers, in the same order as the CSV
        in_csv = [v for row in rows.values() for v in row.values()]
        in_page = [a or b.strip() for a, b in shown_on_page[slug]]
        if slug == "shares-decision":
            in_page = ["" if v.startswith("not shown") else v for v in in_page]
        else:
            assert in_page == in_csv, slug


def partner_figures(table, viewer):
    """Every (value, where) of a disclosed table whose figure is about a partner's records.

    Flow figures are each country's own published aggregates, not the group's records: on
    the page they are shown as submitted, so only the publication export rounds them."""
    own = {viewer}
    for row in table.rows:
        for series in table.series:
            if (row.about | series.about) - own:
                yield table.cell(row.key, series.key), (row.key, series.key)
        if row.key in table.row_totals and (row.about.union(*(s.about for s in table.series))
                                            - own):
            yield table.row_totals[row.key], (row.key, "total")
    for series in table.series:
        if series.key in table.series_totals and (series.about.union(*(r.about for r in
                                                                        table.rows)) - own):
            yield table.series_totals[series.key], ("total", series.key)
    everyone = frozenset().union(*(a.about for a in [*table.rows, *table.series]))
    if table.total is not None and everyone - own:
        yield table.total, ("total", "total")


def test_every_partner_figure_is_a_multiple_of_ten_under_every_filter(known_data, mx_investigator):
    months = [(dt.date(2026, 1, 1), dt.date(2026, 6, 1)), (dt.date(2026, 2, 1),
                                                           dt.date(2026, 2, 1))]
    # every filter off and on (a partner's country and the viewer's own among them), for the
    # page and for the export marked for publication
    combos = itertools.product(months, ["", "US", "MX"], ["", "MX-GT"], ["", "GT"],
                               ["", "unknown"], ["", "rescue"], [False, True])
    checked = 0
    for (lo, hi), country, segment, citizenship, demographic, event, publication in combos:
        f = FlowFilter(month_from=lo, month_to=hi, countries=(country,) if country else (),
                       segments=(segment,) if segment else (),
                       citizenships=(citizenship,) if citizenship else (),
                       demographics=(demographic,) if demographic else (),
                       event_types=(event,) if event else (), publication=publication)
        for table in dashboard_for(mx_investigator, f).tables:
            if table.measure == "median":
                continue
            figures = (list(table.cells.values()) + list(table.row_totals.values())
                       + list(table.series_totals.values()) + [table.total]
                       if publication else [cell for cell, _ in partner_figures(table, "MX")])
            for cell in figures:
                if cell is not None:
                    assert cell.value % 10 == 0, (table.slug, f)
                    checked += 1
    assert checked > 5_000
