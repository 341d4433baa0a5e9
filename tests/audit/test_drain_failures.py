"""A drain killed mid-batch, or two drains at once, lose and duplicate nothing."""

import threading

import pytest
from django.db import connection, connections

from audit import drain, recording, verification
from audit.models import AuditEntry, OutboxEvent


def chained_seqs():
    return list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))


def recorded_numbers():
    return sorted(AuditEntry.objects.values_list("details__n", flat=True))


def test_a_drain_dying_after_the_append_loses_and_duplicates_nothing(db, record_events):
    record_events(25)

    with pytest.raises(RuntimeError, match="simulated worker death"):
        drain._drain_batch(10, fail_after_append=True)

    assert AuditEntry.objects.count() == 0
    assert OutboxEvent.objects.count() == 25
    assert drain.drain_outbox(batch_size=10) == 25
    assert chained_seqs() == list(range(1, 26))
    assert recorded_numbers() == list(range(25))
    assert OutboxEvent.objects.count() == 0
    assert verification.verify_chain().ok


def test_a_drain_dying_in_a_later_batch_keeps_the_batches_before_it(db, record_events):
    record_events(30)
    assert drain.drain_outbox(batch_size=10, max_batches=1) == 10

    with pytest.raises(RuntimeError):
        drain._drain_batch(10, fail_after_append=True)

    assert chained_seqs() == list(range(1, 11))
    assert drain.drain_outbox(batch_size=10) == 20
    assert recorded_numbers() == list(range(30))
    assert verification.verify_chain().ok


def test_a_second_drain_of_an_empty_outbox_does_nothing(db, record_events, drain):
    record_events(3)
    assert drain() == 3
    assert drain() == 0
    assert chained_seqs() == [1, 2, 3]


def test_two_drains_at_once_chain_every_event_once(
    postgres, django_db_serialized_rollback, transactional_db, record_events, monkeypatch
):
    monkeypatch.setattr(recording, "trigger_drain", lambda: None)  # the events wait for us
    record_events(300)
    barrier, errors, drained = threading.Barrier(2), [], []

    def drain_now():
        try:
            barrier.wait()
            drained.append(drain.drain_outbox(batch_size=40))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain_now) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(drained) == 300
    assert chained_seqs() == list(range(1, 301))
    assert recorded_numbers() == list(range(300))
    assert OutboxEvent.objects.count() == 0
    assert verification.verify_chain().ok
    assert connection.vendor == "postgresql"
