"""A member's own account pages: overview, password, API tokens, active sessions.

Every view needs an MFA-verified session (the middleware already enforces it; the
decorator says so again where the view is).
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from workinggroup import members
from workinggroup.models import ApiToken
from workinggroup.signin import services
from workinggroup.signin.forms import TokenCreateForm
from workinggroup.signin.models import MemberSession


def verified_member_required(view):
    """Signed in and past the TOTP step, or off to the step that is missing."""

    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_verified():
            return redirect("signin:verify")
        return view(request, *args, **kwargs)

    return wrapper


@verified_member_required
def home(request):
    """Who am I, and links to everything a member manages for themselves."""
    return render(request, "account/home.html", {"member": request.user})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@verified_member_required
def password(request):
    """Change the password: the other sessions end, this one continues under a new key."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_change(request=request, form=form)
        messages.success(request, _("Your password has been changed. Other sessions ended."))
        return redirect("signin:account")
    return render(request, "account/password.html", {"form": form})


@verified_member_required
def tokens(request):
    """List, create and revoke API tokens; a new token is shown once, on this answer only."""
    form = TokenCreateForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, key = members.token_issue(
                user=request.user, actor=request.user, hours=form.cleaned_data["hours"],
                name=form.cleaned_data["name"] or _("created on the web"),
            )
        except members.MemberError as exc:
            form.add_error(None, str(exc))
        else:
            created = {"token": token, "key": key}
            form = TokenCreateForm()
    now = timezone.now()
    rows = [
        {"token": token, "usable": token.is_usable(now)}
        for token in ApiToken.objects.filter(user=request.user).order_by("-created_at")[:50]
    ]
    context = {"form": form, "created": created, "rows": rows}
    return render(request, "account/tokens.html", context)


@require_POST
@verified_member_required
def token_revoke(request, token_id):
    """Revoke one of the member's own tokens (someone else's answers 404)."""
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    members.token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token has been revoked."))
    return redirect("signin:tokens")


@verified_member_required
def sessions(request):
    """The member's active sessions, this one marked; any of them can be ended."""
    now = timezone.now()
    current = services.current_session(request)
    rows = [
        {"session": row, "current": current is not None and row.pk == current.pk}
        for row in MemberSession.objects.filter(user=request.user).order_by("-last_seen")
        if not row.ended_by_limits(now)
    ]
    return render(request, "account/sessions.html", {"rows": rows})


@require_POST
@verified_member_required
def session_end(request, session_id):
    """End one of the member's sessions; ending this one signs this browser out."""
    row = get_object_or_404(MemberSession, pk=session_id, user=request.user)
    current = services.current_session(request)
    services.session_end(member_session=row, actor=request.user)
    if current is not None and current.pk == row.pk:
        return redirect(reverse("signin:login") + "?signed_out=1")
    messages.success(request, _("The session has been ended."))
    return redirect("signin:sessions")
