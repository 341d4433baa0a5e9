"""Benchmark: the dashboard's queries against the bare SQL aggregates they need, and the flow
import against a bare COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/w5_bench .venv/bin/python bench/dashboard.py
    ... bench/dashboard.py --smoke        (tiny sizes: checks the code paths, times nothing real)

The database (its name must contain "bench") is dropped and re-created. Seeds, in SQL:
100,000 cases over US, GT and MX across 24 months, 20,000 share requests (every status, with
decisions), 10,000 lookups (audited through audit.record and chained), and 1,000,000 flow
figures. Then, in one run, alternating so that drift on a shared machine hits both alike:

  queries  dashboard.selectors.dashboard_for (every table of the page, through the disclosure
           rule) against the same eleven GROUP BY statements run bare through a cursor;
           goal: at most 1.5x
  import   dashboard.services.flow_import of a 100,000-row CSV (parse, check every cell,
           revision, COPY, audit) against COPY ... FROM STDIN (FORMAT csv) of the same rows
           into the same table (same indexes and constraints), nothing else; goal: rows per
           second at least 0.5x

It prints medians and the ratios (docs/PERFORMANCE.md records them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FULL = {"cases": 100_000, "shares": 20_000, "lookups": 10_000, "flows": 1_000_000,
        "import_rows": 100_000, "repeats": 7}
SMOKE = {"cases": 300, "shares": 100, "lookups": 30, "flows": 5_000, "import_rows": 1_000,
         "repeats": 2}
TODAY = dt.date(2026, 12, 15)
MONTHS = 24


def _month(back: int) -> dt.date:
    year, month = divmod(TODAY.year * 12 + TODAY.month - 1 - back, 12)
    return dt.date(year, month + 1, 1)


def seed(sizes: dict) -> dict:
    """Cases, share requests, lookups, flow figures and the members the run acts as."""
    from django.db import connection, transaction

    import audit
    from audit.drain import drain_outbox
    from dashboard.models import FlowRevision
    from workinggroup import members
    from workinggroup.models import User

    people = {}
    for cc in ("US", "GT", "MX"):
        for role in ("investigator", "statistics"):
            name = f"bench.{cc.lower()}.{role}"
            people[(cc, role)] = (User.objects.filter(username=name).first() or
                                  members.member_create(username=name, roles=[role],
                                                        password="bench-Password-2026!",
                                                        country_code=cc))
    start = dt.datetime.combine(_month(MONTHS - 1), dt.time(), dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_case (id, reference, owner_country_id, year, number, title,
                summary, case_type, status, handling_code, handling_note, source_reliability,
                information_assessment, created_by_id, created_at, updated_at)
            SELECT gen_random_uuid(), cc || '-B-' || lpad(n::text, 7, '0'), cc, 2001, n,
                'Network ' || n, 'Synthetic case for the dashboard benchmark.',
                CASE WHEN n %% 3 = 0 THEN 'smuggling' ELSE 'trafficking' END,
                CASE WHEN n %% 4 = 0 THEN 'closed' ELSE 'open' END, 'H0', '', 'B', '2', NULL,
                %(start)s + make_interval(mins => (n * 7) %% (%(months)s * 43200)), now()
            FROM generate_series(1, %(cases)s) AS n,
                 LATERAL (SELECT (ARRAY['US', 'GT', 'MX'])[1 + n %% 3] AS cc) AS c
            """, {"start": start, "months": MONTHS, "cases": sizes["cases"]})
        cursor.execute(
            """
            INSERT INTO sharing_sharerequest (id, case_id, recipient_country_id, scope,
                justification, origin, requested_by_id, created_at, expires_at, status,
                decided_by_id, decided_at, decision_note, revoked_by_id, revoked_at,
                revocation_note, approvals_required, handling_code_at_open)
            SELECT gen_random_uuid(), c.id,
                CASE c.owner_country_id WHEN 'US' THEN 'MX' WHEN 'MX' THEN 'GT' ELSE 'US' END,
                'summary', 'bench', 'request', %(requester)s, c.created_at,
                c.created_at + interval '90 days', s.status,
                CASE WHEN s.status = 'pending' THEN NULL ELSE %(requester)s END,
                CASE WHEN s.status = 'pending' THEN NULL
                     ELSE c.created_at + make_interval(hours => 1 + c.number %% 200) END, '',
                CASE WHEN s.status = 'revoked' THEN %(requester)s END,
                CASE WHEN s.status = 'revoked' THEN c.created_at + interval '300 hours' END, '',
                1, c.handling_code
            FROM (SELECT *, row_number() OVER (ORDER BY id) AS k FROM cases_case) AS c,
                 LATERAL (SELECT (ARRAY['pending', 'approved', 'denied', 'revoked',
                                        'expired'])[1 + c.k::int %% 5] AS status) AS s
            WHERE c.k <= %(shares)s
            """, {"requester": people[("US", "investigator")].pk, "shares": sizes["shares"]})
    # lookups spread over the 24 months, recorded as if they had happened then
    from freezegun import freeze_time

    per_month = sizes["lookups"] // MONTHS
    with transaction.atomic():  # one commit, one drain afterwards
        for back in range(MONTHS):
            with freeze_time(dt.datetime.combine(_month(back), dt.time(8), dt.UTC)) as clock:
                for i in range(per_month):
                    clock.tick(dt.timedelta(minutes=97))
                    cc = ("US", "GT", "MX")[i % 3]
                    audit.record("lookup.search", people[(cc, "investigator")],
                                 identifier_type="passport",
                                 partner_countries=1 if i % 4 == 0 else 0)
    drain_outbox()
    revisions = {}
    for cc in ("US", "GT", "MX"):
        revisions[cc] = FlowRevision.objects.create(
            country_id=cc, uploaded_by=people[(cc, "statistics")], rows=0, sha256="0" * 64,
            first_month=_month(MONTHS - 1), last_month=_month(0), months=[]).pk
    per_country = sizes["flows"] // 3
    with connection.cursor() as cursor:
        for cc, revision in revisions.items():
            cursor.execute(
                """
                INSERT INTO dashboard_flowfigure (month, country_id, border_segment, location,
                    citizenship, demographic, event_type, count, revision_id)
                SELECT (%(first)s::date + make_interval(months => n %% %(months)s))::date, %(cc)s,
                    (ARRAY['US-MX', 'MX-GT', 'other'])[1 + (n / %(months)s) %% 3],
                    'Location ' || ((n / (%(months)s * 3)) %% 40),
                    (ARRAY['MX', 'GT', 'HN', 'SV', 'VE', 'CU', 'HT', 'NI', 'EC', 'CO', 'BR',
                           'PE', 'other'])[1 + (n / (%(months)s * 120)) %% 13],
                    (ARRAY['single_adult', 'family_unit', 'accompanied_minor',
                           'unaccompanied_minor', 'unknown'])[1 + (n / (%(months)s * 1560)) %% 5],
                    (ARRAY['encounter', 'apprehension', 'return',
                           'rescue'])[1 + (n / (%(months)s * 7800)) %% 4],
                    ((n::bigint * 7919) %% 500)::int, %(revision)s
                FROM generate_series(0, %(count)s - 1) AS n
                """, {"first": _month(MONTHS - 1), "months": MONTHS, "cc": cc,
                      "revision": revision, "count": per_country})
        cursor.execute("ANALYZE")
    return people


