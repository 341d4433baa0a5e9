"""Health, the schema and its docs page, and the database the suite runs on."""

import os

import pytest
from django.db import connection

from audit.models import OutboxEvent


def test_the_suite_runs_on_postgresql_when_services_are_required(db):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor in {"postgresql", "sqlite"}


def test_healthz_reports_every_component(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    components = body["components"]
    assert set(components) == {"database", "broker", "audit", "witnesses"}
    assert components["witnesses"]["detail"].startswith("unwitnessed")
    assert components["database"]["state"] == "ok"
    audit = components["audit"]
    assert audit["state"] == "ok" and audit["pending"] == 0 and audit["lag_seconds"] == 0
    assert set(audit) >= {"seconds_since_last_drain", "last_verification", "last_checkpoint"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_live_and_ready(db, client):
    assert client.get("/healthz/live").json() == {"status": "alive"}
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def _waiting_event(seconds_ago):
    """An audit event that has waited in the outbox for `seconds_ago`."""
    import datetime as dt

    from django.utils import timezone

    OutboxEvent.objects.create(
        occurred_at=timezone.now() - dt.timedelta(seconds=seconds_ago),
        event={"action": "auth.login"},
    )


def test_healthz_reports_a_drain_stuck_for_60_seconds_and_alerts(transactional_db, client,
                                                                  caplog):
    _waiting_event(59)
    response = client.get("/healthz")
    assert response.status_code == 200, "59 s is within the limit"
    OutboxEvent.objects.all().delete()
    _waiting_event(61)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["audit"]
    assert body["components"]["audit"]["state"] == "stuck"
    assert body["components"]["audit"]["pending"] == 1
    assert body["components"]["audit"]["seconds_since_last_drain"] is None  # never drained
    assert "AUDIT ALERT: audit drain stuck" in caplog.text
    # /healthz/ready is the load balancer's: the web process still serves.
    assert client.get("/healthz/ready").status_code == 200


def test_a_drain_that_just_ran_is_not_stuck(transactional_db, client, settings, drain):
    import datetime as dt

    from freezegun import freeze_time

    _waiting_event(0)
    drain()  # the worker drained a moment ago ...
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)):
        _waiting_event(0)  # ... and a new event is 0 s old, the last drain 61 s
        assert client.get("/healthz").json()["components"]["audit"]["state"] == "ok"
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=125)):
        audit = client.get("/healthz").json()["components"]["audit"]
        assert audit["state"] == "stuck" and audit["seconds_since_last_drain"] >= 124


def test_healthz_is_503_when_the_outbox_lags_past_the_alert_limit(transactional_db, client,
                                                                  settings):
    settings.AUDIT_DRAIN_STUCK_SECONDS = 3600
    settings.AUDIT_OUTBOX_LAG_ALERT_SECONDS = 300
    _waiting_event(360)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["audit"]["state"] == "lagging"


def test_a_broker_down_fails_healthz_but_not_ready(db, client, settings):
    settings.BROKER_CONFIGURED = True
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert response.json()["components"]["broker"]["state"].startswith("error:")
    assert client.get("/healthz/ready").status_code == 200


@pytest.mark.services
def test_healthz_checks_the_real_broker(db, client, settings, redis_url):
    settings.BROKER_CONFIGURED = True
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["components"]["broker"]["state"] == "ok"


def test_schema_and_docs_are_served_locally_to_members(db, api, us_investigator):
    schema = api(us_investigator).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert schema.status_code == 200
    assert b"/api/v1/me/" in schema.content
    docs = api(us_investigator).get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_schema_needs_a_member(db, api):
    assert api(None).get("/api/schema/").status_code == 401
