"""Failure answers for the whole site: JSON under /api/, the site's error pages elsewhere.

DRF views already answer their own errors as JSON (workinggroup.exceptions). What they never
see is answered here, by one middleware near the top of the stack:

- an exception nothing handled (a database that cannot be reached, a bug): under /api/ a
  JSON 503 (database) or 500 with `{"detail"}`, on pages templates/503.html or 500.html;
  never Django's debug page or a stack trace, whatever DEBUG says (settings turn on
  DEBUG_PROPAGATE_EXCEPTIONS so that every uncaught exception reaches this middleware
  instead of Django's technical 500 page);
- every other non-JSON error answer under /api/ (Django's HTML 404 with its URL list, a
  bare 405, the 400 of a suspicious request) becomes JSON `{"detail"}` with the same status;
  an unknown /api/ path is a 404 audited as `access.denied`, like every API refusal;
- a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a JSON 413 naming the limit (file
  uploads, streamed to storage, have their own limit: ATTACHMENT_MAX_BYTES);
- JSON nested too deeply for the parser is a 400, not a RecursionError (JSONParser below).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import parsers
from rest_framework.request import Request
from rest_framework.settings import api_settings

from workinggroup.refusals import record_denial

log = logging.getLogger("django.request")

# Errors that mean "the database cannot be reached now" (down, restarting, connection cut),
# as opposed to a bug: the answer is 503 with Retry-After, and the request may be retried.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
# Headers of an error answer that stay when its body is replaced by JSON.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def json_error(status: int, detail: str, **headers) -> JsonResponse:
    """`{"detail": ...}` with the status, never cached; 503s say when to retry."""
    response = JsonResponse({"detail": detail}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_page(request, status: int) -> HttpResponse:
    """templates/503.html or 500.html, rendered without touching the database.

    No context processors run (they would load the member and their messages from the
    database); the page gets only what it needs, the CSRF token of the language form
    included (it lives in a cookie).
    """
    template = get_template(f"{status}.html")
    html = template.render({"request": request, "csrf_token": get_token(request)})
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _body_limit_refusal(request):
    """A JSON 413 for a non-file body announcing more than DATA_UPLOAD_MAX_MEMORY_SIZE."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or request.method not in ("POST", "PUT", "PATCH"):
        return None
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return None  # file parts do not count; the form fields are checked by the parser
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= limit:
        return None
    return too_large(limit)


def too_large(limit) -> JsonResponse:
    return json_error(413, _("The request body is larger than the limit of %(limit)s bytes.")
                      % {"limit": limit})


class ErrorAnswersMiddleware:
    """Every error under /api/ as JSON; uncaught exceptions as 500/503 without a trace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = is_api(request)
        if api and (refusal := _body_limit_refusal(request)) is not None:
            return refusal
        try:
            response = self.get_response(request)
        except Exception as exc:  # DEBUG_PROPAGATE_EXCEPTIONS brings every one here
            return self.uncaught(request, exc)
        if api and response.status_code >= 400 and not _is_json(response):
            response = self._as_json(request, response)
        elif api and response.status_code == 503 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def process_exception(self, request, exc):
        """A view's body over DATA_UPLOAD_MAX_MEMORY_SIZE (form fields of a multipart)."""
        if isinstance(exc, RequestDataTooBig) and is_api(request):
            return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return None

    @staticmethod
    def uncaught(request, exc):
        if isinstance(exc, DATABASE_UNAVAILABLE):
            log.warning("database unavailable: %s %s: %s", request.method, request.path,
                        type(exc).__name__)
            status = 503
        else:
            log.error("Internal Server Error: %s", request.path, exc_info=exc)
            status = 500
        if is_api(request):
            detail = (
                _("The database cannot be reached just now; try again in a few seconds.")
                if status == 503
                else _("Internal error; it has been logged.")
            )
            return json_error(status, detail)
        return error_page(request, status)

    @staticmethod
    def _as_json(request, response):
        status = response.status_code
        if status == 404:
            detail = _("No API endpoint answers at this path.")
            _audit_refusal(request, detail)
        else:
            try:
                detail = HTTPStatus(status).phrase
            except ValueError:
                detail = _("The request was refused.")
        answer = json_error(status, detail)
        for name in KEPT_HEADERS:
            if response.has_header(name):
                answer[name] = response[name]
        return answer


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


def _api_user(request):
    """The member making the request, by session or by API token (no view ran to ask)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    try:
        return Request(request, authenticators=authenticators).user
    except drf_exceptions.APIException:
        return None  # a bad token: nobody to name


def _audit_refusal(request, detail: str) -> None:
    """An unknown /api/ path is refused like any other: audited as access.denied."""
    try:
        user = _api_user(request)
        if user is not None and user.is_authenticated:
            request.user = user
            record_denial(request, 404, detail)
    except DATABASE_UNAVAILABLE:
        log.warning("could not audit a refused request to %s: database unavailable",
                    request.path)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 to JSON nested too deeply for Python's decoder."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise drf_exceptions.ParseError(
                _("JSON parse error - the body is nested too deeply.")
            ) from None
