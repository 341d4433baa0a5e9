"""The witnessed log end to end: three witnesses as separate processes with their own state,
the quorum, and the tamper probes of issue 17 against PostgreSQL (triggers lifted)."""

import base64
import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

import audit
from audit import chain, merkle, merkle_store, notes, witnessing
from audit.models import AuditCheckpoint, AuditEntry
from audit.witnessed_models import CheckpointNote, Cosignature, WitnessStatus
from tests.audit.conftest import sql, triggers_lifted

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("us-witness", "gt-witness", "mx-witness")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WitnessProcess:
    """`python -m audit.witness_server` with its own state directory, port and key."""

    def __init__(self, name, state: Path):
        self.name, self.state, self.proc = name, state, None
        self.port = _free_port()

    def command(self, *extra):
        return [sys.executable, "-m", "audit.witness_server", "--name", self.name,
                "--state", str(self.state), "--port", str(self.port), *extra]

    def trust(self, log_vkey) -> str:
        """Create the key, trust a log key, exit; returns the witness's vkey."""
        done = subprocess.run(self.command("--trust-log", log_vkey, "--print-vkey", "--no-serve"),
                              cwd=ROOT, capture_output=True, text=True, timeout=30, check=True)
        return done.stdout.strip()

    def start(self):
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def witnesses(db, tmp_path, settings):
    """Three witnesses (US, GT, MX) trusting this log, configured with a quorum of 2."""
    settings.AUDIT_NOTE_EVERY = 0  # notes only where a test asks (witness_checkpoint)
    settings.AUDIT_CHECKPOINT_EVERY = 10_000
    settings.WG_WITNESS_TIMEOUT_SECONDS = 3
    procs = {name: WitnessProcess(name, tmp_path / name) for name in NAMES}
    log_vkey = witnessing.log_vkey()
    settings.WG_WITNESSES = [
        {"name": name, "url": f"http://127.0.0.1:{p.port}", "vkey": p.trust(log_vkey)}
        for name, p in procs.items()
    ]
    settings.WG_WITNESS_QUORUM = 2
    for p in procs.values():
        p.start()
    yield procs
    for p in procs.values():
        p.kill()


def grow(n):
    """n more chained entries."""
    from audit.drain import drain_outbox

    for i in range(n):
        audit.record("case.view", "alice", n=i)
    drain_outbox()
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()


def verify():
    from audit import verification, witnessed_verify

    return witnessed_verify.verify_witnessed(verification.verify_chain())


def states(outcomes):
    return {o.witness: o.state for o in outcomes}


def test_three_witnesses_cosign_and_verification_is_witnessed(witnesses, api, oversight_auditor):
    grow(25)
    note = witnessing.witness_checkpoint()
    assert note.size == 25 and note.origin == witnessing.current_origin()
    assert sorted(Cosignature.objects.values_list("witness", flat=True)) == sorted(NAMES)
    body = api(oversight_auditor).get("/api/v1/audit/verify/").json()
    assert body["ok"] is True
    assert body["witnessing"]["status"] == "witnessed"
    assert body["witnessing"]["cosigned"] == 3
    assert {w["name"]: (w["state"], w["size"]) for w in body["witnessing"]["witnesses"]} == {
        name: ("consistent", 25) for name in NAMES
    }
    out = io.StringIO()
    call_command("verify_audit", "--jobs", "1", stdout=out)
    assert out.getvalue().splitlines()[-1].startswith(
        "WITNESSES: witnessed, 3 of 3 cosigned a checkpoint consistent with the tree of "
    )
    # The note is a C2SP checkpoint signed by the log's key under its origin.
    text = api(oversight_auditor).get("/api/v1/audit/notes/").json()["results"][-1]["note"]
    note_body, signatures = notes.split_note(text)
    checkpoint = notes.parse_checkpoint(note_body)
    assert (checkpoint.origin, checkpoint.size) == (witnessing.current_origin(), 25)
    assert notes.note_signed_by(note_body, signatures, notes.parse_vkey(witnessing.log_vkey()))
    assert sorted(s.name for s in signatures[1:]) == sorted(NAMES)


