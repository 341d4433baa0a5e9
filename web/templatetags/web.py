"""Template filters of the pages: names of closed lists in the member's language."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext

from sharing.models import ShareOrigin, ShareScope, ShareStatus
from web import labels

register = template.Library()


@register.filter
def country_name(country):
    return labels.country_name(country)


@register.filter
def waited(since):
    """How long something has waited: "less than a minute" rather than "0 minutes"."""
    if since is None:
        return ""
    if timezone.now() - since < dt.timedelta(minutes=1):
        return gettext("less than a minute")
    return timesince(since)


@register.filter
def scope_label(scope):
    return ShareScope(scope).label if scope in ShareScope.values else scope


@register.filter
def share_status_label(status):
    return ShareStatus(status).label if status in ShareStatus.values else status


@register.filter
def origin_label(origin):
    return ShareOrigin(origin).label if origin in ShareOrigin.values else origin


@register.filter
def identifier_type_label(kind):
    return labels.IDENTIFIER_TYPE_LABELS.get(kind, kind)


@register.filter
def code_meaning(label):
    """"H1: not for judicial proceedings ..." -> "not for judicial proceedings ...": the
    meaning of a coded choice, for a page that shows the code itself beside it."""
    return str(label).partition(": ")[2] or label


@register.simple_tag
def approval_progress(share_request, approvals=None):
    """"Approved by us.liaison, needs one more": who approved an undecided request and how
    many approvals it still lacks (the request's `approvals_needed()`, its own rule). Owner
    pages only: a partner's page is never given the approvals."""
    if "approvals" in getattr(share_request, "owner_withheld", ()):
        return ""  # withheld from this member by the selector
    if approvals is None:
        approvals = share_request.approvals.all()
    given = len(approvals)
    missing = max(share_request.approvals_needed() - given, 0)
    if not given:
        return ngettext("Needs %(count)s approval.",
                        "Needs %(count)s approvals, each by a different liaison.",
                        missing) % {"count": missing}
    names = ", ".join(a.liaison.get_username() for a in approvals)
    return ngettext("Approved by %(names)s, needs one more.",
                    "Approved by %(names)s, needs %(count)s more.",
                    missing) % {"names": names, "count": missing}


@register.filter
def approved_by(share_request, user):
    """Whether this member is among the request's (prefetched) approvers: a fact the inbox
    states beside the approve button; whether a new approval is accepted is the service's."""
    if "approvals" in getattr(share_request, "owner_withheld", ()):
        return False
    return any(a.liaison_id == user.pk for a in share_request.approvals.all())


@register.filter
def renewable_by(share_request, user):
    """Whether to offer "Ask to renew" on this share: the request's own rule."""
    return share_request.can_be_renewed_by(user)
