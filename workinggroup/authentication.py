"""API token authentication: `Authorization: Token <key>`, looked up by its hash."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

import audit
from workinggroup.models import ApiToken, hash_token


class TokenAuthentication(authentication.BaseAuthentication):
    """Accepts only unexpired, unrevoked tokens of active members; anything else is 401."""

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
        if token is None or not token.is_usable(timezone.now()) or not token.user.is_active:
            reason = "unknown" if token is None else "expired, revoked or member disabled"
            audit.record("auth.token_rejected", token.user if token else None,
                         outcome="denied", reason=reason)
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes `Authorization: Token <key>` in the OpenAPI schema."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`; tokens expire (default 8 hours)."}
