"""Entries and checkpoints are append-only: the model refuses, and so does the database."""

import pytest
from django.db import DatabaseError, connection, transaction

import audit
from audit import checkpoints
from audit.models import AppendOnlyError, AuditCheckpoint, AuditEntry
from tests.audit.conftest import sql, triggers_lifted


@pytest.fixture
def chained(db, drain):
    for i in range(3):
        audit.record("case.view", "alice", n=i)
    drain()
    checkpoints.checkpoint_create()
    assert AuditEntry.objects.count() == 3 and AuditCheckpoint.objects.count() == 1


def refused(statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement)


@pytest.mark.parametrize("table", ["audit_auditentry", "audit_auditcheckpoint"])
def test_sql_update_of_a_row_is_refused(chained, table):
    refused(f"UPDATE {table} SET seq = seq + 100")
    assert sql(f"SELECT 1 FROM {table} WHERE seq > 100") in (0, -1)
    assert AuditEntry.objects.order_by("seq").values_list("seq", flat=True)[0] == 1


@pytest.mark.parametrize("table", ["audit_auditentry", "audit_auditcheckpoint"])
def test_sql_delete_of_a_row_is_refused(chained, table):
    refused(f"DELETE FROM {table} WHERE seq = 3")
    assert AuditEntry.objects.count() == 3
    assert AuditCheckpoint.objects.filter(seq=3).exists()


@pytest.mark.parametrize("table", ["audit_auditentry", "audit_auditcheckpoint"])
def test_sql_truncate_is_refused_on_postgresql(chained, postgres, table):
    refused(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.count() == 3
    assert AuditCheckpoint.objects.count() == 1


def test_the_model_refuses_update_and_delete(chained):
    entry = AuditEntry.objects.get(seq=1)
    entry.actor = "mallory"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=1).update(actor="mallory")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditCheckpoint.objects.all().delete()
    assert AuditEntry.objects.get(seq=1).actor == "alice"


def test_appending_still_works_with_the_triggers_in_place(chained, drain):
    audit.record("case.view", "bob")
    assert drain() == 1
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]


def test_the_triggers_can_be_lifted_only_by_ddl(chained):
    with triggers_lifted():
        assert sql("UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 2") == 1
    refused("UPDATE audit_auditentry SET actor = 'eve' WHERE seq = 2")
    assert AuditEntry.objects.get(seq=2).actor == "mallory"
    assert connection.vendor in ("postgresql", "sqlite")
