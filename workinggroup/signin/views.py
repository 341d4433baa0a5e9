"""The sign-in steps: password, then TOTP (or enrolment on first sign-in), and sign-out."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.hashers import make_password
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.i18n import set_language as django_set_language

from workinggroup import members
from workinggroup.models import User
from workinggroup.signin import lockout, mfa, services
from workinggroup.signin.forms import CodeForm, SignInForm


def next_url(request) -> str:
    """Where to go after signing in: a local path only, never another site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _step(name: str, next_path: str) -> str:
    return reverse(name) + (f"?{urlencode({'next': next_path})}" if next_path else "")


def _done(next_path: str, member=None):
    """Where a sign-in ends; a member who chose a language with the switcher gets it back
    (the language cookie), whatever this browser's own language."""
    response = redirect(next_path or settings.LOGIN_REDIRECT_URL)
    if member is not None and member.language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, member.language,
            max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN, secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def failed_signin_page(request):
    """The one answer to a wrong password, an unknown username and a locked account."""
    context = {"form": SignInForm(), "failed": True, "next": next_url(request)}
    return render(request, "signin/login.html", context)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signin(request):
    """Step one: username and password. Success leads to the MFA step, nowhere else."""
    next_path = next_url(request)
    if request.user.is_authenticated and request.user.is_verified():
        return _done(next_path)
    if request.method != "POST":
        context = {"form": SignInForm(), "next": next_path,
                   "signed_out": "signed_out" in request.GET}
        return render(request, "signin/login.html", context)

    form = SignInForm(request.POST)
    if not form.is_valid():
        return failed_signin_page(request)
    username, password = form.cleaned_data["username"], form.cleaned_data["password"]
    was_locked = lockout.is_locked(username)
    user = authenticate(request, username=username, password=password)
    if user is None:
        if was_locked:
            make_password(password)  # axes refused before any hashing: keep the timing alike
        member = User.objects.filter(username=username).first()
        services.signin_failed(request=request, username=username, user=member,
                               was_locked=was_locked)
        return failed_signin_page(request)
    if request.user.is_authenticated:
        auth_logout(request)  # a half-finished sign-in of someone else ends here
    auth_login(request, user)  # a new session key; the receiver records the session
    services.password_verified(request=request, user=user)
    return redirect(_step("signin:verify" if mfa.has_device(user) else "signin:enrol", next_path))


def _code_error(reason: str) -> str:
    if reason == "replayed":
        return _("That code has been used already. Wait for the next code and enter it.")
    if reason == "throttled":
        return _("Too many wrong codes. Wait a minute, then enter the current code.")
    return _("That code is not right. Enter the code your app shows now.")


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def verify(request):
    """Step two: the TOTP code. Replayed codes are refused; every failure counts."""
    user, next_path = request.user, next_url(request)
    if not user.is_authenticated:
        return redirect(_step("signin:login", next_path))
    if user.is_verified():
        return _done(next_path)
    device = mfa.confirmed_device(user)
    if device is None:
        return redirect(_step("signin:enrol", next_path))
    error = ""
    if request.method == "POST":
        ok, reason = mfa.check_code(device, request.POST.get("code", ""))
        if ok:
            services.signin_completed(request=request, device=device)
            return _done(next_path, user)
        if services.mfa_failed(request=request, reason=reason):
            return failed_signin_page(request)
        error = _code_error(reason)
    context = {"form": CodeForm(), "error": error, "next": next_path}
    return render(request, "signin/verify.html", context)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def enrol(request):
    """First sign-in (or after a reset): set up an authenticator app, then confirm a code."""
    user, next_path = request.user, next_url(request)
    if not user.is_authenticated:
        return redirect(_step("signin:login", next_path))
    if user.is_verified():
        return _done(next_path)
    if mfa.has_device(user):
        return redirect(_step("signin:verify", next_path))
    device = mfa.pending_device(request, user)
    error = ""
    if request.method == "POST":
        ok, reason = mfa.check_code(device, request.POST.get("code", ""))
        if ok:
            services.signin_completed(request=request, device=device, enrolled=True)
            return _done(next_path, user)
        if services.mfa_failed(request=request, reason=reason, enrolling=True):
            return failed_signin_page(request)
        error = _code_error(reason)
    svg = mfa.qr_svg(device, title=_("QR code for your authenticator app"))
    context = {
        "form": CodeForm(),
        "error": error,
        "next": next_path,
        # segno draws the SVG from the otpauth URI and escapes the title: no markup of ours.
        "qr_svg": mark_safe(svg),  # nosec B308 B703
        "manual_key": mfa.manual_key(device),
        "issuer": settings.OTP_TOTP_ISSUER,
        "username": user.get_username(),
    }
    return render(request, "signin/enrol.html", context)


@csrf_protect
@never_cache
def signout(request):
    """GET asks to confirm; POST ends every session and token of the member."""
    if request.method == "POST":
        if request.user.is_authenticated:
            services.sign_out(request=request)
        return redirect(reverse("signin:login") + "?signed_out=1")
    if not request.user.is_authenticated:
        return redirect("signin:login")
    return render(request, "signin/logout.html")


def set_language(request):
    """Django's language switcher; a signed-in member's choice is also kept on the member, so
    mails and tasks, which have no request to ask, speak it too."""
    response = django_set_language(request)
    user, code = request.user, request.POST.get("language", "")
    verified = getattr(user, "is_verified", None)
    if (request.method == "POST" and user.is_authenticated and verified is not None
            and verified() and code in dict(settings.LANGUAGES)):
        members.member_language_set(member=user, language=code)
    return response
