"""The fault drills: each on its own PostgreSQL cluster, Redis, gunicorn (2 workers) and Celery
worker with beat, production settings, bounded in time. Each prints its figures: requests,
failures by status, audit events expected vs stored (run with -s or -rP to see them)."""

import json
import os
import subprocess
import time

from tests.conftest import service_missing
from tests.faults import load, services

# A lookup limit no drill reaches: the drills count audit events, not the limiter.
UNLIMITED = {"LOOKUP_RATE_LIMIT_PER_HOUR": "1000000"}


def _assert_json_errors(answers):
    """Every error answer is JSON {"detail"}; every 503 says when to retry."""
    for answer in answers:
        if answer.status >= 400:
            assert answer.content_type.startswith("application/json"), answer
            assert json.loads(answer.body)["detail"], answer
        if answer.status == 503:
            assert answer.retry_after, answer


def test_redis_killed_for_20_seconds_only_lookups_fail_and_no_event_is_lost(drill):
    port = drill.web(**UNLIMITED)
    drill.worker(supervised=True)
    seeded = drill.seed()
    with load.Stream(port, seeded) as stream:
        time.sleep(4)
        drill.redis.kill()
        down = time.monotonic() - stream.started
        time.sleep(20)
        drill.redis.start()  # the same port, empty: as after a restart without persistence
        back = time.monotonic() - stream.started
        time.sleep(6)
    drained = load.wait_until_drained(drill.pg)
    expected = load.expected_events(stream.answers)
    stored = load.stored_events(drill.pg, {rid for rid, _ in expected})
    figures = load.report("Redis killed 20 s", stream, expected, stored,
                          drained_after_s=round(drained, 1),
                          worker_starts=services.worker_starts(drill.root),
                          **load.chain_facts(drill.pg))

    _assert_json_errors(stream.answers)
    assert {a.status for a in stream.answers if a.kind != "lookup"} <= {200, 201}
    assert {a.status for a in stream.answers if a.kind == "lookup"} <= {200, 503}
    outage = [a for a in stream.answers if a.kind == "lookup" and down + 1 < a.at < back - 2]
    assert outage and {a.status for a in outage} == {503}
    after = [a for a in stream.answers if a.kind == "lookup" and a.at > back + 2]
    assert after and {a.status for a in after} == {200}
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["gapless"]


BACKLOG = """
from django.db import transaction
import audit
from audit.context import system_actor
with system_actor("fault drill backlog"):
    for start in range(0, {total}, 1000):
        with transaction.atomic():
            for n in range(start, min(start + 1000, {total})):
                audit.record("audit.view", None, target=("audit", "drill"), n=n)
"""


