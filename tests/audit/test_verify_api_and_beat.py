"""GET /api/v1/audit/verify/, and the beat tasks that verify and watch the outbox."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

import audit
from audit import tasks, verification
from audit.models import OutboxEvent
from tests.audit.conftest import sql, triggers_lifted

URL = "/api/v1/audit/verify/"


@pytest.fixture
def chained(db, drain, settings):
    settings.AUDIT_CHECKPOINT_EVERY = 5
    for i in range(12):
        audit.record("case.view", "alice", n=i)
    drain(batch_size=3)  # checkpoints at 6 and 12


def test_verify_answers_ok_and_entries_checked(chained, api, us_auditor):
    response = api(us_auditor).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body.pop("witnessing")["status"] == "unwitnessed"  # test_witnessed_log.py: the rest
    assert body == {"ok": True, "entries_checked": 12, "first_bad_seq": None, "reason": ""}
    assert "no-store" in response["Cache-Control"]


def test_verify_names_the_first_bad_seq(chained, api, oversight_auditor):
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET outcome = 'denied' WHERE seq = 9")
    body = api(oversight_auditor).get(URL).json()
    assert (body["ok"], body["entries_checked"], body["first_bad_seq"]) == (False, 8, 9)


def test_verify_is_audited(chained, api, mx_auditor, audit_log):
    api(mx_auditor).get(URL)
    [entry] = audit_log(action="audit.verify")
    assert (entry.actor, entry.actor_country, entry.outcome) == ("mx.auditor", "MX", "success")
    assert entry.details == {"entries_checked": 12, "first_bad_seq": None, "reason": ""}


def test_verify_refuses_non_auditors(chained, api, gt_investigator):
    assert api(gt_investigator).get(URL).status_code == 403


def test_beat_verification_resumes_after_the_last_verified_checkpoint(chained, drain):
    first = verification.chain_verify_recent()
    assert (first.ok, first.entries_checked, first.last_verified_checkpoint) == (True, 12, 12)
    for i in range(3):
        audit.record("case.view", "bob", n=i)
    drain()

    second = verification.chain_verify_recent()

    assert (second.ok, second.started_after, second.entries_checked) == (True, 12, 3)


def test_beat_verification_logs_an_alert_and_records_a_failure(chained, caplog, audit_log):
    with triggers_lifted():
        sql("DELETE FROM audit_auditentry WHERE seq = 3")

    with caplog.at_level(logging.ERROR, logger="audit.verification"):
        assert tasks.verify_recent() is False

    [alert] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert alert.getMessage().startswith(
        "AUDIT ALERT: the audit chain is broken (entries after #0): first bad seq #3"
    )
    [entry] = audit_log(action="audit.verify")
    assert (entry.actor, entry.outcome) == ("system:task audit.verify_recent", "failure")


def test_beat_verification_notices_a_rewrite_before_its_starting_checkpoint(chained):
    assert verification.chain_verify_recent().last_verified_checkpoint == 12
    with triggers_lifted():
        sql("UPDATE audit_auditentry SET hash = %s WHERE seq = 6", ["f" * 64])

    result = verification.chain_verify_recent()

    assert (result.ok, result.first_bad_seq) == (False, 6)


def test_a_quiet_chain_verified_by_beat_records_nothing(chained, audit_log):
    tasks.verify_recent()
    assert audit_log(action="audit.verify") == []


def test_outbox_lag_past_the_threshold_logs_an_alert(db, settings, caplog):
    settings.AUDIT_OUTBOX_LAG_ALERT_SECONDS = 300
    OutboxEvent.objects.create(
        occurred_at=timezone.now() - dt.timedelta(minutes=7), event={"action": "case.view"}
    )
    with caplog.at_level(logging.ERROR, logger="audit.verification"):
        lag = tasks.watch_outbox()
    assert 419 < lag < 430
    [alert] = caplog.records
    assert alert.levelno == logging.ERROR
    assert alert.getMessage().startswith("AUDIT ALERT: the oldest undrained audit event is 42")


def test_a_fresh_outbox_raises_no_alert(db, settings, caplog):
    settings.AUDIT_OUTBOX_LAG_ALERT_SECONDS = 300
    OutboxEvent.objects.create(event={"action": "case.view"})
    assert tasks.watch_outbox() is None
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_beat_schedule_runs_every_audit_task(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"audit.drain_outbox", "audit.checkpoint", "audit.verify_recent",
            "audit.watch_outbox"} <= tasks_scheduled
