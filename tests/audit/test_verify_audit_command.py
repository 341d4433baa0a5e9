"""manage.py verify_audit names the first bad seq of every kind of tampering (triggers lifted)."""

import io

import orjson
import pytest
from django.core.management import call_command

import audit
from audit import checkpoints, verification
from audit.models import AuditEntry
from tests.audit.conftest import sql, triggers_lifted


@pytest.fixture
def ten_entries(db, drain, settings):
    settings.AUDIT_CHECKPOINT_EVERY = 10_000  # checkpoints only where a test asks for one
    for i in range(10):
        audit.record("case.view", "alice", n=i)
    drain()


def verify_audit():
    """(exit code, stdout) of manage.py verify_audit, without its last line on the witnesses
    (tests/audit/test_witnessed_log.py checks that one)."""
    out = io.StringIO()
    code = 0
    try:
        call_command("verify_audit", stdout=out)
    except SystemExit as exc:
        code = exc.code
    *lines, witnesses = out.getvalue().splitlines(keepends=True)
    assert witnesses.startswith(("UNWITNESSED: ", "WITNESSES: "))
    return code, "".join(lines)


def test_an_intact_chain_exits_0(ten_entries):
    assert verify_audit() == (0, "OK: 10 entries verified\n")


def test_an_empty_chain_is_intact(db):
    assert verify_audit() == (0, "OK: 0 entries verified\n")


def test_a_rewritten_field_is_the_first_bad_seq(ten_entries):
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 4")

    code, out = verify_audit()

    assert code == 1
    assert out == (
        "BROKEN: first bad seq 4 (#4: its columns no longer match its hashed content); "
        "3 entries verified before it\n"
    )


def test_a_rewritten_body_is_the_first_bad_seq(ten_entries):
    body = AuditEntry.objects.get(seq=4).body
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET actor = 'mallory', body = %s WHERE seq = 4",
            [body.replace('"actor":"alice"', '"actor":"mallory"')])

    code, out = verify_audit()

    assert code == 1
    assert out.startswith("BROKEN: first bad seq 4 (#4: its content no longer matches its hash)")


@pytest.mark.usefixtures("postgres")
def test_on_postgresql_a_column_cannot_drift_from_the_body_even_without_triggers(ten_entries):
    from django.db import IntegrityError, connection, transaction

    from audit import triggers

    triggers.drop(connection)  # the append-only triggers only: the constraint stays
    with pytest.raises(IntegrityError, match="audit_entry_columns_match_body"):
        with transaction.atomic():
            sql("UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 4")
    assert AuditEntry.objects.get(seq=4).actor == "alice"
    assert triggers.body_constraint_holds(connection)


def test_a_rewritten_details_value_is_caught(ten_entries):
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET details = %s WHERE seq = 7", ['{"n": 99}'])

    assert verify_audit()[0] == 1
    assert verification.verify_chain().first_bad_seq == 7


def test_a_deleted_row_is_a_gap_at_its_seq(ten_entries):
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq = 6")

    code, out = verify_audit()

    assert code == 1
    assert out.startswith("BROKEN: first bad seq 6 (#6 is missing (the next entry is #7))")


def test_a_swapped_pair_breaks_the_link_at_the_first_of_them(ten_entries):
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET seq = -3 WHERE seq = 3")
        sql("UPDATE audit_auditentry SET seq = 3 WHERE seq = 4")
        sql("UPDATE audit_auditentry SET seq = 4 WHERE seq = -3")

    code, out = verify_audit()

    assert code == 1
    assert out.startswith("BROKEN: first bad seq 3 (#3: prev_hash does not link to #2)")


def test_a_truncated_tail_is_caught_by_the_signed_checkpoint(ten_entries):
    assert checkpoints.checkpoint_create().seq == 10
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq > 7")

    code, out = verify_audit()

    assert code == 1
    assert out.startswith(
        "BROKEN: first bad seq 8 (entries from #8 are missing: checkpoint #10 signed a longer "
        "chain (truncated))"
    )


def test_a_truncated_tail_without_a_checkpoint_passes_unnoticed(ten_entries):
    # Why checkpoints and witnesses exist: the chain alone cannot tell a short log from a
    # truncated one. The stored Merkle tree still has the cut leaves...
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq > 7")
    assert verify_audit() == (1, "BROKEN: first bad seq 8 (entries from #8 are missing: the "
                                 "stored Merkle tree has 10 leaves (cut)); 7 entries verified "
                                 "before it\n")
    # ... unless they are cut too: then only a witness can tell (tests/audit/test_witnessed_log).
    sql("DELETE FROM audit_merklenode WHERE stop > 7")
    assert verify_audit() == (0, "OK: 7 entries verified\n")


def test_a_rechained_rewrite_is_caught_by_the_checkpoint_after_the_last_good_one(ten_entries):
    from audit import chain

    assert checkpoints.checkpoint_create().seq == 10
    # A forger rewrites #6 and recomputes every hash after it, so the links all hold.
    with triggers_lifted():
        prev = AuditEntry.objects.get(seq=5).hash
        for entry in AuditEntry.objects.filter(seq__gte=6).order_by("seq"):
            data = chain.entry_dict(entry)
            data["prev_hash"] = prev
            if entry.seq == 6:
                data["actor"] = "mallory"
            body = chain.canonical_json(data)
            prev = chain.body_hash(prev, body)
            sql(
                "UPDATE audit_auditentry SET actor = %s, prev_hash = %s, body = %s, hash = %s "
                "WHERE seq = %s",
                [data["actor"], data["prev_hash"], body.decode(), prev, entry.seq],
            )

    result = verification.verify_chain()

    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert result.reason == (
        "the chain at #10 differs from its signed checkpoint: entries after #0 were rewritten"
    )


