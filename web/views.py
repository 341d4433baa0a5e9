"""The frame: where a member lands after signing in, and the navigation their roles open.

Every page view is wrapped in `member_page`: signed in, past the TOTP step, answers never
cached. Who may see what is the selectors' answer; views only call them.
"""

from __future__ import annotations

import functools

from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audit.selectors import can_read_audit
from cases import selectors
from core.errors import Conflict
from sharing import centre
from workinggroup.models import Role
from workinggroup.signin.account import verified_member_required


def member_page(view):
    """A page for signed-in, MFA-verified members (the sign-in steps otherwise)."""
    return functools.wraps(view)(verified_member_required(view))


def call_service(form, service, **arguments):
    """(result, problem, status): the service's result, or its refusal for the page.

    A ValidationError goes beside the form's fields (status 400); a state conflict is a
    message on the page (409); anything else is raised on to the error pages.
    """
    from web.forms import add_service_errors

    try:
        return service(**arguments), "", 200
    except ValidationError as error:
        add_service_errors(form, error)
        return None, "", 400
    except Conflict as error:
        return None, str(error.message), 409


def _reads_cases(user) -> bool:
    return selectors.reads_cases(user)


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
    if user.is_liaison and user.country_id:
        entries.append((reverse("web:liaison_inbox"), _("Inbox")))
        entries.append((reverse("web:liaison_grants"), _("Grants")))
        entries.append((reverse("web:liaison_hits"), _("Hits on our cases")))
    if _reads_cases(user):
        entries.append((reverse("web:plan_list"), _("Joint operations")))
    if user.country_id and (user.is_investigator or user.is_liaison):
        unread = centre.unread_count(user)
        label = _("Notifications (%(count)s unread)") % {"count": unread} if unread else _(
            "Notifications")
        entries.append((reverse("web:notifications"), label))
    if can_read_audit(user):
        entries.append((reverse("web:audit_log"), _("Audit log")))
        entries.append((reverse("web:audit_verify"), _("Verify the log")))
    return entries


def frame(request) -> dict:
    """Context processor: the navigation entries of the signed-in member."""
    user = getattr(request, "user", None)
    verified = getattr(user, "is_verified", None)
    if user is None or not user.is_authenticated or verified is None or not verified():
        return {"navigation": []}
    entries = navigation(user)
    # The entry whose address is the longest prefix of this page's is the current one
    # (/liaison/grants/ is Grants, not also the inbox at /liaison/).
    matching = [url for url, _label in entries if request.path.startswith(url)]
    current = max(matching, key=len, default=None)
    # The entry whose address is the longest start of this page's is current (one at most:
    # /audit/verify/ is the Verify entry's, not the audit log's too).
    current = max((url for url, _label in entries if request.path.startswith(url)),
                  key=len, default=None)
    return {"navigation": [(url, label, url == current) for url, label in entries]}


@member_page
def start(request):
    """The member's main page: an investigator's country's cases, a liaison's inbox, an
    auditor's audit log, a statistics member's dashboard; others their account. A member
    who is both an investigator and a liaison lands on the cases (their own work first)."""
    if request.user.is_investigator:
        return redirect("web:case_list")
    if request.user.is_liaison and request.user.country_id:
        return redirect("web:liaison_inbox")
    if can_read_audit(request.user):
        return redirect("web:audit_log")
    if request.user.has_role(Role.STATISTICS) and request.user.country_id:
        return redirect("web:dashboard")  # where their country's figures are read and imported
    return redirect("signin:account")
