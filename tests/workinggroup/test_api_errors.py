"""Failure answers: JSON for every error under /api/, the site's 500/503 pages elsewhere, and
never a stack trace whatever DEBUG says."""

import json

import pytest
from django.db import OperationalError
from django.test import Client
from rest_framework.test import APIClient

from workinggroup import members

pytestmark = pytest.mark.django_db


def _json(response):
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) >= {"detail"} and isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
def database_down(monkeypatch):
    """Every query fails as it does when PostgreSQL is stopped (the connection is refused)."""
    from django.db.backends import utils

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused: is the server running?")

    monkeypatch.setattr(utils.CursorWrapper, "execute", refuse)
    monkeypatch.setattr(utils.CursorWrapper, "executemany", refuse)


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_is_a_json_404_and_audited(debug, settings, api, us_investigator,
                                                       audit_log):
    settings.DEBUG = debug
    response = api(us_investigator).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    body = _json(response)
    assert "admin" not in json.dumps(body) and "urlpatterns" not in response.content.decode()
    [entry] = audit_log(action="access.denied")
    assert entry.actor == "us.investigator" and entry.outcome == "denied"
    assert entry.details["status"] == 404 and entry.details["path"] == "/api/v1/no-such-thing/"


def test_a_dotted_share_request_id_is_a_json_404_audited_for_a_token_caller(us_liaison,
                                                                            audit_log):
    _, key = members.token_issue(user=us_liaison, actor=us_liaison, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/share-requests/1.2/")
    assert response.status_code == 404
    _json(response)
    [entry] = audit_log(action="access.denied")
    assert entry.actor == "us.liaison" and entry.details["path"] == "/api/v1/share-requests/1.2/"


def test_anonymous_unknown_paths_are_404_json_and_not_audited(audit_log):
    response = Client().get("/api/v2/")
    assert response.status_code == 404
    _json(response)
    assert audit_log(action="access.denied") == []


def test_a_body_over_the_memory_limit_is_a_json_413_naming_it(settings, api, us_investigator):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"identifiers": ["x" * 2000]})
    response = api(us_investigator).post("/api/v1/lookup/", data=body,
                                         content_type="application/json")
    assert response.status_code == 413
    assert "1000 bytes" in _json(response)["detail"]


def test_json_nested_5000_deep_is_a_400(api, us_investigator):
    body = "[" * 5000 + "]" * 5000
    response = api(us_investigator).post("/api/v1/lookup/", data=body,
                                         content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in _json(response)["detail"]


@pytest.mark.parametrize("debug", [True, False])
def test_database_unreachable_is_a_json_503_with_retry_after(debug, settings, api,
                                                             us_investigator, database_down):
    settings.DEBUG = debug
    client = api(us_investigator)
    client.raise_request_exception = False
    response = client.get("/api/v1/cases/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = _json(response)
    assert "database" in body["detail"] and "Traceback" not in response.content.decode()


@pytest.mark.parametrize("debug", [True, False])
def test_database_unreachable_is_the_sites_503_page(debug, settings, database_down):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = "a-session-the-database-would-hold"
    response = client.get("/account/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "Service unavailable" in html and 'href="/static/css/site.css"' in html
    assert "Traceback" not in html and "OperationalError" not in html


@pytest.mark.parametrize("debug", [True, False])
def test_a_bug_is_a_json_500_without_a_trace(debug, settings, api, us_investigator,
                                             monkeypatch):
    from workinggroup import api as wg_api

    def broken(self, instance):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(wg_api.MeSerializer, "to_representation", broken)
    settings.DEBUG = debug
    client = api(us_investigator)
    client.raise_request_exception = False
    response = client.get("/api/v1/me/")
    assert response.status_code == 500
    assert "secret internals" not in _json(response)["detail"]
    assert "Traceback" not in response.content.decode()


def test_a_bug_on_a_page_is_the_sites_500_page(settings, monkeypatch, us_investigator, web):
    from django.contrib.auth import get_user_model

    client = web(us_investigator)
    client.raise_request_exception = False

    def broken(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(get_user_model(), "get_username", broken)
    response = client.get("/account/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Server error" in html and "secret internals" not in html


@pytest.mark.parametrize(
    ("method", "path", "extra", "status"),
    [
        ("get", "/api/v1/me/", {}, 401),  # no credentials
        ("delete", "/api/v1/me/", {"auth": True}, 405),
        ("get", "/api/v1/me/", {"auth": True, "HTTP_ACCEPT": "text/csv"}, 406),
        ("post", "/api/v1/lookup/", {"auth": True, "data": "a=b",
                                     "content_type": "text/plain"}, 415),
        ("post", "/api/v1/lookup/", {"auth": True, "data": "{", "content_type":
                                     "application/json"}, 400),
    ],
)
def test_every_api_error_status_is_json(method, path, extra, status, api, us_investigator):
    extra = dict(extra)
    client = api(us_investigator if extra.pop("auth", False) else None)
    response = getattr(client, method)(path, **extra)
    assert response.status_code == status
    _json(response)
