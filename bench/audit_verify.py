"""Benchmark: verify 1,000,000 audit entries read from PostgreSQL, against the floor of SHA-256
alone over the same canonical bytes in this process. Goal: >= 0.25 of the floor, flat memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_audit_bench \\
        /work/main/.venv/bin/python bench/audit_verify.py [--entries 1000000]

The database is dropped and re-created. Entries are generated with the chain computed here
and loaded with COPY (checkpoints signed every 1,000, as in production).
"""

import argparse
import datetime as dt
import hashlib
import os
import sys
import uuid

import _setup

COUNTRIES = ("US", "GT", "MX")


def generate(total: int) -> None:
    """Append `total` entries of a realistic shape, chained, by one COPY; checkpoints every
    1,000, signed as the drain signs them.

    A bulk load as a restore does it: the secondary indexes and the unique constraint on hash
    are dropped first and rebuilt after, and the database ingests while Python computes.
    """
    from django.db import connection, transaction

    from audit import chain, drain
    from audit.checkpoints import sign_checkpoint

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'audit_auditentry'::regclass AND contype = 'u'"
        )
        constraints = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE audit_auditentry DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_auditentry' "
            "AND indexname <> 'audit_auditentry_pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    columns = ", ".join(drain.ENTRY_COLUMNS)
    started = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    seconds = {}

    def stamp(ms: int) -> str:  # chain.format_timestamp, memoised per second (bench speed)
        second, rest = divmod(ms, 1000)
        if second not in seconds:
            seconds.clear()
            seconds[second] = chain.format_timestamp(started + dt.timedelta(seconds=second))[:19]
        return f"{seconds[second]}.{rest * 1000:06d}Z"

    assert stamp(1234) == chain.format_timestamp(started + dt.timedelta(milliseconds=1234))
    prev_hash = chain.GENESIS_HASH
    cases = [str(uuid.UUID(int=i)) for i in range(1, 5001)]
    body_hash, canonical = chain.body_hash, chain.canonical_json
    checkpoints, seq = [], 0
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY audit_auditentry ({columns}) FROM STDIN") as copy:
            while seq < total:
                rows = []
                for _ in range(min(20_000, total - seq)):
                    seq += 1
                    cc, case = COUNTRIES[seq % 3], cases[seq % len(cases)]
                    owner = COUNTRIES[(seq // 3) % 3]
                    details = {"path": f"/api/v1/cases/{case}/", "scope": "full", "n": seq}
                    entry = {
                        "seq": seq,
                        "occurred_at": stamp(seq * 37),
                        "recorded_at": stamp(seq * 37 + 40),
                        "actor": f"{cc.lower()}.investigator{seq % 40}",
                        "actor_country": cc,
                        "action": "case.view",
                        "target_type": "cases.case",
                        "target_id": case,
                        "case_id": case,
                        "case_country": owner,
                        "outcome": "success",
                        "ip": f"10.{seq % 250}.{seq % 200}.{seq % 100}",
                        "request_id": f"{seq:032x}",
                        "details": details,
                        "prev_hash": prev_hash,
                        "readers": sorted({cc, owner}),
                    }
                    body = canonical(entry)
                    prev_hash = body_hash(prev_hash, body)
                    entry["details"] = canonical(details).decode()
                    entry["readers"] = ",".join(entry["readers"])
                    rows.append("\t".join(map(str, (*entry.values(), body.decode(), prev_hash))))
                    if seq % 1000 == 0:
                        checkpoints.append((seq, prev_hash))
                # COPY text format: the generated values hold no tab, newline or backslash.
                data = "\n".join(rows) + "\n"
                assert "\\" not in data and data.count("\t") == len(rows) * 17
                copy.write(data.encode())
        for cp_seq, cp_hash in checkpoints:
            sign_checkpoint(cp_seq, cp_hash)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE audit_auditentry ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE audit_auditentry")


def sha256_floor(limit: int, chunk_size: int = 5000) -> tuple[int, float]:
    """Seconds of SHA-256 alone over the first `limit` entries' hashed bytes, prepared chunk by
    chunk outside the clock (so the floor is sampled across a pass as long as the walk)."""
    import time

    from audit import chain, rows
    from audit.models import AuditEntry

    # The same way the verifier hashes: a copy of a fresh context (OpenSSL 3's constructor is
    # slower), over prev_hash + the stored canonical JSON, to a hex digest.
    new_sha256, seconds, count = hashlib.sha256().copy, 0.0, 0
    batch, prev = [], chain.GENESIS_HASH.encode()
    entries = AuditEntry.objects.all()
    for chunk in rows.body_chunks(entries.filter(seq__lte=limit), 0, chunk_size):
        for _seq, body, digest in chunk:
            batch.append(prev + body)
            prev = digest
            if len(batch) == chunk_size:
                started = time.perf_counter()
                for data in batch:
                    sha = new_sha256()
                    sha.update(data)
                    sha.hexdigest()
                seconds += time.perf_counter() - started
                count += len(batch)
                batch = []
    started = time.perf_counter()
    for data in batch:
        sha = new_sha256()
        sha.update(data)
        sha.hexdigest()
    return count + len(batch), seconds + time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    name = _setup.configure()
    from audit import verification

    with _setup.Timer() as gen:
        generate(args.entries)
    print(f"generated {args.entries:,} entries in {name} in {gen.seconds:.1f} s")

    hashed, floor_seconds = sha256_floor(args.entries)
    assert hashed == args.entries
    floor_rate = hashed / floor_seconds
    print(f"SHA-256 floor:         {floor_rate:12,.0f} entries/s  ({floor_seconds:.2f} s)")
    jobs = os.cpu_count() or 1
    ratios = {}
    for label, n in (("verify_chain, 1 process", 1), (f"verify_audit, {jobs} processes", jobs)):
        with _setup.PeakRss() as memory, _setup.Timer() as walk:
            result = verification.verify_chain(jobs=n)
        assert result.ok and result.entries_checked == args.entries, result
        rate = args.entries / walk.seconds
        ratios[n] = rate / floor_rate
        print(f"{label + ':':<26}{rate:10,.0f} entries/s  ({walk.seconds:.2f} s)  "
              f"ratio {ratios[n]:.3f}  (goal >= 0.25)")
        print(f"    RSS: this process {memory.start:.0f} -> {memory.peak:.0f} MiB; "
              f"worker processes at most {memory.peak_children:.0f} MiB together")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    sys.exit(0 if ratios[jobs] >= 0.25 else 1)


if __name__ == "__main__":
    main()
