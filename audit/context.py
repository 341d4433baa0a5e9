"""Who is acting and from where: request id, client address and agent, or a system actor.

A small middleware fills this for requests; management commands and tasks name themselves
with `system_actor("manage.py rotate_keys")`. `audit.record` reads it.
"""

import contextlib
import contextvars
import re
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    system_actor: str = ""


_current = contextvars.ContextVar("audit_context", default=Context())  # noqa: B039 (frozen)
# Per request, the case the caller was allowed to see (cases.selectors.get_case_for notes it),
# so the record of a later refusal names it and the owner country's auditors see the attempt.
_seen = contextvars.ContextVar("audit_seen_case", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current() -> Context:
    return _current.get()


@contextlib.contextmanager
def system_actor(name: str):
    """Record events inside this block as done by a named system actor (a command, a task)."""
    token = _current.set(Context(request_id=uuid.uuid4().hex, system_actor=f"system:{name}"))
    try:
        yield
    finally:
        _current.reset(token)


def note_case_seen(case) -> None:
    """Remember, for this request only, a case its caller has been allowed to see."""
    holder = _seen.get()
    if holder is not None:
        holder["case"] = case


def case_seen():
    """The case this request's caller was last allowed to see, if any (never an unseen one)."""
    holder = _seen.get()
    return holder.get("case") if holder else None


def current_route() -> str | None:
    """The URL pattern this request matched (`api/v1/cases/<str:case_id>/shares/`), if any:
    what an entry for a reader who may not see the case shows instead of the path."""
    holder = _seen.get()
    match = getattr(holder.get("request"), "resolver_match", None) if holder else None
    return match.route if match is not None else None


class RequestContextMiddleware:
    """Gives each request an id (or keeps a well-formed X-Request-ID) for its audit events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = _current.set(
            Context(
                request_id=request_id,
                ip=request.META.get("REMOTE_ADDR"),
                user_agent=request.headers.get("User-Agent", "")[:200],
            )
        )
        seen = _seen.set({"request": request})
        try:
            response = self.get_response(request)
        finally:
            _seen.reset(seen)
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response
