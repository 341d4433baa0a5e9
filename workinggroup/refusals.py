"""What a domain error means as an answer, once, for the API and the pages alike.

Services and selectors raise Django's PermissionDenied / Http404 / ValidationError or the
project's own errors (core/errors.py). `describe` turns any of them into an `Answer` (status,
message, extra fields, headers); the API's handler (workinggroup/exceptions.py) renders it
as JSON and the pages' middleware (web/middleware.py) as the site's error page. Both audit
403 and 404 through `record_denial`. No DRF here: the pages must not depend on the API.
"""

from __future__ import annotations

import dataclasses

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _

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
        return Answer(400, "; ".join(flatten(errors)), errors=errors)
    return None


def flatten(errors, prefix=""):
    """{"a": {"b": ["msg"]}} -> ["a.b: msg"], so `detail` names every bad field."""
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            # A nested serializer's non-field errors still belong to the field it sits in.
            merged = key in ("non_field_errors", "__all__")
            name = prefix.rstrip(".") if merged else f"{prefix}{key}"
            out += flatten(value, f"{name}." if name else "")
        return out
    if isinstance(errors, list):
        if all(not isinstance(e, (dict, list)) for e in errors):
            field = prefix.rstrip(".")
            return [f"{field}: {e}" if field else str(e) for e in errors]
        out = []
        for index, value in enumerate(errors):
            if value:
                out += flatten(value, f"{prefix}{index}.")
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
