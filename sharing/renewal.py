"""Renewal of a share before it expires: a new request linked to the grant it renews.

Approved, the renewal is an active share of its own from that moment, so the recipient's
grants (the union of its active shares) never lapse at the old expiry; denied or undecided,
the grant expires as before. Revoking the grant cancels an undecided renewal
(sharing.services.share_request_revoke).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from sharing import centre, notifications
from sharing.models import ShareRequest
from sharing.policy import approvals_required
from sharing.steps import (
    ShareStateConflict,
    invalid,
    lock,
    notify_on_commit,
    record_refusal,
    refuse_second_undecided,
)


def share_request_renew(*, requester, grant, justification, expires_at) -> ShareRequest:
    """Ask to renew an approved share before it expires: a new request for the same case,
    recipient, scope and named subjects, linked to the grant (`renews`), with a new
    justification and an expiry bounded from now as a new request's is, later than the
    grant's. It needs the approval policy in force now; approved, the grant continues
    without a gap (the renewal's own share is active from its approval)."""
    try:
        return _renew(requester=requester, grant=grant, justification=justification,
                      expires_at=expires_at)
    except (PermissionDenied, ShareStateConflict) as exc:
        record_refusal("share.renew", requester, grant, exc)
        raise


def _renew(*, requester, grant, justification, expires_at) -> ShareRequest:
    justification = (justification or "").strip()
    with transaction.atomic():
        grant = lock(grant)
        case = grant.case
        if not grant.may_ask_renewal(requester):
            raise PermissionDenied(_("only an investigator of the owner or the recipient "
                                     "country asks to renew a share"))
        now = timezone.now()
        if not grant.is_active(now):
            raise ShareStateConflict(
                _("the share request is %(status)s; only an approved share that has not "
                  "expired can be renewed") % {"status": grant.get_status_display().lower()},
                grant.status,
            )
        if not justification:
            raise invalid("justification", _("This field is required."))
        problem = ShareRequest.expiry_error(expires_at, now)
        if not problem and expires_at <= grant.expires_at:
            problem = _("must be later than the share's current expiry (%(date)s)") % {
                "date": f"{grant.expires_at:%Y-%m-%d %H:%M} UTC"}
        if problem:
            raise invalid("expires_at", problem)
        refuse_second_undecided(case, grant.recipient_country_id)
        renewal = ShareRequest.objects.create(
            case=case, recipient_country_id=grant.recipient_country_id, scope=grant.scope,
            justification=justification, origin=grant.origin, requested_by=requester,
            created_at=now, expires_at=expires_at, renews=grant,
            approvals_required=approvals_required(case.owner_country_id, case.handling_code),
            handling_code_at_open=case.handling_code,
        )
        subjects = list(grant.named_subjects.all())
        renewal.named_subjects.set(subjects)
        audit.record(
            "share.renew", requester, target=renewal, case=case,
            recipient_country=grant.recipient_country_id, scope=grant.scope,
            origin=grant.origin, expires_at=expires_at, renews=str(grant.pk),
            named_subjects=sorted(str(s.pk) for s in subjects),
            approvals_required=renewal.approvals_required,
        )
        centre.record_share_step(centre.OPENED, renewal, requester)
        notify_on_commit(notifications.OPENED, renewal)
    return renewal
