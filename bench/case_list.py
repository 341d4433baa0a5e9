"""Benchmark: the permission-gated case list against the same list without the gate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_cases_bench \\
        .venv/bin/python bench/case_list.py [--duration 20] [--connections 16] [--reseed]

Seeds (once; --reseed to redo) 100,000 cases over US, GT and MX with the owner country's
grants plus 50,000 shared grants (a partner country and a scope each), bulk-inserted in SQL.
Then it serves the production WSGI app through gunicorn (2 workers, DEBUG=False) on
127.0.0.1 and drives it with wrk (16 connections), as the US investigator with an API token:

  page 1     GET /api/v1/cases/
  random     GET /api/v1/cases/?page=N, N uniform over the pages the gated list has
  q          GET /api/v1/cases/?q=tapachula (about 1% of cases match)

each against /api/v1/cases/ (gated) and /bench/unfiltered/cases/ (bench/urls.py: the same view
over Case.objects.all()). The two variants alternate in slices so that drift on a shared
machine hits both alike. Both write their case.search audit record. It prints requests per
second, the ratio gated/unfiltered, queries per request, and EXPLAIN ANALYZE of each query.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/wt_cases_bench"
PER_COUNTRY = {"US": 33_334, "GT": 33_333, "MX": 33_333}
SHARED_GRANTS = 50_000
SEARCH_TERM = "tapachula"
SCOPES = {
    "summary": ("view_case_summary",),
    "full": ("view_case_summary", "view_case_full"),
    "full_with_files": ("view_case_summary", "view_case_full", "view_case_files"),
}
OWNER_PERMS = (*SCOPES["full_with_files"], "change_case", "share_case")


def configure(database_url: str, workdir: Path) -> None:
    """Production-like settings: DEBUG off, real secrets (throwaway), Redis as broker."""
    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DEBUG"] = "False"
    os.environ["SECRET_KEY"] = os.urandom(32).hex()
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    # Plain HTTP on loopback (gunicorn and the in-process client): no redirect to https.
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["WG_VAR_DIR"] = str(workdir / "var")
    from core import keyring

    path = workdir / "keyring.json"
    keyring.write(path, keyring.generate())
    os.environ["WG_KEYRING"] = str(path)


def ensure_database(database_url: str, reseed: bool) -> None:
    import psycopg

    parts = urllib.parse.urlparse(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
        # What docs/PERFORMANCE.md asks of production: the working set is in memory or on
        # SSD, so an index probe is not four times a sequential read (PostgreSQL's default).
        conn.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')


def seed() -> dict:
    """Members, tokens, 100,000 cases and their grants; idempotent (skips when present)."""
    from django.core.management import call_command
    from django.db import connection

    from cases.models import Case
    from workinggroup import members
    from workinggroup.models import User

    call_command("migrate", verbosity=0)
    for cc in PER_COUNTRY:
        username = f"bench.{cc.lower()}"
        if not User.objects.filter(username=username).exists():
            members.member_create(username=username, password="bench-Password-2026",
                                  roles=["investigator"], country_code=cc)
    if Case.objects.count() != sum(PER_COUNTRY.values()):
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE cases_case, cases_casecounter CASCADE")
            # The version 7 UUID of a moment, as cases.models.uuid7 makes them (bench only).
            cursor.execute(
                """
                CREATE OR REPLACE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid AS $$
                  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint)
                    FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
                $$ LANGUAGE sql VOLATILE
                """
            )
            for idx, (cc, count) in enumerate(PER_COUNTRY.items()):
                # Newest first interleaves countries; ~1% mention the search term.
                cursor.execute(
                    """
                    INSERT INTO cases_case (id, reference, owner_country_id, year, number,
                        title, summary, case_type, status, handling_code, handling_note,
                        source_reliability, information_assessment, created_by_id,
                        created_at, updated_at)
                    SELECT pg_temp.uuid7(now() - make_interval(mins => n * 3 + %(idx)s)),
                        %(cc)s || '-2025-' || lpad(n::text, 6, '0'), %(cc)s, 2025, n,
                        'Network ' || n || CASE WHEN n %% 97 = 0 THEN ' near ' || %(term)s
                                               ELSE ' on the northern route' END,
                        'Recruitment through fake job offers, debt bondage and document '
                        || 'retention; transport by bus through Chiapas and Tabasco. Case '
                        || n || '.',
                        CASE WHEN n %% 3 = 0 THEN 'smuggling' ELSE 'trafficking' END,
                        CASE WHEN n %% 5 = 0 THEN 'closed' ELSE 'open' END,
                        'H' || (n %% 3), '', 'B', '2', NULL,
                        now() - make_interval(mins => n * 3 + %(idx)s), now()
                    FROM generate_series(1, %(count)s) AS n
                    """,
                    {"cc": cc, "idx": idx, "count": count, "term": SEARCH_TERM},
                )
                cursor.execute(
                    "INSERT INTO cases_casecounter (country_id, year, last_number) "
                    "VALUES (%s, 2025, %s)", [cc, count],
                )
            cursor.execute(
                """
                INSERT INTO cases_casegroupobjectpermission (group_id, permission_id,
                    content_object_id)
                SELECT co.group_id, p.id, ca.id
                FROM cases_case ca
                JOIN workinggroup_country co ON co.code = ca.owner_country_id
                CROSS JOIN auth_permission p
                JOIN django_content_type ct ON ct.id = p.content_type_id
                WHERE ct.app_label = 'cases' AND ct.model = 'case' AND p.codename = ANY(%s)
                """,
                [list(OWNER_PERMS)],
            )
            cursor.execute("SELECT id, owner_country_id FROM cases_case")
            cases = cursor.fetchall()
            cursor.execute("SELECT code, group_id FROM workinggroup_country")
            groups = dict(cursor.fetchall())
            cursor.execute(
                "SELECT p.codename, p.id FROM auth_permission p JOIN django_content_type ct "
                "ON ct.id = p.content_type_id WHERE ct.app_label = 'cases' AND ct.model = 'case'"
            )
            perm_ids = dict(cursor.fetchall())
            rng = random.Random(2026)
            rows = []
            for case_id, owner in rng.sample(cases, SHARED_GRANTS):
                partner = rng.choice([cc for cc in PER_COUNTRY if cc != owner])
                for codename in SCOPES[rng.choice(list(SCOPES))]:
                    rows.append((groups[partner], perm_ids[codename], case_id))
            with cursor.cursor.copy(
                "COPY cases_casegroupobjectpermission (group_id, permission_id, "
                "content_object_id) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        print(f"seeded in {time.monotonic() - started:.1f}s")
    with connection.cursor() as cursor:
        # Bench database only: start each run with an empty outbox so runs compare.
        cursor.execute("DELETE FROM audit_outboxevent")
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT count(*) FROM cases_casegroupobjectpermission")
        grant_rows = cursor.fetchone()[0]
    tokens = {}
    for cc in PER_COUNTRY:
        user = User.objects.get(username=f"bench.{cc.lower()}")
        _, tokens[cc] = members.token_issue(user=user, actor=None, hours=2, name="bench")
    return {"tokens": tokens, "grant_rows": grant_rows}


def in_process_report(token: str, paths: dict[str, str]) -> dict[str, int]:
    """Queries per request, and EXPLAIN ANALYZE of each, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    counts = {}
    for name, path in paths.items():
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:200])
        counts[name] = len(captured)
        print(f"\n### {name}: {path} -> {len(captured)} queries")
        for query in captured.captured_queries:
            sql = query["sql"]
            if "cases_case" not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n{sql}\n{plan}")
    return counts


