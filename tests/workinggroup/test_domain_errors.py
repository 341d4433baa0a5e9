"""Domain errors are mapped once for the API (JSON) and once for pages (the site's error
pages), and refusals are audited as access.denied the same way through both doors.

A test-only URL map puts one page view and one API view over the same failing "service".
"""

import sys

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.urls import include, path
from rest_framework.decorators import api_view

from core.errors import Conflict, InsufficientStorage, RateLimited, Unavailable
from workinggroup import urls as site_urls

ERRORS = {
    "forbidden": lambda: PermissionDenied("only investigators do this"),
    "unseen": lambda: Http404(),
    "invalid": lambda: ValidationError({"title": ["too long"], "status": ["unknown"]}),
    "conflict": lambda: Conflict("the request is approved", status="approved"),
    "limited": lambda: RateLimited("slow down", retry_after=42),
    "unavailable": lambda: Unavailable("the limiter is away", retry_after=7),
    "full": lambda: InsufficientStorage("no room"),
}


def service(kind):
    raise ERRORS[kind]()


def page(request, kind):
    service(kind)
    return HttpResponse("not reached")


@api_view(["GET"])
def endpoint(request, kind):
    service(kind)


urlpatterns = [
    path("api/v1/errors/<str:kind>/", endpoint),
    path("errors/<str:kind>/", page),
    path("", include(site_urls.urlpatterns[:1] + site_urls.urlpatterns[-4:])),
]


@pytest.fixture(autouse=True)
def _error_urls(settings):
    settings.ROOT_URLCONF = sys.modules[__name__]
    settings.DEBUG = False


API_ANSWERS = {
    "forbidden": (403, {"detail": "only investigators do this"}),
    "unseen": (404, {"detail": "Not found."}),
    "invalid": (400, {"detail": "title: too long; status: unknown",
                      "errors": {"title": ["too long"], "status": ["unknown"]}}),
    "conflict": (409, {"detail": "the request is approved", "status": "approved"}),
    "limited": (429, {"detail": "slow down"}),
    "unavailable": (503, {"detail": "the limiter is away"}),
    "full": (507, {"detail": "no room"}),
}


@pytest.mark.parametrize("kind", list(API_ANSWERS))
def test_the_api_maps_each_domain_error_once(kind, api, us_investigator, audit_log):
    response = api(us_investigator).get(f"/api/v1/errors/{kind}/")
    status, body = API_ANSWERS[kind]
    assert (response.status_code, response.json()) == (status, body)
    assert response.get("Retry-After") == {"limited": "42", "unavailable": "7"}.get(kind)
    denied = audit_log(action="access.denied")
    if status in (403, 404):
        [entry] = denied
        assert entry.details["status"] == status and entry.outcome == "denied"
        assert entry.details["path"] == f"/api/v1/errors/{kind}/"
    else:
        assert denied == []


PAGE_ANSWERS = {
    "forbidden": (403, "You cannot do this"),
    "unseen": (404, "Page not found"),
    "conflict": (409, "This step is no longer possible"),
    "limited": (429, "Too many requests"),
}


@pytest.mark.parametrize("kind", list(PAGE_ANSWERS))
def test_pages_map_the_same_errors_to_the_sites_pages(kind, web, us_investigator, audit_log):
    response = web(us_investigator).get(f"/errors/{kind}/")
    status, heading = PAGE_ANSWERS[kind]
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert heading in response.content.decode()
    assert [t.name for t in response.templates][0] == f"{status}.html"
    if kind == "limited":
        assert response["Retry-After"] == "42"
    denied = audit_log(action="access.denied")
    if status in (403, 404):
        [entry] = denied
        assert (entry.actor, entry.outcome) == ("us.investigator", "denied")
        assert (entry.details["method"], entry.details["path"], entry.details["status"]) == (
            "GET", f"/errors/{kind}/", status)
    else:
        assert denied == []


@pytest.mark.parametrize("kind, status", [("invalid", 400), ("unavailable", 503),
                                          ("full", 507)])
def test_errors_without_a_page_of_their_own_keep_their_status(kind, status, web,
                                                              us_investigator):
    response = web(us_investigator).get(f"/errors/{kind}/")
    assert response.status_code == status
    if kind == "invalid" and response["Content-Type"].startswith("text/plain"):
        assert response.content.decode() == "title: too long; status: unknown"
    if kind == "unavailable":
        assert response["Retry-After"] == "7"


def test_a_page_refusal_is_audited_exactly_as_the_api_refusal(web, api, us_investigator,
                                                             audit_log):
    web(us_investigator).get("/errors/forbidden/")
    api(us_investigator).get("/api/v1/errors/forbidden/")
    page_entry, api_entry = audit_log(action="access.denied")
    keys = ("actor", "actor_country", "action", "outcome", "case_id", "target_type")
    assert [getattr(page_entry, k) for k in keys] == [getattr(api_entry, k) for k in keys]
    assert page_entry.details["reason"] == api_entry.details["reason"] == (
        "only investigators do this")


def test_the_error_pages_speak_spanish(web, us_investigator):
    client = web(us_investigator)
    response = client.get("/errors/forbidden/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 403
    assert "No puede hacer esto" in response.content.decode()


def test_other_exceptions_are_not_taken_for_domain_errors(web, us_investigator):
    ERRORS["bug"] = lambda: RuntimeError("a bug")
    try:
        with pytest.raises(RuntimeError):
            web(us_investigator).get("/errors/bug/")
    finally:
        del ERRORS["bug"]
