"""API errors are JSON `{"detail": ...}`; validation errors also name each bad field."""

from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(errors, prefix=""):
    """{"a": {"b": ["msg"]}} -> ["a.b: msg"], so `detail` names every bad field."""
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            name = "" if key == "non_field_errors" else f"{prefix}{key}"
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


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "; ".join(_flatten(exc.detail)), "errors": exc.detail}
    elif not (isinstance(response.data, dict) and "detail" in response.data):
        response.data = {"detail": response.data}
    return response