def test_killing_one_witness_keeps_the_quorum_killing_two_raises_the_alarm(
    witnesses, client, caplog
):
    grow(10)
    witnessing.witness_checkpoint()
    witnesses["mx-witness"].kill()
    grow(5)
    assert states(witnessing.submit(witnessing.sign_checkpoint())) == {
        "us-witness": "ok", "gt-witness": "ok", "mx-witness": "unreachable"}
    assert client.get("/healthz").status_code == 200
    result = verify()
    assert result.ok and result.witnessing["cosigned"] == 2

    witnesses["gt-witness"].kill()
    grow(5)
    caplog.clear()
    witnessing.witness_checkpoint()
    assert "AUDIT ALERT: witness gt-witness (falls behind)" in caplog.text
    grow(0)  # chain the alarms
    failed = AuditEntry.objects.filter(action="audit.witness_failed").order_by("seq")
    assert [(e.details["witness"], e.details["alarm"]) for e in failed][-2:] == [
        ("mx-witness", "falls behind"), ("gt-witness", "falls behind")]
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["components"]["witnesses"]["detail"].startswith(
        "1 of 3 witnesses cosigning")
    assert "witnesses" in health.json()["failing"]
    result = verify()
    assert not result.ok
    assert result.reason.startswith(
        "only 1 of 3 witnesses cosigned a checkpoint consistent with the log (quorum 2): ")
    assert "gt-witness: unreachable" in result.reason and "mx-witness: unreachable" in result.reason


def test_unwitnessed_log_says_so(db, settings):
    settings.WG_WITNESSES = []
    grow(3)
    result = verify()
    assert result.ok and result.witnessing["status"] == "unwitnessed"
    assert result.witnessing["note"].startswith("the log is unwitnessed")


def test_the_system_check_warns_of_an_unwitnessed_production_log(settings):
    from audit.witness_checks import witnesses_configured

    settings.DEBUG, settings.WG_WITNESSES = False, []
    assert [m.id for m in witnesses_configured(None)] == ["audit.W017"]
    settings.DEBUG = True
    assert witnesses_configured(None) == []
    settings.WG_WITNESSES = [{"name": "mx-witness", "url": "ftp://x", "vkey": "nope"}]
    assert [m.id for m in witnesses_configured(None)] == ["audit.E017"]


# --- The tamper probes (PostgreSQL, a superuser lifting the triggers) ------------------------


def _cut_tail(after_seq, *, evidence_too):
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq > %s", [after_seq])
        if evidence_too:  # and the log's own evidence of its length
            sql("DELETE FROM audit_cosignature")
            sql("DELETE FROM audit_checkpointnote")
            sql("DELETE FROM audit_auditcheckpoint")
            sql("DELETE FROM audit_merklenode WHERE stop > %s", [after_seq])


def _rechain(entries):
    """Rewrite the whole log as `entries` (dicts of chain fields), re-hashed, and rebuild its
    tree: what a forger with the database does to make the chain and the tree hold."""
    prev = chain.GENESIS_HASH
    sql("DELETE FROM audit_auditentry")
    sql("DELETE FROM audit_merklenode")
    for seq, data in enumerate(entries, start=1):
        data = dict(data, seq=seq, prev_hash=prev)
        body = chain.canonical_json(data)
        digest = chain.body_hash(prev, body)
        readers = ",".join(data["readers"]) if "readers" in data else None
        sql("INSERT INTO audit_auditentry (seq, occurred_at, recorded_at, actor, actor_country,"
            " action, target_type, target_id, case_id, case_country, outcome, ip, request_id,"
            " details, prev_hash, body, hash, readers) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [seq, data["occurred_at"], data["recorded_at"], data["actor"], data["actor_country"],
             data["action"], data["target_type"], data["target_id"], data["case_id"],
             data["case_country"], data["outcome"], data["ip"], data["request_id"],
             orjson_dumps(data["details"]), prev, body.decode(), digest, readers])
        prev = digest
    sql("DELETE FROM audit_cosignature")
    sql("DELETE FROM audit_checkpointnote")
    sql("DELETE FROM audit_auditcheckpoint")
    merkle_store.catch_up()


def orjson_dumps(value):
    import orjson

    return orjson.dumps(value).decode()