def test_a_worker_sigkilled_mid_drain_loses_and_duplicates_nothing(drill):
    total = 6_000
    drill.seed()
    services.manage(drill.env, "shell", "-c", BACKLOG.format(total=total))
    chained_at_kill = []
    for _ in range(3):
        before = load.chain_facts(drill.pg)["entries"]
        worker = drill.worker()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            now = load.chain_facts(drill.pg)["entries"]
            if now > before:
                break
            time.sleep(0.02)
        worker.kill()  # SIGKILL to the worker and its pool: no clean-up runs
        chained_at_kill.append(load.chain_facts(drill.pg)["entries"])
        if not drill.pg.query("SELECT count(*) FROM audit_outboxevent")[0][0]:
            break
    drill.worker()
    drained = load.wait_until_drained(drill.pg)
    counts = drill.pg.query(
        "SELECT (details->>'n')::int, count(*) FROM audit_auditentry "
        "WHERE action = 'audit.view' GROUP BY 1")
    expected = {n: 1 for n in range(total)}
    stored = dict(counts)
    lost = [n for n in expected if n not in stored]
    duplicated = [n for n, c in stored.items() if c > 1]
    facts = load.chain_facts(drill.pg)
    figures = {"events_expected": total, "events_stored": len(stored), "lost": len(lost),
               "duplicated": len(duplicated), "chained_at_each_kill": chained_at_kill,
               "drained_after_s": round(drained, 1), **facts}
    print(f"\nWorker SIGKILLed mid-drain: {json.dumps(figures)}")
    assert any(0 < at < facts["entries"] for at in chained_at_kill), "no kill landed mid-drain"
    assert lost == [] and duplicated == [] and facts["gapless"]
    verified = subprocess.run([services.PY, "manage.py", "verify_audit"], cwd=services.ROOT,
                              env=drill.env, capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_postgresql_restarted_under_load_answers_json_503_and_writes_nothing_partial(drill):
    port = drill.web(**UNLIMITED)
    drill.worker(supervised=True)
    seeded = drill.seed()
    with load.Stream(port, seeded, kinds=("view", "create")) as stream:
        time.sleep(3)
        drill.pg.stop("immediate")  # as a crash: in-flight transactions are cut
        time.sleep(3)
        drill.pg.start()
        back = time.monotonic() - stream.started
        time.sleep(7)
    drained = load.wait_until_drained(drill.pg)
    expected = load.expected_events(stream.answers)
    stored = load.stored_events(drill.pg, {rid for rid, _ in expected})
    cases = {str(pk) for (pk,) in drill.pg.query(
        "SELECT id FROM cases_case WHERE title LIKE 'Drill case %%'")}
    create_entries = drill.pg.query(
        "SELECT target_id, count(*) FROM audit_auditentry WHERE action = 'case.create' "
        "AND target_id = ANY(%s) GROUP BY 1", list(cases))
    created_ok = {json.loads(a.body)["id"] for a in stream.answers if a.status == 201}
    figures = load.report("PostgreSQL restarted under load", stream, expected, stored,
                          drained_after_s=round(drained, 1), cases_in_database=len(cases),
                          worker_starts=services.worker_starts(drill.root),
                          cases_answered_201=len(created_ok), **load.chain_facts(drill.pg))

    _assert_json_errors(stream.answers)
    assert set(figures["by_status"]) <= {200, 201, 503}, "only JSON 503s while it is down"
    assert figures["by_status"].get(503), "the outage was not seen: the drill did not bite"
    recovered = [a for a in stream.answers if a.at > back + 3]
    assert recovered and {a.status for a in recovered} <= {200, 201}, "recovery without restart"
    # No partial write: every case in the database has exactly its one creation entry, and
    # every case answered 201 is there.
    assert created_ok <= cases
    assert dict(create_entries) == {pk: 1 for pk in cases}
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["gapless"]


def _mount_small_disk(path, size="1m"):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                              str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        service_missing(f"the storage-full drill mounts a small tmpfs: {mounted.stderr.strip()}")


def _pdf(size):
    return b"%PDF-1.7\n" + os.urandom(size - 9)


def test_storage_full_on_upload_is_507_stores_nothing_and_is_audited(drill):
    store = drill.root / "app" / "var" / "attachments"
    _mount_small_disk(store)
    try:
        port = drill.web()
        drill.worker()
        seeded = drill.seed()
        token, case = seeded["tokens"]["us.investigator"], seeded["cases"]["US"]
        first = services.upload(port, token, case, _pdf(300 * 1024))
        full = services.upload(port, token, case, _pdf(3 * 1024 * 1024))
        after = services.upload(port, token, case, _pdf(100 * 1024))
        load.wait_until_drained(drill.pg)
        files = sorted(p for p in store.rglob("*") if p.is_file())
        rows = drill.pg.query("SELECT count(*) FROM cases_attachment")[0][0]
        failures = drill.pg.query(
            "SELECT details FROM audit_auditentry WHERE action = 'attachment.upload' "
            "AND outcome = 'failure'")
        figures = {"statuses": [first[0], full[0], after[0]], "objects_in_store": len(files),
                   "attachment_rows": rows, "failed_uploads_audited": len(failures)}
        print(f"\nStorage full on upload: {json.dumps(figures)}")
        assert (first[0], full[0], after[0]) == (201, 507, 201)
        assert json.loads(full[2])["detail"].startswith("the file store has no space left")
        assert len(files) == 2 and rows == 2, "nothing of the refused upload stayed"
        [(details,)] = failures
        assert (details["status"], details["reason"]) == (507, "storage_full")
    finally:
        for proc in drill.processes:
            proc.stop()
        subprocess.run(["umount", "-l", str(store)], capture_output=True)
