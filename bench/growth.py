"""How cost grows with data: the same requests timed over databases of growing size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wgx_bench_growth \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/growth.py --cases 10000,100000,1000000 \\
            --audit 1000000,10000000 --identifiers 1000000,10000000 [--plans]

Each size gets its own database, named after DATABASE_URL's with the data and the size
appended (`wgx_bench_growth_cases_100000`; the name must contain "bench"); a database that
already holds the size is reused, so a second run measures without filling again. Fills are
the existing benches' bulk SQL: bench/case_list.py's seed (cases over US, GT and MX, the
owner's grants, half as many shared grants, 1% of titles naming the search term),
bench/audit_verify.py's generator (a chained log, one COPY, indexes rebuilt after) and
bench/lookup.py's set-based identifiers (run as it is, per size).

Measured in process through Django's test client (the whole request: token, middleware,
selectors, serializers, the audit record; no network), as one member, each request
`--requests` times in turn with the others, medians printed:

- cases, US investigator: the list's page 1, a deep page (the middle of what they see), the
  `q` search, one case's page; `--plans` prints EXPLAIN ANALYZE of the case queries of the
  deep page and the search.
- audit, US country auditor: the entry list's first page, a filtered page (`?case=`), the
  first page of the export's time window (`since`/`until`, in the middle of the log), the
  export of a window of 200,000 entries (entries per second, streamed), and the chain's
  verification (entries per second, `verify_chain`, one process per core).
- identifiers: bench/lookup.py's miss and hit p50 and its one-statement audited floor.

Every size prints the load average: the machine may be shared; compare sizes of one run.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]
SEARCH_TERM = "tapachula"
EXPORT_WINDOW = 200_000  # entries of the log (the auditor sees about 5/9 of them)


def sizes(text):
    return [int(float(x)) for x in text.split(",") if x.strip()] if text else []


def database_url(kind: str, size: int) -> str:
    parts = urllib.parse.urlparse(os.environ["DATABASE_URL"])
    return parts._replace(path=f"{parts.path}_{kind}_{size}").geturl()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def timed_requests(client, paths: dict[str, str], rounds: int) -> dict[str, float]:
    """Median milliseconds of each path, requested in turn; any answer but 200 stops."""
    times = {name: [] for name in paths}
    for path in paths.values():  # warm
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    for _ in range(rounds):
        for name, path in paths.items():
            started = time.perf_counter()
            response = client.get(path)
            if response.streaming:
                b"".join(response.streaming_content)
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def explain(client, path: str, must_contain: str) -> None:
    """EXPLAIN ANALYZE of the request's queries that read `must_contain`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    print(f"\n### {path}: {len(captured)} queries")
    for query in captured.captured_queries:
        sql = query["sql"]
        if must_contain not in sql or not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
            print("\n".join(row[0] for row in cursor.fetchall()) + "\n")


def configure(url: str) -> None:
    """Production-like settings (DEBUG off, no HTTPS redirect in process) and one keyring
    kept beside the bench's output, so a database filled by an earlier run (its checkpoints
    signed) still verifies."""
    from core import keyring

    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="workinggroup.settings", DEBUG="False",
        SECRET_KEY=os.urandom(32).hex(), ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="False", LOG_LEVEL="ERROR")
    out = BENCH / "out" / "growth"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "keyring.json"
    if not path.exists():
        keyring.write(path, keyring.generate())
    os.environ["WG_KEYRING"] = str(path)
    os.environ.setdefault("WG_VAR_DIR", str(out / "var"))


# --- cases ----------------------------------------------------------------------------------