def _entries():
    return [chain.entry_dict(e) for e in AuditEntry.objects.order_by("seq")]


def test_probe_tail_cut(postgres, witnesses):
    grow(30)
    witnessing.witness_checkpoint()
    _cut_tail(20, evidence_too=False)
    result = verify()
    assert (result.ok, result.first_bad_seq) == (False, 21)
    assert "cosigned size 30 but the log has 20 entries (the witnesses' cosigned size " \
           "exceeds the log's" in result.reason


def test_probe_tail_cut_with_checkpoints_deleted(postgres, witnesses):
    grow(30)
    witnessing.witness_checkpoint()
    _cut_tail(20, evidence_too=True)
    result = verify()
    assert (result.ok, result.first_bad_seq) == (False, 21)
    assert "the witnesses' cosigned size exceeds the log's" in result.reason
    # The next submission is refused with 409 naming the witnesses' larger size: the alarm.
    assert set(states(witnessing.submit(witnessing.sign_checkpoint())).values()) == {"ahead"}
    grow(0)  # chain the alarms
    failed = AuditEntry.objects.filter(action="audit.witness_failed")
    assert {e.details["alarm"] for e in failed} == {"rollback"}


def test_probe_rewrite_rehash_and_checkpoints_deleted(postgres, witnesses):
    grow(30)
    witnessing.witness_checkpoint()
    entries = _entries()
    entries[5]["actor"] = "mallory"  # #6 rewritten, everything after re-hashed
    with triggers_lifted():
        _rechain(entries)
    from audit import verification

    assert verification.verify_chain().ok  # the chain alone holds: it was re-hashed
    result = verify()
    assert not result.ok and result.first_bad_seq == 1  # no signed size left to trust
    assert result.reason == ("the first 30 entries differ from the tree witness us-witness "
                             "cosigned (rewritten history)")
    assert set(states(witnessing.submit(witnessing.sign_checkpoint())).values()) == {"conflict"}


def test_probe_an_entry_inserted_in_the_middle(postgres, witnesses):
    grow(30)
    witnessing.witness_checkpoint()
    witnessed_root = merkle_store.root(30)
    entries = _entries()
    forged = dict(entries[10], actor="mallory", details={"n": "inserted"})
    with triggers_lifted():
        _rechain([*entries[:10], forged, *entries[10:29]])  # #11 inserted, the log still 30 long
    result = verify()
    assert not result.ok and "witness us-witness cosigned (rewritten history)" in result.reason
    # The inserted entry's inclusion proof (from the forger's own tree) fails against the
    # root the witnesses cosigned.
    leaf = merkle.leaf_hash(bytes.fromhex(AuditEntry.objects.get(seq=11).hash))
    proof = merkle_store.inclusion_proof(10, 30)
    merkle.verify_inclusion(10, 30, leaf, proof, merkle_store.root(30))  # its own tree: fine
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(10, 30, leaf, proof, witnessed_root)


def test_probe_a_fork_shown_to_two_witnesses(postgres, witnesses):
    grow(20)
    witnessing.witness_checkpoint()
    grow(5)
    real = [merkle.leaf_hash(bytes.fromhex(h))
            for h in AuditEntry.objects.order_by("seq").values_list("hash", flat=True)]
    # The operator shows gt-witness another history of #21-#25, signed with the log's key.
    other = real[:20] + [merkle.leaf_hash(b"forged %d" % i) for i in range(5)]
    origin = witnessing.current_origin()
    body = notes.checkpoint_body(origin, 25, merkle.root_from_leaves(other))
    from core.keyring import get_keyring

    forged_note = notes.sign_note(body, origin, get_keyring().audit_signing_key()[1])
    proof = [merkle.root_from_leaves(other[s:e]) for s, e in merkle.consistency_ranges(20, 25)]
    gt = next(w for w in witnessing.configured_witnesses() if w.name == "gt-witness")
    assert witnessing._post(gt, witnessing._add_checkpoint_body(20, proof, forged_note))[0] == 200
    # The real history goes to everyone: gt-witness holds the other tree of size 25.
    outcomes = states(witnessing.submit(witnessing.sign_checkpoint()))
    assert outcomes["gt-witness"] == "conflict"
    result = verify()
    assert not result.ok and result.first_bad_seq == 21
    assert result.reason.startswith("fork: the witnesses' cosignatures conflict: gt-witness "
                                    "cosigned a tree of size 25 that the log does not extend")


