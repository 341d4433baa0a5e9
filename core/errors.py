"""The project's own domain errors, independent of DRF and of pages.

Services and selectors raise Django's `PermissionDenied` (403: seen but not allowed),
`Http404` (unseen, missing or malformed: existence never leaks) and `ValidationError` (bad
input, a dict naming each field), or one of the errors below. The API's exception handler
(workinggroup/exceptions.py) maps every one of them to JSON once; the pages' handler maps
the same errors to the site's error pages. Both audit refusals the same way.

Messages are translatable (`gettext_lazy`): they are shown to members in their language.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the project's errors: an HTTP status and a message for the member."""

    status = 400
    code = "error"

    def __init__(self, message="", **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra  # more JSON fields for the API answer (e.g. {"status": "approved"})

    def __str__(self):
        return str(self.message)


class Conflict(DomainError):
    """The object is not in a state that allows this step (409); names its current state."""

    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many requests (429); `retry_after` seconds until the next one is allowed."""

    status = 429
    code = "rate_limited"

    def __init__(self, message="", *, retry_after: int = 60, **extra):
        super().__init__(message, **extra)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A service the step needs cannot be reached (503); try again after `retry_after`."""

    status = 503
    code = "unavailable"

    def __init__(self, message="", *, retry_after: int = 5, **extra):
        super().__init__(message, **extra)
        self.retry_after = retry_after


class InsufficientStorage(DomainError):
    """The file store has no room for the upload (507); nothing was stored."""

    status = 507
    code = "insufficient_storage"