def run_cases(size: int, rounds: int, plans: bool) -> None:
    import case_list

    third = size // 3
    case_list.PER_COUNTRY.update(US=size - 2 * third, GT=third, MX=third)
    case_list.SHARED_GRANTS = size // 2
    url = database_url("cases", size)
    workdir = Path(tempfile.mkdtemp(prefix="wgx-growth-"))
    case_list.configure(url, workdir)
    case_list.ensure_database(url, reseed=False)
    import django

    django.setup()
    from django.test import Client

    from cases.models import Case
    from cases.selectors import visible_case_count
    from workinggroup.models import User

    started = time.perf_counter()
    state = case_list.seed()
    filled = time.perf_counter() - started
    us = User.objects.get(username="bench.us")
    visible = visible_case_count(us)
    pages = -(-visible // 50)
    deep = max(1, pages // 2)
    case_id = (Case.objects.filter(owner_country_id="US").order_by("id")
               .values_list("id", flat=True)[visible // 2])
    client = Client(HTTP_AUTHORIZATION=f"Token {state['tokens']['US']}")
    paths = {
        "case list, page 1": "/api/v1/cases/",
        f"case list, page {deep}": f"/api/v1/cases/?page={deep}",
        f"case list, q={SEARCH_TERM}": f"/api/v1/cases/?q={SEARCH_TERM}",
        "case page": f"/api/v1/cases/{case_id}/",
    }
    medians = timed_requests(client, paths, rounds)
    print(f"cases {size:,} (US investigator sees {visible:,}: {pages:,} pages; "
          f"ready in {filled:.0f} s; {load()})")
    for name, ms in medians.items():
        print(f"  {name:<28} p50 {ms:8.1f} ms")
    if plans:
        explain(client, paths[f"case list, page {deep}"], "cases_case")
        explain(client, paths[f"case list, q={SEARCH_TERM}"], "cases_case")


# --- audit ----------------------------------------------------------------------------------


def run_audit(size: int, rounds: int, plans: bool) -> None:
    import psycopg

    url = database_url("audit", size)
    configure(url)
    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')
    import django

    django.setup()
    import audit_verify
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from audit import verification
    from audit.models import AuditEntry
    from workinggroup import members

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    head = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    if head != size:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry, audit_auditcheckpoint, "
                           "audit_outboxevent CASCADE")
        audit_verify.generate(size)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) audit_auditentry")
    filled = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_outboxevent")  # each run starts with an empty outbox
    auditor = members.member_create(username=f"bench.auditor.{os.getpid()}",
                                    password="bench-Password-2026x", roles=["auditor"],
                                    country_code="US")
    _, token = members.token_issue(user=auditor, actor=None, hours=2, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    case = str(AuditEntry.objects.filter(seq=size // 2).values_list("case_id", flat=True)
               .get())
    start = AuditEntry.objects.get(seq=size // 2).occurred_at
    end = AuditEntry.objects.get(seq=min(size, size // 2 + EXPORT_WINDOW)).occurred_at
    window = (f"since={start.isoformat().replace('+00:00', 'Z')}"
              f"&until={end.isoformat().replace('+00:00', 'Z')}")
    paths = {
        "audit list, page 1": "/api/v1/audit/entries/",
        "audit list, ?case= page 1": f"/api/v1/audit/entries/?case={case}",
        "audit list, window page 1": f"/api/v1/audit/entries/?{window}",
    }
    medians = timed_requests(client, paths, rounds)
    # The export of the window: the whole stream read, timed end to end, twice.
    rates, lines = [], 0
    for _ in range(2):
        began = time.perf_counter()
        response = client.get(f"/api/v1/audit/export/?{window}")
        assert response.status_code == 200
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        rates.append(lines / (time.perf_counter() - began))
    began = time.perf_counter()
    jobs = os.cpu_count() or 1
    result = verification.verify_chain(jobs=jobs)
    verify_seconds = time.perf_counter() - began
    assert result.ok and result.entries_checked == size, result
    print(f"audit {size:,} entries (ready in {filled:.0f} s; {load()})")
    for name, ms in medians.items():
        print(f"  {name:<28} p50 {ms:8.1f} ms")
    print(f"  {'export, 200k-entry window':<28} {max(rates):9,.0f} entries/s ({lines:,} lines)")
    print(f"  {f'verify_chain, {jobs} processes':<28} {size / verify_seconds:9,.0f} entries/s "
          f"({verify_seconds:.1f} s)")
    if plans:
        explain(client, paths["audit list, page 1"], "audit_auditentry")
        explain(client, paths["audit list, ?case= page 1"], "audit_auditentry")
        explain(client, paths["audit list, window page 1"], "audit_auditentry")


# --- identifiers ----------------------------------------------------------------------------


def run_identifiers(size: int, lookups: int) -> None:
    env = {**os.environ, "DATABASE_URL": database_url("identifiers", size)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(BENCH / "lookup.py"), "--identifiers", str(size),
         "--lookups", str(lookups)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"bench/lookup.py failed:\n{result.stderr[-3000:]}")
    rows = {line.split()[0]: line for line in result.stdout.splitlines()
            if line.startswith(("hits", "misses", "floor, one"))}
    print(f"identifiers {size:,} (lookup.py, {lookups:,} lookups, "
          f"{time.perf_counter() - started:.0f} s with any fill; {load()})")
    for label in ("hits", "misses", "floor,"):
        cells = rows[label].split()
        print(f"  {label.rstrip(','):<28} p50 {float(cells[-6]):8.3f} ms"
              f"   (bare SELECT p50 {float(cells[-10]):.3f} ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=sizes, default=[])
    parser.add_argument("--audit", type=sizes, default=[])
    parser.add_argument("--identifiers", type=sizes, default=[])
    parser.add_argument("--requests", type=int, default=15, help="timed requests per path")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # a child: kind size
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) or "bench" not in url.rsplit("/")[-1]:
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' "
                 "(one database per size is made from it)")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        sys.exit("CELERY_BROKER_URL must be a Redis URL, e.g. redis://127.0.0.1:6379/7")
    if args.one:
        kind, size = args.one[0], int(args.one[1])
        if kind == "cases":
            run_cases(size, args.requests, args.plans)
        else:
            run_audit(size, args.requests, args.plans)
        return
    if not (args.cases or args.audit or args.identifiers):
        parser.error("name at least one of --cases, --audit, --identifiers")
    print(f"growth run, {load()}", flush=True)
    for kind, wanted in (("cases", args.cases), ("audit", args.audit)):
        for size in wanted:  # each size in a process of its own (one database per Django)
            command = [sys.executable, __file__, "--one", kind, str(size),
                       "--requests", str(args.requests)] + (["--plans"] if args.plans else [])
            sys.stdout.flush()
            if subprocess.run(command).returncode != 0:
                sys.exit(f"the {kind} run at {size:,} failed")
    for size in args.identifiers:
        run_identifiers(size, args.lookups)
        sys.stdout.flush()
    print(f"growth run done, {load()}")


if __name__ == "__main__":
    main()
