"""The lockout policy on top of django-axes, by username only.

Five consecutive failed sign-in steps (a wrong password, or a wrong or replayed code at the
MFA step) lock the username from any address until an administrator releases it. "Within
15 minutes": the count starts over when 15 minutes pass without a failure, as Windows'
"reset account lockout counter after" does. So five failures inside any 15 minutes always
lock, and slow guessing (one try every 14 minutes) locks as well. A lock never expires by
time (AXES_COOLOFF_TIME is None); a full sign-in (password and code) resets the count.
"""

import datetime as dt

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SIGNIN_FAILURE_WINDOW_MINUTES)


def failure_count(username: str) -> int:
    """Failures counted against this username now, from any address."""
    total = AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))
    return total["n"] or 0


def is_locked(username: str) -> bool:
    return failure_count(username) >= settings.AXES_FAILURE_LIMIT


def forget_stale_failures(username: str) -> int:
    """Start the count over when the last failure is older than the window (never a lock)."""
    with transaction.atomic():
        attempts = AccessAttempt.objects.select_for_update().filter(username=username)
        seen = attempts.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
        if not seen["n"] or seen["n"] >= settings.AXES_FAILURE_LIMIT:
            return 0
        if seen["last"] > timezone.now() - _window():
            return 0
        deleted, _ = attempts.delete()
        return deleted


def reset(username: str) -> int:
    """Clear the count and any lock of this username; returns how many records went."""
    deleted, _ = AccessAttempt.objects.filter(username=username).delete()
    return deleted


def count_failure(request, username: str) -> None:
    """Count a failed MFA step like a failed password: axes listens to this signal."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


class WindowedLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, plus the 15-minute window described above."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None:
            username = get_client_username(request, credentials)
            if username:
                forget_stale_failures(username)
        return super().user_login_failed(sender, credentials, request, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """Axes' answer to a locked account: the very page a wrong password gets.

    The sign-in views already render the failure page for a locked account, so the response
    passes through unchanged; answers to locked, unknown and wrong logins cannot differ.
    """
    if original_response is not None:
        return original_response
    from workinggroup.signin.views import failed_signin_page

    return failed_signin_page(request)
