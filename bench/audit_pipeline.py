"""Benchmark: the audit pipeline end to end (PostgreSQL + Redis + 2 real Celery workers).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_audit_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \\
        /work/main/.venv/bin/python bench/audit_pipeline.py [--events 1500] [--rounds 3]

1. plain:  the producers (Django processes, Django's connection) INSERT rows of an audit
           entry's shape, one autocommit statement each, into a copy of the entry table (same
           columns, indexes and constraints); for reference also from psycopg alone.
2. e2e:    the same producers call audit.record() in one transaction per event, as requests
           do; two `celery worker` processes drain; timed until the chain has caught up.
           Plain and e2e rounds alternate (--rounds) with the workers running throughout, so
           both see the same machine (it is shared and its load moves).
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


PLAIN_INSERT = (
    "INSERT INTO {table} (seq, occurred_at, recorded_at, actor, actor_country, action, "
    "target_type, target_id, case_id, case_country, outcome, ip, request_id, details, "
    "prev_hash, body, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _plain_row(producer, events, round_no, i):
    """An entry's row: its columns and the canonical body they spell (the table's CHECK
    constraint, copied with it, holds the plain rows to that as it holds the chain's)."""
    import datetime as dt

    from audit import chain

    v, now = entry_values(producer, i), dt.datetime.now(dt.UTC)
    entry = {
        "seq": (round_no * 100 + producer) * events + i + 1,
        "occurred_at": now, "recorded_at": now, "actor": v["actor"],
        "actor_country": COUNTRIES[producer % 3], "action": "case.view",
        "target_type": "cases.case", "target_id": v["case"], "case_id": v["case"],
        "case_country": "MX", "outcome": "success", "ip": "10.0.0.1",
        "request_id": uuid.uuid4().hex, "details": v["details"], "prev_hash": "0" * 64,
    }
    stamp = chain.format_timestamp(now)
    body = chain.canonical_json({**entry, "occurred_at": stamp, "recorded_at": stamp})
    entry["details"] = chain.canonical_json(v["details"]).decode()
    return (*entry.values(), body.decode(), uuid.uuid4().hex * 2)


def _plain_producer(producer, events, ready, round_no):
    """The same Django process and connection, one autocommit INSERT per event."""
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    ready.wait()
    statement = PLAIN_INSERT.format(table="bench_plain")
    with connection.cursor() as cursor:
        for i in range(events):
            cursor.execute(statement, _plain_row(producer, events, round_no, i))
    connection.close()


def _raw_producer(producer, events, ready, round_no, database_url):
    """For reference: psycopg alone (server-side binding), no Django in the way."""
    import psycopg

    statement = PLAIN_INSERT.format(table="bench_raw")
    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.cursor()
        ready.wait()
        for i in range(events):
            cursor.execute(statement, _plain_row(producer, events, round_no, i))


def _record_producer(producer, events, ready):
    import django

    django.setup()
    from types import SimpleNamespace

    from django.db import connection, transaction

    import audit
    from audit import recording

    connection.ensure_connection()
    ready.wait()
    for i in range(events):
        v = entry_values(producer, i)
        case = SimpleNamespace(pk=v["case"], owner_country_id="MX")
        with transaction.atomic():
            audit.record(
                "case.view", v["actor"], target=("cases.case", v["case"]), case=case,
                **v["details"],
            )
    recording.flush_drain_requests()
    connection.close()


def run_producers(target, producers, events, *extra):
    """Start the producers, release them together once all are set up (imports, connection);
    returns the time.time() of the release."""
    ctx = mp.get_context("spawn")  # a fresh interpreter each: no inherited connections
    ready = ctx.Barrier(producers + 1)
    procs = [
        ctx.Process(target=target, args=(p, events, ready, *extra)) for p in range(producers)
    ]
    for proc in procs:
        proc.start()
    ready.wait(timeout=120)
    released = time.time()
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0, f"producer failed ({proc.exitcode})"
    return released


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

    from audit import recording
    from workinggroup.celery import app

    cache.delete(recording.DRAIN_PENDING_KEY)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


# --- phases --------------------------------------------------------------------------------


def plain_round(producers, events, round_no, target=_plain_producer, *extra):
    """Seconds for the producers' plain autocommit INSERTs (seq offset by round)."""
    start_at = run_producers(target, producers, events, round_no, *extra)
    return time.time() - start_at


def e2e_round(producers, events, expected_total):
    """Seconds from the producers' start until the chain holds `expected_total` entries."""
    from audit.models import AuditEntry

    start_at = run_producers(_record_producer, producers, events)
    deadline = time.monotonic() + 120
    while AuditEntry.objects.count() < expected_total:
        if time.monotonic() > deadline:
            sys.exit("the chain did not catch up within 120 s")
        time.sleep(0.005)
    return time.time() - start_at


