"""Shared set-up of the benchmarks: Django configured from the environment on a throwaway
PostgreSQL database that is dropped and re-created (its name must contain "bench")."""

import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def configure(*, need_broker: bool = False):
    """Check the environment, re-create the bench database, migrate; returns the db name."""
    url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")) or "bench" not in name:
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' "
                 "(it is dropped and re-created), e.g. postgres://postgres@127.0.0.1:5432/wt_audit_bench")
    if need_broker and not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        sys.exit("CELERY_BROKER_URL must be a Redis URL, e.g. redis://127.0.0.1:6379/4")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workinggroup.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _recreate(parsed, name)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if need_broker:
        _forget_cache()
    return name


def _forget_cache():
    """Drop what the service keeps in Redis for the database just dropped (rate limits, the
    drain's marks): the new database's members reuse the old ones' ids, so a rerun within
    the hour would inherit their lookup counts. Only this service's keys (its cache prefix)."""
    from django.conf import settings

    from core.redis import kept_client

    prefix, client = settings.CACHES["default"].get("KEY_PREFIX"), kept_client()
    if not prefix or client is None:
        return
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def _recreate(parsed, name):
    import psycopg

    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def rss_mib(pid="self") -> float:
    """Resident set size of a process (this one by default) now, in MiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            pages = int(fh.read().split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def children_rss_mib() -> float:
    """RSS of this process's child processes, summed (pages shared by a fork count in each)."""
    total = 0.0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as fh:
                total += sum(rss_mib(pid) for pid in fh.read().split())
        except FileNotFoundError:
            continue
    return total


class PeakRss:
    """Samples RSS every 10 ms while in the block; .start and .peak in MiB (.peak_children:
    the most the child processes held at once, for work shared with forked processes)."""

    def __enter__(self):
        self.start = self.peak = rss_mib()
        self.peak_children = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mib())
            self.peak_children = max(self.peak_children, children_rss_mib())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