def test_probe_rollback_to_a_backup_then_a_new_epoch(postgres, witnesses, client):
    tables = ("audit_auditentry", "audit_merklenode", "audit_checkpointnote",
              "audit_cosignature", "audit_auditcheckpoint", "audit_witnessstatus")
    grow(20)
    witnessing.witness_checkpoint()
    for table in tables:  # the nightly backup
        sql(f"CREATE TEMP TABLE backup_{table} AS SELECT * FROM {table}")  # noqa: S608
    grow(15)
    witnessing.witness_checkpoint()
    with triggers_lifted():  # the whole database restored from it
        for table in reversed(tables):
            sql(f"DELETE FROM {table}")  # noqa: S608
        for table in tables:
            sql(f"INSERT INTO {table} SELECT * FROM backup_{table}")  # noqa: S608
    assert grow(3) == 23
    outcomes = witnessing.submit(witnessing.sign_checkpoint())
    assert {o.state for o in outcomes} == {"ahead"} and {o.size for o in outcomes} == {35}
    assert client.get("/healthz").status_code == 503
    result = verify()
    assert not result.ok and "cosigned size 35 but the log has" in result.reason

    # Recovery: a new epoch. Its first entry records the restore and what was witnessed.
    out = io.StringIO()
    call_command("audit_new_epoch", stdout=out)
    start = AuditEntry.objects.get(action="audit.epoch_started")
    assert start.details["last_witnessed_size"] == 35
    assert start.details["previous_origin"] == witnessing.settings.WG_AUDIT_ORIGIN
    new_origin = witnessing.current_origin()
    assert new_origin == start.details["origin"] == witnessing.settings.WG_AUDIT_ORIGIN + "/epoch/2"
    assert f"log key for the witnesses: {witnessing.log_vkey(new_origin)}" in out.getvalue()
    # Witnesses refuse the new origin (404) until their operators accept it deliberately.
    assert {o.state for o in witnessing.submit(CheckpointNote.objects.get(origin=new_origin))} \
        == {"refused"}
    for w in witnesses.values():
        w.trust(witnessing.log_vkey(new_origin))
    assert {o.state for o in witnessing.submit(witnessing.sign_checkpoint())} == {"ok"}
    result = verify()
    assert result.ok and result.witnessing["status"] == "witnessed"
    assert client.get("/healthz").status_code == 200
    assert WitnessStatus.objects.filter(ok=True).count() == 3


def test_probes_caught_before_are_still_caught(postgres, witnesses):
    grow(30)
    witnessing.witness_checkpoint()
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq = 12")
    result = verify()
    assert (result.ok, result.first_bad_seq) == (False, 12)
    assert result.reason == "#12 is missing (the next entry is #13)"
    assert AuditCheckpoint.objects.count() == 0  # caught by the chain itself, as before


# --- Proofs read few stored hashes ------------------------------------------------------------


def _synthetic_tree(size_log2):
    """A full tree of 2^k identical leaves written straight into the node table."""
    leaf = merkle.leaf_hash(b"synthetic")
    level = [leaf]
    for _ in range(size_log2):
        level.append(merkle.node_hash(level[-1], level[-1]))
    rows = ((i << k, (i + 1) << k, level[k])
            for k in range(size_log2 + 1) for i in range(1 << (size_log2 - k)))
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 50_000:
            merkle_store.write(batch, fresh=True)
            batch = []
    merkle_store.write(batch, fresh=True)
    return leaf