def guardian_orientation(username: str, page: int) -> float:
    """Milliseconds for count + one page via guardian's get_objects_for_user (in process)."""
    from django.core.paginator import Paginator
    from guardian.shortcuts import get_objects_for_user

    from workinggroup.models import User

    user = User.objects.get(username=username)
    started = time.monotonic()
    for _ in range(3):
        qs = get_objects_for_user(
            user, "cases.view_case_summary", accept_global_perms=False, with_superuser=False
        ).order_by("-created_at", "-id")
        list(Paginator(qs, 50).page(page))
    return (time.monotonic() - started) / 3 * 1000


def wait_until_up(port: int, token: str) -> None:
    import http.client

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/me/", headers={"Authorization": f"Token {token}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not come up")


def settle(port: int, token: str) -> None:
    """Wait until requests abandoned by the last wrk run are served, so no slice inherits a
    backlog (gunicorn's sync workers finish every request a client gave up on)."""
    import http.client

    quick = 0
    while quick < 2:
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", "/api/v1/me/", headers={"Authorization": f"Token {token}"})
        conn.getresponse().read()
        quick = quick + 1 if time.monotonic() - started < 0.2 else 0


def wrk(port: int, token: str, path: str, pages: int | None, seconds: float,
        connections: int, workdir: Path) -> tuple[int, float]:
    """Run wrk; returns (completed requests, seconds). Any non-2xx answer aborts the bench."""
    script = workdir / "script.lua"
    request = (
        f'return wrk.format("GET", "{path}?page=" .. math.random(1, {pages}))'
        if pages else f'return wrk.format("GET", "{path}")'
    )
    script.write_text(
        f'wrk.headers["Authorization"] = "Token {token}"\n'
        f"function init(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end\n"
        f"request = function() {request} end\n"
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
         "-s", str(script), f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out or "requests in" not in out:
        raise SystemExit(f"wrk saw errors on {path}:\n{out}")
    completed = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).group(1))
    duration = re.search(r"requests in ([\d.]+)(m?s)", out)
    secs = float(duration.group(1)) / (1000 if duration.group(2) == "ms" else 1)
    return completed, secs


