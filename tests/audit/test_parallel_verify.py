"""verify_chain(jobs=N) splits the walk between processes and answers exactly as one walk does.

The entries must be committed for the other processes to read them, so these tests are
transactional (PostgreSQL); below MIN_ENTRIES_PER_JOB the walk stays in one process, so the
tests lower it to split 40 entries three ways: (0, 13], (13, 26], (26, 40].
"""

import concurrent.futures

import pytest
from django.db import connection

import audit
from audit import triggers, verification
from audit.drain import drain_outbox
from audit.models import AuditEntry
from tests.audit.conftest import sql


@pytest.fixture
def forty_committed(postgres, django_db_serialized_rollback, transactional_db, settings,
                    monkeypatch):
    settings.AUDIT_CHECKPOINT_EVERY = 10
    for i in range(40):
        audit.record("case.view", "alice", n=i)  # autocommit: each its own transaction
    drain_outbox()  # whatever the on-commit drains left
    assert AuditEntry.objects.count() == 40
    monkeypatch.setattr(verification, "MIN_ENTRIES_PER_JOB", 5)
    pools = []

    class CountingPool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(verification, "ProcessPoolExecutor", CountingPool)
    return pools


@pytest.fixture
def tampering():
    """Lift the append-only triggers (only them: the tampering below keeps every row's columns
    and body consistent, as the constraint demands) and put them back afterwards."""
    triggers.drop(connection)
    yield
    triggers.install(connection)


def test_three_processes_verify_the_chain_as_one_walk_does(forty_committed):
    result = verification.verify_chain(jobs=3)

    assert forty_committed == [3]
    assert (result.ok, result.entries_checked, result.last_verified_checkpoint) == (True, 40, 40)
    assert result == verification.verify_chain(jobs=1) and forty_committed == [3]


def test_a_rewrite_in_the_last_range_is_named_with_the_entries_before_it(
    forty_committed, tampering
):
    entry = AuditEntry.objects.get(seq=31)
    sql("UPDATE audit_auditentry SET actor = 'mallory', body = %s WHERE seq = 31",
        [entry.body.replace('"actor":"alice"', '"actor":"mallory"')])

    result = verification.verify_chain(jobs=3)

    assert forty_committed == [3]
    assert (result.ok, result.first_bad_seq, result.entries_checked) == (False, 31, 30)
    assert result.reason == "#31: its content no longer matches its hash"
    assert result.last_verified_checkpoint == 30


def test_a_deleted_entry_at_the_end_of_a_range_is_a_gap_at_its_seq(forty_committed, tampering):
    sql("DELETE FROM audit_auditentry WHERE seq = 13")

    result = verification.verify_chain(jobs=3)

    assert (result.ok, result.first_bad_seq, result.entries_checked) == (False, 13, 12)
    assert result.reason == "#13 is missing (the next entry is #14)"


def test_the_earliest_problem_wins_whichever_process_finds_it(forty_committed, tampering):
    sql("DELETE FROM audit_auditentry WHERE seq = 35")
    entry = AuditEntry.objects.get(seq=20)
    sql("UPDATE audit_auditentry SET actor = 'mallory', body = %s WHERE seq = 20",
        [entry.body.replace('"actor":"alice"', '"actor":"mallory"')])

    result = verification.verify_chain(jobs=3)

    assert (result.first_bad_seq, result.entries_checked) == (20, 19)
    assert result.reason == "#20: its content no longer matches its hash"


def test_inside_a_transaction_the_walk_stays_in_this_process(db, drain, monkeypatch):
    for i in range(12):
        audit.record("case.view", "alice", n=i)
    drain()
    monkeypatch.setattr(verification, "MIN_ENTRIES_PER_JOB", 2)
    monkeypatch.setattr(verification, "ProcessPoolExecutor", None)  # would fail if used

    result = verification.verify_chain(jobs=4)

    assert (result.ok, result.entries_checked) == (True, 12)
