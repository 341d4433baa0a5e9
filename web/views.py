"""The frame: where a member lands after signing in, and the navigation their roles open.

Every page view is wrapped in `member_page`: signed in, past the TOTP step, answers never
cached. Who may see what is the selectors' answer; views only call them.
"""

from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases import permissions
from core.errors import Conflict
from workinggroup.signin.account import verified_member_required


def member_page(view):
    """A page for signed-in, MFA-verified members (the sign-in steps otherwise)."""

    @functools.wraps(view)
    def page(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Exception as exc:
            raise _as_django_error(exc) from None

    return verified_member_required(page)


def _as_django_error(exc: Exception) -> Exception:
    """Refusals some services still raise as the API framework's exceptions, as Django's.

    Interim, until every service raises core.errors / Django's errors (issue 12).
    """
    status = getattr(exc, "status_code", None)
    if not type(exc).__module__.startswith("rest_framework") or status not in (400, 403, 404):
        return exc
    if status == 404:
        return Http404()
    detail = getattr(exc, "detail", "")
    if status == 400:
        if isinstance(detail, dict):
            return ValidationError({k: [str(m) for m in (v if isinstance(v, list) else [v])]
                                    for k, v in detail.items()})
        return ValidationError([str(m) for m in detail] if isinstance(detail, list)
                               else str(detail))
    return PermissionDenied(str(detail))


def call_service(form, service, **arguments):
    """(result, problem, status): the service's result, or its refusal for the page.

    A ValidationError goes beside the form's fields (status 400); a state conflict is a
    message on the page (409); anything else is raised on to the error pages.
    """
    try:
        return service(**arguments), "", 200
    except Exception as exc:
        error = _as_django_error(exc)
        if isinstance(error, ValidationError):
            from web.forms import add_service_errors

            add_service_errors(form, error)
            return None, "", 400
        if isinstance(error, Conflict) or getattr(error, "status_code", None) == 409:
            message = getattr(error, "message", None) or getattr(error, "reason", None)
            return None, str(message or error), 409
        raise error from None


def _reads_cases(user) -> bool:
    return permissions.can_read_cases(user)


def navigation(user) -> list[tuple[str, str]]:
    """(url, label) of the sections the member's roles open, in the order shown."""
    if not getattr(user, "is_authenticated", False):
        return []
    entries = []
    if _reads_cases(user):
        entries.append((reverse("web:case_list"), _("Cases")))
    if user.is_investigator:
        entries.append((reverse("web:lookup"), _("Lookup")))
    if _reads_cases(user):
        entries.append((reverse("web:requests"), _("Requests")))
    return entries


def frame(request) -> dict:
    """Context processor: the navigation entries of the signed-in member."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"navigation": []}
    current = request.path
    return {"navigation": [(url, label, current.startswith(url))
                           for url, label in navigation(user)]}


@member_page
def start(request):
    """The member's main page: an investigator's country's cases; others their account."""
    if request.user.is_investigator:
        return redirect("web:case_list")
    return redirect("signin:account")
