"""The approval policy: how many distinct liaisons of the owning country approve a share.

Per owner country and handling code, set by an administrator (sharing.services
.share_policy_update, audited as `share.policy_update`); without a row, the default: one
approval for H0 and H1, two (the four-eyes principle) for H2 and H3.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

import audit
from cases.models import HandlingCode
from sharing.models import MAX_APPROVALS, SharePolicy

DEFAULT_APPROVALS = {HandlingCode.H0: 1, HandlingCode.H1: 1, HandlingCode.H2: 2,
                     HandlingCode.H3: 2}
_ORDER = list(HandlingCode.values)


def handling_rank(handling_code: str) -> int:
    """H0 < H1 < H2 < H3: a higher code restricts more."""
    return _ORDER.index(handling_code)


def approvals_required(country_id, handling_code: str) -> int:
    """The approvals a new share of a case with this code, owned by this country, needs."""
    return _in_force(country_id, handling_code)


def _in_force(country_id, handling_code: str) -> int:
    row = (SharePolicy.objects.filter(owner_country_id=getattr(country_id, "pk", country_id),
                                      handling_code=handling_code)
           .values_list("approvals_required", flat=True).first())
    return row if row is not None else DEFAULT_APPROVALS[HandlingCode(handling_code)]


def approvals_error(value) -> str:
    """Why `value` is not an acceptable number of approvals, or "" (the admin form and the
    service ask the same rule the database constraint holds)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return _("a whole number")
    if value < 1:
        return _("at least 1: every share needs a liaison's approval")
    if value > MAX_APPROVALS:
        return _("at most %(max)d") % {"max": MAX_APPROVALS}
    return ""


def share_policy_update(*, actor, owner_country, handling_code: str,
                        approvals_required: int) -> SharePolicy:
    """Set how many liaisons of a country approve its shares of one handling code; audited
    as `share.policy_update` (read by that country's auditors and oversight). Requests
    already opened keep what they needed when opened."""
    problem = approvals_error(approvals_required)
    if problem:
        raise ValidationError({"approvals_required": [problem]})
    if handling_code not in HandlingCode.values:
        raise ValidationError({"handling_code": [_("not a handling code")]})
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(_("only an administrator sets the approval policy"))
    code = getattr(owner_country, "pk", owner_country)
    with transaction.atomic():
        before = _in_force(code, handling_code)
        policy, _created = SharePolicy.objects.select_for_update().update_or_create(
            owner_country_id=code, handling_code=handling_code,
            defaults={"approvals_required": approvals_required},
        )
        audit.record("share.policy_update", actor, target=policy, readers=[code],
                      owner_country=code, handling_code=handling_code,
                      approvals_required=approvals_required, previous=before)
    return policy