def pipeline(producers, events, rounds):
    """Plain INSERT and record()+drain rounds, interleaved so both see the same machine."""
    from django.db import connection

    from audit import verification
    from audit.models import OutboxEvent

    with connection.cursor() as cursor:
        for table in ("bench_plain", "bench_raw"):
            cursor.execute(f"CREATE TABLE {table} (LIKE audit_auditentry INCLUDING ALL)")
    per_round = events // rounds
    plain_seconds = raw_seconds = e2e_seconds = 0.0
    workers = start_workers(2)  # running through every kind of round
    try:
        for round_no in range(rounds):
            plain_seconds += plain_round(producers, per_round, round_no)
            e2e_seconds += e2e_round(producers, per_round, producers * per_round * (round_no + 1))
            raw_seconds += plain_round(
                producers, per_round, round_no, _raw_producer, os.environ["DATABASE_URL"]
            )
    finally:
        stop_workers(workers)
    total = producers * per_round * rounds
    with connection.cursor() as cursor:
        for table in ("bench_plain", "bench_raw"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == total
    result = verification.verify_chain()
    assert result.ok and result.entries_checked == total and not OutboxEvent.objects.exists()
    return total, total / plain_seconds, total / raw_seconds, total / e2e_seconds


def drain_alone(count):
    from django.db import connection

    from audit import drain
    from audit.models import AuditEntry, OutboxEvent

    first = AuditEntry.objects.count() + 1
    events = []
    for i in range(count):  # the outbox as record() fills it (the workers are stopped)
        v = entry_values(7, i)
        events.append(OutboxEvent(event={
            "actor": v["actor"], "actor_country": "MX", "action": "case.view",
            "target_type": "cases.case", "target_id": v["case"], "case_id": v["case"],
            "case_country": "MX", "outcome": "success", "ip": "10.0.0.1",
            "request_id": uuid.uuid4().hex, "details": v["details"], "readers": "MX",
        }))
    OutboxEvent.objects.bulk_create(events, batch_size=5000)
    reset_redis()
    with _setup.Timer() as timer:
        assert drain.drain_outbox() == count
    drain_rate = count / timer.seconds

    columns = ", ".join(drain.ENTRY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_bulk (LIKE audit_auditentry INCLUDING ALL)")
        cursor.execute(
            f"SELECT {columns} FROM audit_auditentry WHERE seq >= %s ORDER BY seq", [first]
        )
        rows = [(*row[:13], orjson_text(row[13]), *row[14:]) for row in cursor.fetchall()]
    assert len(rows) == count
    import psycopg  # the strongest plain baseline: psycopg alone, pipelined executemany

    placeholders = ", ".join(["%s"] * len(drain.ENTRY_COLUMNS))
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, _setup.Timer() as bulk:
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO bench_bulk ({columns}) VALUES ({placeholders})", rows
            )
        conn.commit()
    return drain_rate, count / bulk.seconds


def orjson_text(value):
    import orjson

    return value if isinstance(value, str) else orjson.dumps(value).decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--events", type=int, default=1500, help="per producer")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--drain-events", type=int, default=50_000)
    args = parser.parse_args()
    name = _setup.configure(need_broker=True)
    reset_redis()
    print(f"database {name}, broker {os.environ['CELERY_BROKER_URL']}, "
          f"{args.producers} producers x {args.events} events in {args.rounds} rounds, "
          f"2 workers; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    total, plain, raw, e2e = pipeline(args.producers, args.events, args.rounds)
    print(f"plain autocommit INSERT:    {plain:10,.0f} rows/s    ({total:,} rows, Django cursor)")
    print(f"  the same, psycopg alone:  {raw:10,.0f} rows/s    (reference)")
    print(f"record() to chain (e2e):    {e2e:10,.0f} events/s  ({total:,} events)")
    drain, bulk = drain_alone(args.drain_events)
    print(f"drain alone:                {drain:10,.0f} entries/s ({args.drain_events:,} entries)")
    print(f"executemany INSERT:         {bulk:10,.0f} rows/s    (psycopg, one transaction)")
    print(f"ratio e2e / plain:          {e2e / plain:10.2f}  (goal >= 0.5)")
    print(f"  e2e / psycopg alone:      {e2e / raw:10.2f}  (reference)")
    print(f"ratio drain / executemany:  {drain / bulk:10.2f}  (goal >= 0.3)")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    sys.exit(0 if e2e / plain >= 0.5 and drain / bulk >= 0.3 else 1)


if __name__ == "__main__":
    main()
