"""API errors are JSON `{"detail": ...}`; validation errors also name each bad field.

Services and selectors raise Django's PermissionDenied / Http404 / ValidationError or the
project's own errors (core/errors.py); `workinggroup.refusals.describe` says once what each
of them means as an answer (status, message, extra fields, headers). This handler renders
that as JSON for the API; web/middleware.py renders the same description as a page.

Refusals are audited here for the API (the pages' middleware does the same through the same
`record_denial`): every 404 (unseen) and 403 (seen but not allowed) answer to a signed-in
member becomes an `access.denied` entry. The handler runs after the failing service's
transaction has rolled back, and views do not run inside ATOMIC_REQUESTS, so the denial's
record commits on its own.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.errors import DomainError
from workinggroup.refusals import Answer, describe, flatten, record_denial

__all__ = ["exception_handler", "record_denial"]


def _domain_response(answer: Answer) -> Response:
    set_rollback()
    if answer.errors is not None:
        data = {"detail": answer.detail, "errors": answer.errors}
    else:
        data = {"detail": answer.detail, **answer.extra}
    return Response(data, status=answer.status, headers=answer.headers)


def exception_handler(exc, context):
    """DRF's handler for DRF's own errors; `describe` for Django's and the project's."""
    if isinstance(exc, (DomainError, DjangoValidationError)):
        response = _domain_response(describe(exc))
    else:
        response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "; ".join(flatten(exc.detail)), "errors": exc.detail}
    elif not (isinstance(response.data, dict) and "detail" in response.data):
        response.data = {"detail": response.data}
    if response.status_code in (403, 404):
        record_denial(context["request"], response.status_code, response.data.get("detail", ""))
    return response
