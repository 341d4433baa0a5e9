"""The admin site behind the same sign-in: MFA-verified staff only, one login page."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse


class MemberAdminSite(admin.AdminSite):
    """Django admin that needs a verified session and signs in through /signin/."""

    def has_permission(self, request):
        verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and verified is not None and verified()

    def login(self, request, extra_context=None):
        # One sign-in page (with lockout and MFA) for everyone; admin's own form is unused.
        if request.user.is_authenticated and request.user.is_verified():
            raise PermissionDenied  # signed in, but not an administrator
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("signin:login"))

    def logout(self, request, extra_context=None):
        from workinggroup.signin.views import signout

        return signout(request)

    def password_change(self, request, extra_context=None):
        return redirect("signin:password")

    def password_change_done(self, request, extra_context=None):
        return redirect("signin:account")
