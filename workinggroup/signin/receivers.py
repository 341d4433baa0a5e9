"""Session records follow Django's login() and logout(), whichever code calls them.

These receivers only keep MemberSession rows in step; auditing is explicit in services.py.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from workinggroup.signin import services


@receiver(user_logged_in, dispatch_uid="signin-session-started")
def _session_started(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        services.session_started(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="signin-session-ended")
def _session_ended(sender, request, user, **kwargs):
    if request is not None:
        services.session_forget(request)
