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


def test_healthz_reports_database_and_outbox(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["audit_outbox"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_the_outbox_lags(db, client, settings):
    import datetime as dt

    from django.utils import timezone

    OutboxEvent.objects.create(
        occurred_at=timezone.now() - dt.timedelta(minutes=6), event={"action": "auth.login"}
    )
    settings.AUDIT_OUTBOX_LAG_ALERT_SECONDS = 300
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["audit_outbox"].startswith("error: oldest event waiting")


def test_healthz_is_503_when_the_broker_is_down(db, client, settings):
    settings.BROKER_CONFIGURED = True
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error:")


@pytest.mark.services
def test_healthz_checks_the_real_broker(db, client, settings, redis_url):
    settings.BROKER_CONFIGURED = True
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


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