BARE = [
    # the four flow aggregates
    "SELECT month, country_id, SUM(count) FROM dashboard_flowfigure WHERE month >= %(lo)s "
    "AND month <= %(hi)s GROUP BY 1, 2",
    "SELECT border_segment, country_id, SUM(count) FROM dashboard_flowfigure WHERE month >= "
    "%(lo)s AND month <= %(hi)s GROUP BY 1, 2",
    "SELECT citizenship, SUM(count) FROM dashboard_flowfigure WHERE month >= %(lo)s AND "
    "month <= %(hi)s GROUP BY 1",
    "SELECT demographic, SUM(count) FROM dashboard_flowfigure WHERE month >= %(lo)s AND "
    "month <= %(hi)s GROUP BY 1",
    # the group's own figures
    "SELECT date_trunc('month', created_at AT TIME ZONE 'UTC'), owner_country_id, COUNT(*) "
    "FROM cases_case WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1, 2",
    "SELECT case_type, owner_country_id, COUNT(*) FROM cases_case WHERE created_at >= "
    "%(start)s AND created_at < %(end)s GROUP BY 1, 2",
    "SELECT owner_country_id, COUNT(*) FROM cases_case WHERE status = 'open' GROUP BY 1",
    "SELECT s.status, c.owner_country_id, COUNT(*) FROM sharing_sharerequest s JOIN cases_case "
    "c ON c.id = s.case_id WHERE s.created_at >= %(start)s AND s.created_at < %(end)s "
    "GROUP BY 1, 2",
    "SELECT c.owner_country_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY s.decided_at - "
    "s.created_at), COUNT(*) FROM sharing_sharerequest s JOIN cases_case c ON c.id = s.case_id "
    "WHERE s.decided_at >= %(start)s AND s.decided_at < %(end)s GROUP BY 1",
    "SELECT c.owner_country_id, s.recipient_country_id, COUNT(*) FROM sharing_sharerequest s "
    "JOIN cases_case c ON c.id = s.case_id WHERE s.decided_at >= %(start)s AND s.decided_at "
    "< %(end)s AND s.status IN ('approved', 'revoked', 'expired') GROUP BY 1, 2",
    "SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC'), actor_country, COUNT(*), "
    "COUNT(*) FILTER (WHERE (details -> 'partner_countries') > '0') FROM audit_auditentry "
    "WHERE action = 'lookup.search' AND occurred_at >= %(start)s AND occurred_at < %(end)s "
    "GROUP BY 1, 2",
]


