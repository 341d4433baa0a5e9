"""Request-wide sign-in rules: session limits, MFA before anything else, and no-store.

Order in settings.MIDDLEWARE: NoStoreMiddleware high up (so redirects and refusals made
below carry the header too); SessionLimitsMiddleware and MfaRequiredMiddleware after
django-otp's OTPMiddleware and the audit context, so their events carry ip and request id.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from workinggroup.signin import mfa, services

# What a session that passed the password step but not the TOTP step may reach.
OPEN_TO_UNVERIFIED = {
    "signin:login",
    "signin:verify",
    "signin:enrol",
    "signin:logout",
    "set_language",
}


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer Django makes (API, pages, sign-in).

    Static files are served by WhiteNoise before this runs and keep their caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response


class SessionLimitsMiddleware:
    """30 minutes idle and 12 hours absolute, checked on every request with a session.

    A session without its MemberSession record (ended by sign-out, an administrator, a
    disabled account or a password change elsewhere) is signed out here as well.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key_before = request.session.session_key
        if request.user.is_authenticated:
            now = timezone.now()
            row = services.current_session(request)
            reason = "ended" if row is None else row.ended_by_limits(now)
            if reason:
                services.session_expire(request=request, row=row, reason=reason)
            else:
                services.session_touch(row, now)
        response = self.get_response(request)
        services.session_sync_key(request, key_before)
        return response


class MfaRequiredMiddleware:
    """A session that has not passed the TOTP step reaches only the sign-in steps.

    Pages redirect to the MFA step (or to enrolment when the member has no device yet);
    the API answers 401 JSON. Requests carrying an Authorization header go on to DRF, whose
    session authentication ignores unverified sessions anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._open(request):
            if is_api(request):
                if "HTTP_AUTHORIZATION" not in request.META:
                    return self._api_refusal()
            else:
                return self._to_mfa_step(request, user)
        return self.get_response(request)

    @staticmethod
    def _open(request) -> bool:
        if request.path_info.startswith(settings.STATIC_URL):
            return True
        try:
            return resolve(request.path_info).view_name in OPEN_TO_UNVERIFIED
        except Resolver404:
            return False

    @staticmethod
    def _api_refusal():
        response = JsonResponse(
            {"detail": "Two-factor verification required: finish signing in first."},
            status=401,
        )
        response["WWW-Authenticate"] = "Token"
        return response

    @staticmethod
    def _to_mfa_step(request, user):
        step = "signin:verify" if mfa.has_device(user) else "signin:enrol"
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return HttpResponseRedirect(reverse(step) + (f"?{query}" if query else ""))
