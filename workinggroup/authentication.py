"""API token authentication: `Authorization: Token <key>`, looked up by its hash."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

import audit
from workinggroup.models import ApiToken, hash_token


def _refusal(token, now) -> str:
    """Why a token cannot be used now, or "" when it can."""
    if token is None:
        return "unknown"
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    if token.is_idle(now):
        return "idle"
    if not token.user.is_active:
        return "member disabled"
    return ""


def _touch(token, now) -> None:
    """Note use for the idle limit; written at most once a minute to spare the database."""
    interval = settings.SESSION_ACTIVITY_WRITE_SECONDS
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= interval:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


class TokenAuthentication(authentication.BaseAuthentication):
    """Accepts only unexpired, unrevoked, recently used tokens of active members; else 401."""

    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token header: not ASCII.") from None
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_token(key))
            .first()
        )
        now = timezone.now()
        reason = _refusal(token, now)
        if reason:
            audit.record("auth.token_rejected", token.user if token else None,
                         outcome="denied", reason=reason)
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        _touch(token, now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes `Authorization: Token <key>` in the OpenAPI schema."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`; tokens expire (default 8 hours, at most 12) "
                               "and die after 30 minutes unused."}