def test_a_forged_checkpoint_signature_is_reported_at_its_seq(ten_entries):
    checkpoints.checkpoint_create()
    with triggers_lifted():
        sql("UPDATE audit_auditcheckpoint SET signature = %s WHERE seq = 10", ["00" * 64])

    result = verification.verify_chain()

    assert (result.ok, result.first_bad_seq, result.entries_checked) == (False, 10, 10)
    assert result.reason.startswith("checkpoint #10: its signature does not verify")


def test_verify_audit_is_itself_audited_with_the_system_actor(ten_entries, audit_log):
    verify_audit()

    [entry] = audit_log(action="audit.verify")
    assert (entry.actor, entry.outcome) == ("system:manage.py verify_audit", "success")
    assert entry.details == {"entries_checked": 10, "first_bad_seq": None, "reason": ""}


def test_a_failed_verification_is_audited_as_a_failure(ten_entries, audit_log):
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq = 2")
    verify_audit()

    [entry] = audit_log(action="audit.verify")
    assert entry.outcome == "failure"
    assert entry.details["first_bad_seq"] == 2


def test_no_progress_bar_when_stderr_is_not_a_terminal(ten_entries, capsys):
    verify_audit()
    assert capsys.readouterr().err == ""


def test_a_progress_bar_on_a_terminal(ten_entries, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    verify_audit()
    assert "10/10 entries" in terminal.getvalue()


def test_jobs_below_one_is_refused_naming_the_option(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--jobs must be at least 1"):
        call_command("verify_audit", "--jobs", "0", stdout=io.StringIO())


@pytest.mark.usefixtures("postgres")
def test_a_constraint_of_the_same_name_that_checks_nothing_does_not_hide_a_rewrite(ten_entries):
    from django.db import connection

    from audit import triggers

    triggers.drop(connection)  # the table's owner can do all of this, no superuser needed
    sql(f"ALTER TABLE audit_auditentry DROP CONSTRAINT {triggers.BODY_CONSTRAINT}")
    sql(f"ALTER TABLE audit_auditentry ADD CONSTRAINT {triggers.BODY_CONSTRAINT} "
        f"CHECK (body IS NOT NULL)")
    sql("UPDATE audit_auditentry SET actor_country = 'MX' WHERE seq = 5")
    triggers.install(connection)

    assert not triggers.body_constraint_holds(connection)
    result = verification.verify_chain()
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert result.reason == "#5: its columns no longer match its hashed content"


def test_a_number_rewritten_as_an_equal_float_is_a_changed_column(ten_entries):
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET details = %s WHERE seq = 4", ['{"n": 3.0}'])

    result = verification.verify_chain()

    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.reason == "#4: its columns no longer match its hashed content"


def test_an_appended_entry_that_names_another_predecessor_breaks_the_link(ten_entries):
    from audit import chain

    # Someone with INSERT rights appends an entry whose body claims another predecessor but
    # whose hash is computed over the real one: the walk checks the link, not just the hash.
    head = AuditEntry.objects.get(seq=10)
    forged = chain.entry_dict(head) | {"seq": 11, "prev_hash": "f" * 64}
    body = chain.canonical_json(forged)
    sql(
        "INSERT INTO audit_auditentry (seq, occurred_at, recorded_at, actor, actor_country, "
        "action, target_type, target_id, case_id, case_country, outcome, ip, request_id, "
        "details, prev_hash, readers, body, hash) SELECT 11, occurred_at, recorded_at, actor, "
        "actor_country, action, target_type, target_id, case_id, case_country, outcome, ip, "
        "request_id, details, %s, readers, %s, %s FROM audit_auditentry WHERE seq = 10",
        ["f" * 64, body.decode(), chain.body_hash(head.hash, body)],
    )

    result = verification.verify_chain()

    assert (result.ok, result.first_bad_seq, result.entries_checked) == (False, 11, 10)
    assert result.reason == "#11: prev_hash does not link to #10"


@pytest.mark.parametrize("chunk_size", [1, 3, 4, 10_000])
def test_chunk_seams_change_nothing(ten_entries, chunk_size):
    entry = AuditEntry.objects.get(seq=8)
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq = 5")
        sql("UPDATE audit_auditentry SET actor = 'mallory', body = %s WHERE seq = 8",
            [entry.body.replace('"actor":"alice"', '"actor":"mallory"')])

    assert verification.verify_chain(chunk_size=chunk_size) == verification.Verification(
        False, 4, 5, "#5 is missing (the next entry is #6)", 0, 0
    )


def test_the_entries_api_reads_the_hashed_body(ten_entries, api, oversight_auditor):
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET target_id = 'x' WHERE seq = 3")

    [listed] = [e for e in api(oversight_auditor).get("/api/v1/audit/entries/").json()["results"]
                if e["seq"] == 3]

    body = AuditEntry.objects.get(seq=3).body
    assert listed == {**orjson.loads(body), "hash": AuditEntry.objects.get(seq=3).hash}
    assert listed["target_id"] != "x"