def main() -> None:
    global SHARED_GRANTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds per variant")
    parser.add_argument("--slices", type=int, default=10, help="alternations per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=18431)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--skip-load", action="store_true", help="plans and query counts only")
    parser.add_argument("--cases", type=int, default=100_000,
                        help="cases seeded over US, GT, MX (half as many shared grants)")
    args = parser.parse_args()
    third = args.cases // 3
    PER_COUNTRY.update(US=args.cases - 2 * third, GT=third, MX=third)
    SHARED_GRANTS = args.cases // 2
    if not shutil.which("wrk") and not args.skip_load:
        raise SystemExit("wrk is needed (apt-get install -y wrk)")

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    workdir = Path(tempfile.mkdtemp(prefix="wgx-bench-"))
    try:
        configure(database_url, workdir)
        ensure_database(database_url, args.reseed)
        import django

        django.setup()
        from cases.models import Case

        state = seed()
        token = state["tokens"]["US"]
        from cases.selectors import visible_case_count
        from workinggroup.models import User

        us = User.objects.get(username="bench.us")
        visible = visible_case_count(us)
        pages = -(-visible // 50)
        print(f"cases: {Case.objects.count()}, grant rows: {state['grant_rows']}, "
              f"US investigator sees {visible} ({pages} pages of 50)")
        gated, unfiltered = "/api/v1/cases/", "/bench/unfiltered/cases/"
        mid = pages // 2
        counts = in_process_report(token, {
            "gated page 1": gated,
            f"gated page {mid}": f"{gated}?page={mid}",
            "gated q": f"{gated}?q={SEARCH_TERM}",
            "unfiltered page 1": unfiltered,
            f"unfiltered page {mid}": f"{unfiltered}?page={mid}",
            "unfiltered q": f"{unfiltered}?q={SEARCH_TERM}",
        })
        print(f"\nguardian get_objects_for_user, count + page 1: "
              f"{guardian_orientation('bench.us', 1):.0f} ms per request (in process)")
        if args.skip_load:
            return

        from django.db import connections

        connections.close_all()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "workinggroup.wsgi", "-w", "2",
             "-b", f"127.0.0.1:{args.port}", "--log-level", "warning"],
            cwd=REPO, env=os.environ.copy(),
        )
        try:
            wait_until_up(args.port, token)
            scenarios = [("page 1", None, ""), ("random page", pages, ""),
                         ("q", None, f"?q={SEARCH_TERM}")]
            results = {}
            for name, npages, query in scenarios:
                for path in (gated, unfiltered):  # warm both
                    wrk(args.port, token, path + query, npages, 2, args.connections, workdir)
                totals = {gated: [0, 0.0], unfiltered: [0, 0.0]}
                for n in range(args.slices):
                    order = (gated, unfiltered) if n % 2 == 0 else (unfiltered, gated)
                    for path in order:
                        settle(args.port, token)
                        done, secs = wrk(args.port, token, path + query, npages,
                                         args.duration / args.slices, args.connections,
                                         workdir)
                        totals[path][0] += done
                        totals[path][1] += secs
                results[name] = {p: done / secs for p, (done, secs) in totals.items()}
        finally:
            server.terminate()
            server.wait(timeout=30)

        print(f"\n{'scenario':<14}{'gated req/s':>13}{'unfiltered req/s':>18}{'ratio':>8}"
              f"{'queries':>9}")
        for name, rates in results.items():
            key = {"page 1": "page 1", "random page": f"page {mid}", "q": "q"}[name]
            print(f"{name:<14}{rates[gated]:>13.1f}{rates[unfiltered]:>18.1f}"
                  f"{rates[gated] / rates[unfiltered]:>8.2f}"
                  f"{counts['gated ' + key]:>5}/{counts['unfiltered ' + key]}")
        print(f"\n{args.connections} connections, {args.duration:g} s per variant in "
              f"{args.slices} alternating slices, gunicorn 2 sync workers, "
              f"{os.cpu_count()} CPUs shared with PostgreSQL and wrk")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
