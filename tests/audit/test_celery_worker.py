"""A real Celery worker on Redis chains 1,000 events from concurrent writers as seq 1..1000."""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections, transaction

import audit
from audit import verification
from audit.models import AuditEntry, OutboxEvent
from workinggroup.celery import app

WRITERS, EVENTS_EACH = 8, 125


RAN = []  # (task name, thread name) of every task the worker finished


def _close_worker_connections(task=None, **kwargs):
    RAN.append((task.name, threading.current_thread().name))
    connections.close_all()  # the worker thread's connection must not outlive the test


# Transactional tests here restore the seeded countries and groups the way tests/sharing's do
# (serialized rollback), so the flush after each leaves nothing for post_migrate to half-make.
@pytest.fixture
def real_worker(postgres, django_db_serialized_rollback, transactional_db, redis_url, settings):
    assert settings.BROKER_CONFIGURED and app.conf.broker_url == redis_url
    app.conf.task_always_eager = False
    RAN.clear()
    task_postrun.connect(_close_worker_connections)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(_close_worker_connections)


def test_a_thousand_events_from_concurrent_writers_chain_without_gaps(real_worker):
    errors, barrier = [], threading.Barrier(WRITERS)

    def writer(number):
        try:
            barrier.wait()
            for i in range(EVENTS_EACH):
                with transaction.atomic():  # one transaction per event, as a request does
                    audit.record("case.view", f"writer-{number}", n=i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=writer, args=(n,), name=f"writer-{n}") for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    deadline = time.monotonic() + 30
    while AuditEntry.objects.count() < WRITERS * EVENTS_EACH and time.monotonic() < deadline:
        time.sleep(0.05)

    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EVENTS_EACH + 1))
    assert OutboxEvent.objects.count() == 0
    per_writer = sorted(
        AuditEntry.objects.values_list("actor", "details__n").order_by("actor", "details__n")
    )
    assert per_writer == [(f"writer-{w}", i) for w in range(WRITERS) for i in range(EVENTS_EACH)]
    result = verification.verify_chain()
    assert (result.ok, result.entries_checked) == (True, WRITERS * EVENTS_EACH)
    # Drained by the worker's thread, in far fewer tasks than events (one pending at a time).
    # (and the checkpoint note queued when the log crossed AUDIT_NOTE_EVERY entries)
    assert {name for name, _ in RAN} - {"audit.witness_checkpoint"} == {"audit.drain_outbox"}
    assert not any(thread.startswith("writer-") for _, thread in RAN)
    assert 1 <= len(RAN) < WRITERS * EVENTS_EACH / 2
