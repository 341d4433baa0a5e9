"""Benchmark: the audit pipeline end to end (PostgreSQL + Redis + 2 real Celery workers).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_audit_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \\
        /work/main/.venv/bin/python bench/audit_pipeline.py [--producers 4] [--events 5000]

1. plain:  the producers INSERT rows of an audit entry's shape, one autocommit statement each,
           into a copy of the entry table (same columns, indexes and constraints).
2. e2e:    the same producers call audit.record() in one transaction per event, as requests
           do; two `celery worker` processes drain; timed until the chain has caught up.
3. drain:  with the workers stopped, an outbox of --drain-events is drained in-process,
           against one executemany INSERT of the same entry rows into a copy of the table.

Goals: e2e >= 0.5 of plain; drain >= 0.3 of executemany. The database is dropped and
re-created; in Redis only the Celery queue and the drain flag are touched.
"""

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import uuid

import _setup

COUNTRIES = ("US", "GT", "MX")


def entry_values(producer: int, i: int) -> dict:
    """What one event carries, the same for the plain INSERT and for record()."""
    case = str(uuid.UUID(int=producer * 1_000_003 + i))
    return {
        "actor": f"{COUNTRIES[producer % 3].lower()}.investigator{producer}",
        "case": case,
        "details": {"path": f"/api/v1/cases/{case}/", "scope": "full", "n": i},
    }


# --- producers (child processes) -----------------------------------------------------------


def _plain_producer(producer, events, start_at, database_url):
    import datetime as dt

    import orjson
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.cursor()
        _wait_until(start_at)
        for i in range(events):
            v = entry_values(producer, i)
            now = dt.datetime.now(dt.UTC)
            cursor.execute(
                "INSERT INTO bench_plain (seq, occurred_at, recorded_at, actor, actor_country, "
                "action, target_type, target_id, case_id, case_country, outcome, ip, "
                "request_id, details, prev_hash, hash) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    producer * events + i + 1, now, now, v["actor"], COUNTRIES[producer % 3],
                    "case.view", "cases.case", v["case"], v["case"], "MX", "success",
                    "10.0.0.1", uuid.uuid4().hex, orjson.dumps(v["details"]).decode(),
                    "0" * 64, uuid.uuid4().hex * 2,
                ),
            )


def _record_producer(producer, events, start_at):
    import django

    django.setup()
    from types import SimpleNamespace

    from django.db import connection, transaction

    import audit

    connection.ensure_connection()
    _wait_until(start_at)
    for i in range(events):
        v = entry_values(producer, i)
        case = SimpleNamespace(pk=v["case"], owner_country_id="MX")
        with transaction.atomic():
            audit.record(
                "case.view", v["actor"], target=("cases.case", v["case"]), case=case,
                **v["details"],
            )
    connection.close()


def _wait_until(moment):
    while time.time() < moment:
        time.sleep(0.001)


def run_producers(target, producers, events, *extra):
    """Start the producers, release them together; returns seconds until all finished."""
    ctx = mp.get_context("spawn")  # a fresh interpreter each: no inherited connections
    start_at = time.time() + 3.0
    procs = [
        ctx.Process(target=target, args=(p, events, start_at, *extra)) for p in range(producers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0, f"producer failed ({proc.exitcode})"
    return start_at


# --- workers -------------------------------------------------------------------------------


def start_workers(count):
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workinggroup", "worker", "-P", "solo",
             "-n", f"bench{n}@%h", "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=_setup.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for n in range(count)
    ]
    from workinggroup.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5)
        if len(replies) >= count:
            return workers
    stop_workers(workers)
    sys.exit("the Celery workers did not answer within 60 s")


def stop_workers(workers):
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def reset_redis():
    """Empty the Celery queue and the drain flag (nothing else in Redis is touched)."""
    from django.core.cache import cache

    from audit import services
    from workinggroup.celery import app

    cache.delete(services.DRAIN_PENDING_KEY)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


# --- phases --------------------------------------------------------------------------------


