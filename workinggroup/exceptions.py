"""API errors are JSON `{"detail": ...}`; validation errors also name each bad field.

This is also the one place where refusals are audited: every 404 (unseen) and 403
(seen but not allowed) answer to a signed-in member becomes an `access.denied` entry. The
handler runs after the failing service's transaction has rolled back, and views do not run
inside ATOMIC_REQUESTS, so the denial's record commits on its own.
"""

from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

import audit
from audit import context
from audit.actions import Outcome


def _flatten(errors, prefix=""):
    """{"a": {"b": ["msg"]}} -> ["a.b: msg"], so `detail` names every bad field."""
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            # A nested serializer's non-field errors still belong to the field it sits in.
            name = prefix.rstrip(".") if key == "non_field_errors" else f"{prefix}{key}"
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


def exception_handler(exc, context):
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
