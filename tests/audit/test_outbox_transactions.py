"""record() writes in the caller's transaction: rolled back means no event, committed means one."""

import pytest
from django.db import transaction

import audit
from audit.models import AuditEntry, OutboxEvent


class Boom(Exception):
    pass


def test_rolled_back_transaction_leaves_no_event(db, drain):
    with pytest.raises(Boom), transaction.atomic():
        audit.record("case.create", "alice", target=("cases.case", "1"))
        raise Boom

    assert OutboxEvent.objects.count() == 0
    assert drain() == 0
    assert AuditEntry.objects.count() == 0


def test_committed_transaction_yields_exactly_one_entry(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            audit.record("case.create", "alice", target=("cases.case", "1"), title="x")

    assert len(callbacks) == 1  # the drain trigger, run on commit
    entries = list(AuditEntry.objects.values_list("seq", "action", "actor", "details"))
    assert entries == [(1, "case.create", "alice", {"title": "x"})]
    assert OutboxEvent.objects.count() == 0


def test_unknown_action_is_a_programming_error(db):
    with pytest.raises(ValueError, match="unknown audit action 'case.teleport'"):
        audit.record("case.teleport", "alice")
    assert OutboxEvent.objects.count() == 0


def test_unknown_outcome_is_a_programming_error(db):
    with pytest.raises(ValueError, match="unknown audit outcome 'meh'"):
        audit.record("case.view", "alice", outcome="meh")


def test_actor_and_case_country_are_copied_onto_the_entry(
    db, audit_log, mx_investigator, stand_ins_shared
):
    from tests.audit.conftest import a_case

    case = a_case("GT")
    audit.record("case.view", mx_investigator, target=("cases.case", str(case.pk)), case=case)

    [entry] = audit_log()
    assert (entry.actor, entry.actor_country) == ("mx.investigator", "MX")
    assert (entry.case_id, entry.case_country) == (str(case.pk), "GT")
    assert entry.readers == "GT,MX"


def test_values_no_database_or_encoder_can_store_are_made_safe_at_record_time(db, audit_log):
    from audit import verification

    audit.record(
        "case.view",
        "bad\x00actor",
        target=("x" * 100, "\ud800"),
        note="nul\x00 and lone \udc80 surrogate",
        huge=2**70,
        ratio=0.5,
        tags={"b", "a"},
    )

    [entry] = audit_log()
    assert entry.actor == "bad\ufffdactor"
    assert entry.target_type == "x" * 64
    assert entry.target_id == "\ufffd"
    assert entry.details == {
        "note": "nul\ufffd and lone \ufffd surrogate",
        "huge": str(2**70),
        "ratio": "0.5",
        "tags": ["a", "b"],
    }
    assert verification.verify_chain().ok


def test_record_unless_found_writes_the_rows_record_would_only_when_nothing_is_found(db):
    from django.db import connection

    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    rows = audit.outbox_rows("lookup.search", "alice", identifier_type="email",
                             blind_index="0" * 64, own_matches=0)
    audit.record("lookup.search", "alice", identifier_type="email", blind_index="0" * 64,
                 own_matches=0)
    recorded = OutboxEvent.objects.get()
    query = f"SELECT id FROM {table} WHERE id = %s"  # noqa: S608 (a table name)

    # Something found (the row record() wrote): its rows come back, nothing is written.
    assert audit.record_unless_found(query, [recorded.id], rows) == [(recorded.id,)]
    assert OutboxEvent.objects.count() == 1
    # Nothing found: the same event as record()'s, once.
    assert audit.record_unless_found(query, [-1], rows) == []
    first, second = OutboxEvent.objects.order_by("id")
    assert second.event == first.event

    with pytest.raises(Boom), transaction.atomic():  # inside a transaction: part of it
        audit.record_unless_found(query, [-1], rows)
        raise Boom
    assert OutboxEvent.objects.count() == 2
