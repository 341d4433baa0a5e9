"""One row per signed-in browser session, so a member's sessions can be listed and ended."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MemberSession(models.Model):
    """A member's browser session: the authority on whether that session is still alive.

    The session data carries this row's id (it survives the key cycling at login, at the MFA
    step and at a password change); a session whose row is gone is treated as signed out.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_sessions"
    )
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("member session")

    def __str__(self):
        return f"{self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"

    def ended_by_limits(self, at=None) -> str:
        """'idle' or 'absolute' when the session is past a limit at that moment, else ''."""
        at = at or timezone.now()
        if (at - self.created_at).total_seconds() > settings.SESSION_ABSOLUTE_SECONDS:
            return "absolute"
        if (at - self.last_seen).total_seconds() > settings.SESSION_IDLE_SECONDS:
            return "idle"
        return ""
