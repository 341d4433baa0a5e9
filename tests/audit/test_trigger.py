"""After each commit at most one drain is queued: a pending drain will see the new event."""

import pytest

from audit import drain, recording, tasks
from workinggroup.celery import app


@pytest.fixture
def queued(settings, monkeypatch):
    settings.BROKER_CONFIGURED = True
    app.conf.task_always_eager = False
    calls = []
    monkeypatch.setattr(
        tasks.drain_outbox, "apply_async", lambda *a, **kw: calls.append(kw.get("countdown"))
    )
    return calls


def test_a_commit_queues_one_drain_a_little_later(db, queued):
    recording.trigger_drain()
    assert recording.flush_drain_requests()
    assert queued == [recording.DRAIN_COALESCE_SECONDS]


def test_commits_while_a_drain_is_pending_queue_nothing_more(db, queued):
    for _ in range(20):
        recording.trigger_drain()
        assert recording.flush_drain_requests()
    assert len(queued) == 1


def test_a_drain_that_starts_lets_the_next_commit_queue_another(db, queued, monkeypatch):
    monkeypatch.setattr(drain, "drain_outbox", lambda **kw: 0)
    recording.trigger_drain()
    assert recording.flush_drain_requests()
    tasks.drain_outbox.run()  # the queued drain starts: it clears the flag before reading
    recording.trigger_drain()
    assert recording.flush_drain_requests()
    assert len(queued) == 2


def test_a_commit_does_not_wait_for_redis(db, settings, monkeypatch):
    import threading
    import time

    settings.BROKER_CONFIGURED = True
    app.conf.task_always_eager = False
    release = threading.Event()
    monkeypatch.setattr(recording, "request_drain", lambda: release.wait(5))

    started = time.monotonic()
    for _ in range(100):
        recording.trigger_drain()
    assert time.monotonic() - started < 1  # the requests wait in the trigger thread
    assert not recording.flush_drain_requests(timeout=0.05)
    release.set()
    assert recording.flush_drain_requests()
