"""With the broker (and its cache) unreachable, recording never fails or hangs; the events wait
in the outbox and are all chained once a drain runs again."""

import time

import pytest
from django.db import transaction

import audit
from audit import drain, recording, tasks, verification
from audit.models import AuditEntry, OutboxEvent
from workinggroup.celery import app

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _reset_broker_pools():
    # What Celery does after a fork: the next publish connects with the current broker_url.
    app._pool = None
    if "amqp" in app.__dict__:
        app.__dict__["amqp"]._producer_pool = None


@pytest.fixture
def broker_down(settings, monkeypatch):
    previous = app.conf.broker_url
    settings.BROKER_CONFIGURED = True
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    app.conf.task_always_eager = False
    app.conf.broker_url = CLOSED
    _reset_broker_pools()
    yield
    app.conf.broker_url = previous
    _reset_broker_pools()


def record_each_in_its_own_transaction(n):
    slowest = 0.0
    for i in range(n):
        started = time.monotonic()
        with transaction.atomic():
            audit.record("case.view", "alice", n=i)
        slowest = max(slowest, time.monotonic() - started)
    return slowest


def test_200_events_recorded_with_the_broker_down_are_chained_once_it_is_back(
    db, broker_down, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        slowest = record_each_in_its_own_transaction(200)

    assert len(callbacks) == 200  # every commit tried to trigger a drain
    assert recording.flush_drain_requests()
    assert time.monotonic() - started < 10
    assert slowest < 3  # a commit never waits on the broker
    assert OutboxEvent.objects.count() == 200
    assert AuditEntry.objects.count() == 0
    assert "audit drain not triggered" in caplog.text

    tasks.drain_outbox.apply()  # a worker (or beat's sweep) runs again

    assert OutboxEvent.objects.count() == 0
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, 201))
    assert sorted(AuditEntry.objects.values_list("details__n", flat=True)) == list(range(200))
    assert verification.verify_chain().ok


def test_requests_succeed_with_the_broker_down(db, broker_down, api, oversight_auditor):
    for _ in range(5):
        assert api(oversight_auditor).get("/api/v1/audit/entries/").status_code == 200
    assert OutboxEvent.objects.count() == 5
    drain.drain_outbox()
    assert AuditEntry.objects.filter(action="audit.view").count() == 5


def test_a_failed_publish_clears_the_pending_flag(db, settings, monkeypatch):
    from django.core.cache import cache

    settings.BROKER_CONFIGURED = True
    app.conf.task_always_eager = False

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.drain_outbox, "apply_async", refuse)
    recording.request_drain()

    assert cache.get(recording.DRAIN_PENDING_KEY) is None  # the next commit may try again
    assert recording._broker_down_until > time.monotonic()

