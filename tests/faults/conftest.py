"""Fixtures of the fault drills: a migrated template cluster per session, and a `drill` with
its own PostgreSQL, Redis, web and worker processes, all stopped when the test ends."""

import pytest

from tests.conftest import REQUIRE_SERVICES, service_missing
from tests.faults import services


@pytest.fixture(scope="session")
def own_services():
    """Gate: these tests start their own servers, so they run where services are required
    (.ci/run) and are skipped, saying so, elsewhere (`make test` stays quick)."""
    if not REQUIRE_SERVICES:
        pytest.skip("starts its own PostgreSQL, Redis, gunicorn and Celery: runs under "
                    "REQUIRE_SERVICES=1 (.ci/run)")
    if missing := services.missing_binaries():
        service_missing(f"needs {', '.join(missing)} on PATH")


@pytest.fixture(scope="session")
def pg_template(own_services, tmp_path_factory):
    """The data folder of a stopped cluster holding the migrated schema."""
    cluster = services.Postgres().init().start()
    try:
        env = services.production_env(tmp_path_factory.mktemp("pg-template"),
                                      database_url=cluster.url,
                                      broker_url="redis://127.0.0.1:1/0")
        services.manage(env, "migrate", "--noinput", "-v0")
    finally:
        cluster.stop("fast")
    yield cluster.data
    cluster.remove()


class Drill:
    """One drill's own services; `close()` stops every one of them."""

    def __init__(self, root, template):
        self.root = root
        self.processes = []
        self.pg = services.Postgres().copy_from(template).start()
        self.redis = services.Redis(root / "redis").start()
        self.env = services.production_env(root / "app", database_url=self.pg.url,
                                           broker_url=self.redis.url)

    def web(self, **env) -> int:
        proc, port = services.web({**self.env, **env}, self.root)
        self.processes.append(proc)
        return port

    def worker(self, **kwargs) -> services.Process:
        proc = services.worker(self.env, self.root, **kwargs)
        self.processes.append(proc)
        return proc

    def seed(self) -> dict:
        return services.seed(self.env)

    def close(self):
        for proc in reversed(self.processes):
            proc.stop()
        self.redis.kill()
        self.pg.remove()


@pytest.fixture
def drill(pg_template, tmp_path):
    made = Drill(tmp_path, pg_template)
    try:
        yield made
    finally:
        made.close()