def plain_inserts(producers, events):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plain (LIKE audit_auditentry INCLUDING ALL)")
    start_at = run_producers(_plain_producer, producers, events, os.environ["DATABASE_URL"])
    seconds = time.time() - start_at
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_plain")
        assert cursor.fetchone()[0] == producers * events
    return producers * events / seconds


def end_to_end(producers, events):
    from audit import selectors
    from audit.models import AuditEntry, OutboxEvent

    workers = start_workers(2)
    try:
        total = producers * events
        start_at = run_producers(_record_producer, producers, events)
        recorded = time.time() - start_at
        deadline = time.monotonic() + 120
        while AuditEntry.objects.count() < total and time.monotonic() < deadline:
            time.sleep(0.01)
        seconds = time.time() - start_at
    finally:
        stop_workers(workers)
    assert AuditEntry.objects.count() == total and not OutboxEvent.objects.exists()
    assert selectors.verify_chain().ok
    return total / seconds, total / recorded


def drain_alone(count):
    from django.db import connection, transaction

    from audit import chain, services
    from audit.models import AuditEntry, OutboxEvent

    first = AuditEntry.objects.count() + 1
    events = []
    for i in range(count):  # the outbox as record() fills it (the workers are stopped)
        v = entry_values(7, i)
        events.append(OutboxEvent(event={
            "actor": v["actor"], "actor_country": "MX", "action": "case.view",
            "target_type": "cases.case", "target_id": v["case"], "case_id": v["case"],
            "case_country": "MX", "outcome": "success", "ip": "10.0.0.1",
            "request_id": uuid.uuid4().hex, "details": v["details"],
        }))
    OutboxEvent.objects.bulk_create(events, batch_size=5000)
    reset_redis()
    with _setup.Timer() as drain:
        assert services.drain_outbox() == count
    drain_rate = count / drain.seconds

    columns = ", ".join((*chain.FIELDS, "hash"))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_bulk (LIKE audit_auditentry INCLUDING ALL)")
        cursor.execute(
            f"SELECT {columns} FROM audit_auditentry WHERE seq >= %s ORDER BY seq", [first]
        )
        rows = cursor.fetchall()
    assert len(rows) == count
    with _setup.Timer() as bulk, transaction.atomic(), connection.cursor() as cursor:
        cursor.cursor.executemany(
            f"INSERT INTO bench_bulk ({columns}) VALUES ({', '.join(['%s'] * 16)})",
            [(*row[:13], orjson_text(row[13]), *row[14:]) for row in rows],
        )
    return drain_rate, count / bulk.seconds


def orjson_text(value):
    import orjson

    return value if isinstance(value, str) else orjson.dumps(value).decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--events", type=int, default=5000, help="per producer")
    parser.add_argument("--drain-events", type=int, default=50_000)
    args = parser.parse_args()
    name = _setup.configure(need_broker=True)
    reset_redis()
    total = args.producers * args.events
    print(f"database {name}, broker {os.environ['CELERY_BROKER_URL']}, "
          f"{args.producers} producers x {args.events} events, 2 workers")

    plain = plain_inserts(args.producers, args.events)
    print(f"plain autocommit INSERT:   {plain:10,.0f} rows/s    ({total:,} rows)")
    e2e, recording = end_to_end(args.producers, args.events)
    print(f"record() + chain caught up:{e2e:10,.0f} events/s  (recording alone "
          f"{recording:,.0f}/s)")
    drain, bulk = drain_alone(args.drain_events)
    print(f"drain alone:               {drain:10,.0f} entries/s ({args.drain_events:,} entries)")
    print(f"executemany INSERT:        {bulk:10,.0f} rows/s")
    print(f"ratio e2e / plain:         {e2e / plain:10.2f}  (goal >= 0.5)")
    print(f"ratio drain / executemany: {drain / bulk:10.2f}  (goal >= 0.3)")
    sys.exit(0 if e2e / plain >= 0.5 and drain / bulk >= 0.3 else 1)


if __name__ == "__main__":
    main()