def time_queries(people, repeats: int) -> tuple[float, float, int]:
    """Median seconds of the page's selectors and of the bare statements, alternating."""
    from django.db import connection

    from dashboard.selectors import dashboard_for, default_filter

    f = default_filter(TODAY)
    start, end = f.period()
    params = {"lo": f.month_from, "hi": f.month_to, "start": start, "end": end}
    viewer = people[("MX", "investigator")]
    page, bare = [], []
    figures = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        data = dashboard_for(viewer, f)
        page.append(time.perf_counter() - t0)
        figures = sum(len(t.cells) for t in data.tables)
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            for statement in BARE:
                cursor.execute(statement, params)
                cursor.fetchall()
        bare.append(time.perf_counter() - t0)
    return statistics.median(page), statistics.median(bare), figures


def import_file(rows: int, *, day: str = "", revision: int | None = None) -> bytes:
    """A `rows`-line CSV of MX's figures, every key distinct, months in the past (with
    day="-01" and a revision, the same rows as PostgreSQL's COPY reads them into the table)."""
    tail = f",{revision}" if revision is not None else ""
    from dashboard.codes import Demographic, EventType

    lines = ["month,reporting_country,border_segment,location,citizenship,demographic,"
             "event_type,count" + (",revision" if tail else "")]
    citizenships = ["GT", "HN", "SV", "VE", "CU", "HT", "NI", "EC", "CO", "other"]
    segments = ["MX-GT", "US-MX", "other"]
    n = 0
    while n < rows:
        for month_back in range(MONTHS):
            month = _month(month_back + 1).strftime("%Y-%m") + day
            for segment in segments:
                for citizenship in citizenships:
                    for demographic in Demographic.values:
                        for event in EventType.values:
                            if n == rows:
                                break
                            location = f"Estado {n // (MONTHS * 600)}"
                            lines.append(f"{month},MX,{segment},{location},{citizenship},"
                                         f"{demographic},{event},{(n * 31) % 997}{tail}")
                            n += 1
    return ("\n".join(lines) + "\n").encode()


def time_import(people, rows: int, repeats: int) -> tuple[float, float, float]:
    """Median seconds of flow_import (into months with no figures) and of a bare COPY."""
    from django.db import connection, transaction

    from dashboard.models import FlowFigure, FlowRevision
    from dashboard.services import flow_import

    member = people[("MX", "statistics")]
    # the bare COPY's rows name an existing revision of MX's (the column has no default)
    bare_revision = FlowRevision.objects.filter(country_id="MX").order_by("pk").first().pk
    data, copy_data = import_file(rows), import_file(rows, day="-01", revision=bare_revision)
    ours, bare, replace = [], [], []
    columns = ("month, country_id, border_segment, location, citizenship, demographic, "
               "event_type, count, revision_id")
    for _ in range(repeats):
        FlowFigure.objects.filter(country_id="MX").delete()
        t0 = time.perf_counter()
        flow_import(actor=member, data=data, filename="bench.csv", today=TODAY)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        flow_import(actor=member, data=data, filename="bench.csv", today=TODAY)
        replace.append(time.perf_counter() - t0)
        FlowFigure.objects.filter(country_id="MX").delete()
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(f"COPY dashboard_flowfigure ({columns}) FROM STDIN "
                             "WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(copy_data)
        bare.append(time.perf_counter() - t0)
    return statistics.median(ours), statistics.median(bare), statistics.median(replace)


def run(sizes: dict) -> dict:
    """Seed, measure, and return the numbers (bench and its smoke test share this)."""
    t0 = time.perf_counter()
    people = seed(sizes)
    seeded = time.perf_counter() - t0
    page, bare, figures = time_queries(people, sizes["repeats"])
    ours, copy, replace = time_import(people, sizes["import_rows"], sizes["repeats"])
    return {"seed_s": seeded, "page_s": page, "bare_s": bare, "query_ratio": page / bare,
            "figures": figures, "import_s": ours, "copy_s": copy, "replace_s": replace,
            "import_ratio": copy / ours}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args()
    from bench._setup import configure

    configure()
    sizes = SMOKE if args.smoke else FULL
    result = run(sizes)
    print(f"sizes: {sizes['cases']:,} cases, {sizes['shares']:,} share requests, "
          f"{sizes['lookups']:,} lookups, {sizes['flows']:,} flow rows "
          f"(seeded in {result['seed_s']:.1f} s)")
    print(f"queries: dashboard_for {result['page_s'] * 1000:.1f} ms ({result['figures']} "
          f"figures) vs bare SQL {result['bare_s'] * 1000:.1f} ms -> "
          f"{result['query_ratio']:.2f}x (goal <= 1.5x)")
    print(f"import: {sizes['import_rows']:,} rows flow_import {result['import_s']:.2f} s "
          f"(replacing the same months: {result['replace_s']:.2f} s) vs bare COPY "
          f"{result['copy_s']:.2f} s -> {result['import_ratio']:.2f}x the COPY's rows per "
          f"second (goal >= 0.5x)")


if __name__ == "__main__":
    main()