@pytest.mark.parametrize("size_log2", [10, 20])
def test_a_proof_reads_at_most_log2_n_plus_2_stored_hashes(db, size_log2):
    leaf = _synthetic_tree(size_log2)
    n = 1 << size_log2
    bound = size_log2 + 2  # ceil(log2 n) + 2
    for size in (n, n - 1, n - 3, n // 2 + 5):
        root = merkle_store.store_frontier(size)  # done when a checkpoint is signed
        assert root == merkle.root_from_leaves([leaf] * size) if size < 5000 else True
        for index in (0, 1, size // 3, size - 2, size - 1):
            merkle_store.reads.hashes = 0
            proof = merkle_store.inclusion_proof(index, size)
            assert merkle_store.reads.hashes <= bound
            merkle.verify_inclusion(index, size, leaf, proof, root)
        for old in (1, 2, 7, size // 2, size - 1):
            old_root = merkle_store.store_frontier(old)
            merkle_store.reads.hashes = 0
            proof = merkle_store.consistency_proof(old, size)
            assert merkle_store.reads.hashes <= bound
            merkle.verify_consistency(old, size, old_root, root, proof)


def test_the_stored_tree_is_the_entries_tree(db, settings):
    from audit.drain import drain_outbox

    settings.AUDIT_NOTE_EVERY = 0
    for i in range(37):
        audit.record("case.view", "alice", n=i)
    drain_outbox(batch_size=5)  # batches after the first start from the border they kept
    leaves = [merkle.leaf_hash(bytes.fromhex(h))
              for h in AuditEntry.objects.order_by("seq").values_list("hash", flat=True)]
    assert merkle_store.tree_size() == 37
    for size in (1, 16, 37):
        assert merkle_store.root(size) == merkle.root_from_leaves(leaves[:size])
    # A backfill from scratch (the migration's) builds the same tree.
    sql("DELETE FROM audit_merklenode")
    assert merkle_store.catch_up() == 37
    assert merkle_store.root(37) == merkle.root_from_leaves(leaves)


def test_inclusion_and_consistency_proofs_for_auditors(witnesses, api, oversight_auditor,
                                                      us_auditor):
    grow(12)
    witnessing.witness_checkpoint()
    grow(9)
    note = witnessing.witness_checkpoint()
    client = api(oversight_auditor)
    body = client.get("/api/v1/audit/proofs/inclusion/", {"seq": 5}).json()
    cp = notes.parse_checkpoint(notes.split_note(body["checkpoint"])[0])
    assert (body["tree_size"], cp.size) == (note.size, note.size)
    merkle.verify_inclusion(4, cp.size, base64.b64decode(body["leaf_hash"]),
                            [base64.b64decode(h) for h in body["proof"]], cp.root)
    body = client.get("/api/v1/audit/proofs/consistency/", {"old": 12, "new": note.size}).json()
    old_cp = notes.parse_checkpoint(notes.split_note(body["old_checkpoint"])[0])
    merkle.verify_consistency(12, note.size, old_cp.root, cp.root,
                              [base64.b64decode(h) for h in body["proof"]])
    assert client.get("/api/v1/audit/proofs/consistency/", {"old": 9, "new": 5}).status_code == 400
    assert client.get("/api/v1/audit/proofs/inclusion/", {"seq": "x"}).status_code == 400
    # A country auditor gets no proof of an entry they may not see.
    assert api(us_auditor).get("/api/v1/audit/proofs/inclusion/", {"seq": 5}).status_code == 404


def test_proofs_read_together_are_the_proofs_read_one_by_one(
    db, django_assert_max_num_queries
):
    """The proof bundle reads its proofs together (shared ranges once, 500 a query): the
    same proofs as one query a proof, in far fewer queries (10,000 entries were 10,000
    queries and outlived gunicorn's timeout)."""
    size = grow(70)
    merkle_store.store_frontier(size)
    one_by_one = [merkle_store.inclusion_proof(index, size) for index in range(size)]
    with django_assert_max_num_queries(3):
        together = merkle_store.inclusion_proofs(range(size), size)
    assert together == one_by_one
    for index, proof in enumerate(together):
        leaf = merkle.leaf_hash(bytes.fromhex(
            AuditEntry.objects.get(seq=index + 1).hash))
        merkle.verify_inclusion(index, size, leaf, proof, merkle_store.root(size))


def test_an_export_with_its_proof_bundle_verifies_offline(witnesses, api, oversight_auditor,
                                                         tmp_path):
    import json

    from tests.audit import standalone

    grow(14)
    witnessing.witness_checkpoint()
    grow(2)  # newer than the checkpoint: not covered yet
    client = api(oversight_auditor)
    export = tmp_path / "audit.jsonl"
    export.write_bytes(b"".join(client.get("/api/v1/audit/export/").streaming_content))
    bundle = client.get("/api/v1/audit/proof-bundle/").json()
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    vkeys = [w["vkey"] for w in witnessing.settings.WG_WITNESSES]
    done = standalone.run("verify_bundle.py", tmp_path / "bundle.json", export, *vkeys,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.startswith(f"OK: 14 entries in {witnessing.current_origin()} @14, "
                                  "cosigned by us-witness, gt-witness, mx-witness; ")

    # An entry rewritten and re-hashed in the export (so it still verifies on its own).
    lines = export.read_text().splitlines()
    entry = json.loads(lines[4])
    entry.pop("hash")
    entry["actor"] = "mallory"
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    entry["hash"] = __import__("hashlib").sha256(
        (entry["prev_hash"] + canonical).encode()).hexdigest()
    lines[4] = json.dumps(entry, sort_keys=True)
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(lines) + "\n")
    done = standalone.run("verify_bundle.py", tmp_path / "bundle.json", forged, *vkeys,
                          cwd=tmp_path)
    assert done.returncode == 1 and "BROKEN: #5 is not in the witnessed log" in done.stderr

    # Keys the auditor does not trust count for nothing.
    other = WitnessProcess("us-witness", tmp_path / "impostor").trust(witnessing.log_vkey())
    done = standalone.run("verify_bundle.py", tmp_path / "bundle.json", export, other,
                          cwd=tmp_path)
    assert done.returncode == 1 and "BROKEN: 0 cosignature(s)" in done.stderr


def test_signing_and_submitting_take_no_lock_the_drain_waits_on(
    postgres, django_db_serialized_rollback, transactional_db, settings
):
    """A drain holding its lock does not stop signing; a witness that hangs does not stop
    the drain."""
    import threading

    import psycopg
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.db import connection

    from audit.writer import DRAIN_LOCK_KEY

    settings.AUDIT_NOTE_EVERY = 0
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(8)  # accepts connections and never answers
    vkey = notes.vkey("slow-witness", notes.SIG_COSIGNATURE_V1,
                      notes.public_bytes(Ed25519PrivateKey.generate()))
    settings.WG_WITNESSES = [{"name": "slow-witness", "vkey": vkey,
                              "url": f"http://127.0.0.1:{hanging.getsockname()[1]}"}]
    settings.WG_WITNESS_QUORUM, settings.WG_WITNESS_TIMEOUT_SECONDS = 1, 4
    try:
        grow(10)
        params = connection.get_connection_params()
        with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"},
                             autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(%s)", [DRAIN_LOCK_KEY])  # a drain mid-batch
            started = time.monotonic()
            assert witnessing.sign_checkpoint().size == 10
            assert time.monotonic() - started < 3
            other.execute("SELECT pg_advisory_unlock(%s)", [DRAIN_LOCK_KEY])

        grow(3)
        def submit():
            try:
                witnessing.witness_checkpoint()
            finally:
                connection.close()  # this thread's own connection

        submitting = threading.Thread(target=submit)
        submitting.start()
        deadline = time.monotonic() + 10
        while not CheckpointNote.objects.filter(size=13).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        assert grow(5) == 18  # the drain runs while the submission waits on the witness
        assert time.monotonic() - started < 3 and submitting.is_alive()
        submitting.join(timeout=15)
        assert WitnessStatus.objects.get(witness="slow-witness").detail.startswith("unreachable")
    finally:
        hanging.close()


def test_a_409_showing_the_witness_behind_resynchronises(witnesses, client):
    grow(10)
    witnessing.witness_checkpoint()
    sql("DELETE FROM audit_cosignature WHERE witness = 'us-witness'")  # our record of it lost
    grow(10)
    # We offer us-witness a proof from 0; it answers 409 "10", we prove from 10 and it cosigns.
    outcomes = witnessing.submit(witnessing.sign_checkpoint())
    assert states(outcomes) == {name: "ok" for name in NAMES}
    assert Cosignature.objects.filter(witness="us-witness", note__size=20).exists()
    assert client.get("/healthz").json()["components"]["witnesses"]["detail"] == (
        "3 of 3 witnesses cosigning (quorum 2)")
