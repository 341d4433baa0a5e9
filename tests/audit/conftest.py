"""Helpers for the audit tests: events in bulk, a case stand-in, and lifting the triggers."""

import contextlib
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection, transaction

import audit
from audit import triggers


@pytest.fixture(autouse=True)
def _fresh_audit_flags(monkeypatch):
    """No drain flag, broker back-off or verified checkpoint left over from another test."""
    from django.core.cache import cache

    from audit import recording, verification

    monkeypatch.setattr(recording, "_broker_down_until", 0.0)
    try:
        cache.delete_many([recording.DRAIN_PENDING_KEY, verification.VERIFIED_CHECKPOINT_KEY])
    except Exception:  # a test that points the cache at a dead server cleans up after itself
        pass
    yield
    assert recording.flush_drain_requests(timeout=10), "a drain request outlived its test"


def a_case(country: str):
    """Something that looks like a case to audit.record: a UUID pk and an owner country."""
    return SimpleNamespace(pk=uuid.uuid4(), owner_country_id=country)


@pytest.fixture
def stand_ins_shared(monkeypatch):
    """Every country sees the `a_case` stand-ins (as if shared with all), so an event naming
    one is recorded once, readable by the actor's and the case's countries; real cases still
    get the cases app's answer."""
    from audit import visibility

    real = list(visibility._question)

    def question(case, country):
        if isinstance(case, SimpleNamespace):
            return True
        return bool(real) and real[0](case, country)

    monkeypatch.setattr(visibility, "_question", [question])


@pytest.fixture
def record_events():
    """record_events(n, **details) -> n committed events (each its own transaction)."""

    def record(n, action="case.view", actor="someone", **details):
        for i in range(n):
            with transaction.atomic():
                audit.record(action, actor, target=("test", str(i)), n=i, **details)

    return record


@contextlib.contextmanager
def triggers_lifted():
    """Drop the append-only triggers (and on PostgreSQL the constraint that ties the columns to
    the hashed body) for a tamper test, as an intruder with the power to do so would.

    Afterwards the triggers are back and the constraint holds for new rows only (NOT VALID:
    the rows the test tampered with would fail it), so verification compares the old rows.
    Inside a `db` test all of it is also undone by the test's rollback (DDL is transactional
    on PostgreSQL and SQLite).
    """
    triggers.drop(connection)
    triggers.drop_body_constraint(connection)
    try:
        yield
    finally:
        triggers.install(connection)
        triggers.add_body_constraint(connection, validate=False)


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount
