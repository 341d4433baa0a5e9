"""Every benchmark runs: each bench/*.py once with tiny sizes against a PostgreSQL cluster
and Redis of its own, so none silently rots (bench/case_list.py once did). Only that it runs
to the end is checked here; its figures are for docs/PERFORMANCE.md, never a test's."""

import os
import shutil
import subprocess

import pytest

from tests.conftest import service_missing
from tests.faults import services

# Tiny sizes, and a line each bench prints only once it measured everything.
SMOKE = {
    "audit_verify": (["--entries", "2000"], "verify_audit, 2 processes:"),
    "audit_pipeline": (["--producers", "2", "--events", "50", "--rounds", "1",
                        "--drain-events", "500"], "ratio drain / executemany:"),
    "attachments": (["--size-mib", "4", "--repeat", "1"], "tampered object: HTTP 200"),
    "lookup": (["--lookups", "200", "--identifiers", "5000"], "goal: miss p50 at most 1.5x"),
    "case_list": (["--cases", "3000", "--duration", "1", "--slices", "1",
                   "--connections", "2"], "connections, 1 s per variant"),
    "load": (["--smoke"], "load average at the end"),
    "dashboard": (["--smoke"], "import: "),
    "growth": (["--cases", "3000", "--audit", "5000", "--identifiers", "5000", "--requests", "2",
                "--lookups", "200"], "growth run done"),
}


@pytest.fixture(scope="module")
def bench_services(own_services):
    cluster = services.Postgres().init().start()
    redis = services.Redis(cluster.root / "redis").start()
    yield cluster, redis
    redis.kill()
    cluster.remove()


def test_every_bench_has_a_smoke_run():
    benches = {p.stem for p in (services.ROOT / "bench").glob("*.py")
               if not p.stem.startswith("_") and p.stem not in {"settings", "urls", "views"}}
    assert benches == set(SMOKE)


@pytest.mark.parametrize("bench", sorted(SMOKE))
def test_the_bench_runs_with_tiny_sizes(bench, bench_services, tmp_path):
    if bench == "case_list" and shutil.which("wrk") is None:
        service_missing("bench/case_list.py drives gunicorn with wrk (apt-get install wrk)")
    cluster, redis = bench_services
    args, finished = list(SMOKE[bench][0]), SMOKE[bench][1]
    if bench == "attachments":
        args += ["--dir", str(tmp_path / "attachments")]
    if bench == "case_list":
        args += ["--port", str(services.free_port())]
    env = {k: v for k, v in os.environ.items() if k not in {"REQUIRE_SERVICES", "DEBUG"}}
    env.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:{cluster.port}/wgx_{bench}_bench",
               CELERY_BROKER_URL=redis.url, WG_VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run([services.PY, f"bench/{bench}.py", *args], cwd=services.ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    print(f"\nbench/{bench}.py {' '.join(args)}:\n{result.stdout[-1500:]}")
    # A bench exits 1 when it misses a goal, which tiny sizes on a shared box may well do:
    # that is its report, not a failure to run. A crash is.
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, \
        result.stderr[-3000:]
    assert finished in result.stdout
