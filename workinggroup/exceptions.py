"""API errors are JSON `{"detail": ...}`; validation errors also name each bad field.

Services and selectors raise Django's PermissionDenied / Http404 / ValidationError or the
project's own errors (core/errors.py); `describe` says once what each of them means as an
answer (status, message, extra fields, headers). This handler renders that as JSON for the
API; web/middleware.py renders the same description as a page.

This is also the one place where refusals are audited: every 404 (unseen) and 403
(seen but not allowed) answer to a signed-in member becomes an `access.denied` entry. The
handler runs after the failing service's transaction has rolled back, and views do not run
inside ATOMIC_REQUESTS, so the denial's record commits on its own.
"""

from __future__ import annotations

import dataclasses

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

import audit
from audit import context
from audit.actions import Outcome
from core.errors import DomainError


@dataclasses.dataclass
class Answer:
    """What a domain error means as an answer, for the API and the pages alike."""

    status: int
    detail: str
    extra: dict = dataclasses.field(default_factory=dict)
    headers: dict = dataclasses.field(default_factory=dict)
    errors: object = None  # a ValidationError's {field: [messages]}


def validation_errors(exc: DjangoValidationError):
    """A Django ValidationError as {field: [messages]} (or a list when it names no field)."""
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return [str(m) for m in exc.messages]


def describe(exc) -> Answer | None:
    """The answer a domain error stands for, or None for anything else (a bug: a 500)."""
    if isinstance(exc, DomainError):
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
        extra = {key: str(value) for key, value in exc.extra.items()}
        return Answer(exc.status, str(exc), extra, headers)
    if isinstance(exc, Http404):
        return Answer(404, str(exc) if exc.args and str(exc) else _("Not found."))
    if isinstance(exc, PermissionDenied):
        return Answer(
            403, str(exc) if exc.args and str(exc) else
            _("You do not have permission to perform this action."),
        )
    if isinstance(exc, DjangoValidationError):
        errors = validation_errors(exc)
        return Answer(400, "; ".join(_flatten(errors)), errors=errors)
    return None


def _flatten(errors, prefix=""):
    """{"a": {"b": ["msg"]}} -> ["a.b: msg"], so `detail` names every bad field."""
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            # A nested serializer's non-field errors still belong to the field it sits in.
            merged = key in ("non_field_errors", "__all__")
            name = prefix.rstrip(".") if merged else f"{prefix}{key}"
            out += _flatten(value, f"{name}." if name else "")
        return out
    if isinstance(errors, list):
        if all(not isinstance(e, (dict, list)) for e in errors):
            field = prefix.rstrip(".")
            return [f"{field}: {e}" if field else str(e) for e in errors]
        out = []
        for index, value in enumerate(errors):
            if value:
                out += _flatten(value, f"{prefix}{index}.")
        return out
    field = prefix.rstrip(".")
    return [f"{field}: {errors}" if field else str(errors)]


def record_denial(request, status: int, detail: str = "") -> None:
    """Audit a refused request as `access.denied`: who asked for what, and the answer.

    When the caller had been allowed to see the case the request was about (a 403 on a
    shared case), the entry names that case, so its owner country's auditors see the attempt.
    A case the caller could not see is never named: that would record its existence and owner
    where the caller's own auditors read.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    audit.record(
        "access.denied",
        user,
        target=("request", request.path[:64]),
        case=context.case_seen(),
        outcome=Outcome.DENIED,
        method=request.method,
        path=request.path,
        status=status,
        reason=str(detail)[:200],
    )


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
        response.data = {"detail": "; ".join(_flatten(exc.detail)), "errors": exc.detail}
    elif not (isinstance(response.data, dict) and "detail" in response.data):
        response.data = {"detail": response.data}
    if response.status_code in (403, 404):
        record_denial(context["request"], response.status_code, response.data.get("detail", ""))
    return response
