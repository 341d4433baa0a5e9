"""What every share step shares: its conflict error, the lock order, the grants' recomputation,
the audit of a refusal and the mail on commit (sharing.services and sharing.renewal use them).

Lock order, everywhere: the case row (FOR NO KEY UPDATE), then the request row.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

import audit
from audit.actions import Outcome
from cases import permissions
from cases.models import Case
from core.errors import Conflict
from sharing import notifications, selectors
from sharing.models import ShareRequest, undecided_requests


class ShareStateConflict(Conflict):
    """The request is not in a state that allows this step (409, naming the current state)."""

    def __init__(self, message, status: str):
        super().__init__(message, status=status)


def refuse_second_undecided(case, recipient_country_id: str) -> None:
    """One undecided request per case and recipient: a second one is a conflict (409) naming
    the request that waits. Called under the case's lock, so two openings queue here."""
    open_one = undecided_requests(case).filter(recipient_country=recipient_country_id).first()
    if open_one is not None:
        raise ShareStateConflict(
            _("a request for this case to %(country)s is already pending (request "
              "%(id)s, opened %(date)s); wait for its decision") % {
                "country": recipient_country_id, "id": open_one.pk,
                "date": f"{open_one.created_at:%Y-%m-%d}"},
            open_one.status,
        )


def invalid(field: str, message) -> ValidationError:
    return ValidationError({field: [message]})


def record_refusal(action, actor, share_request_or_case, exc) -> None:
    """Audit a refused step after its transaction rolled back, naming the case it concerned."""
    if isinstance(share_request_or_case, Case):
        target, case = share_request_or_case, share_request_or_case
    else:
        target, case = share_request_or_case, share_request_or_case.case
    outcome = Outcome.DENIED if isinstance(exc, PermissionDenied) else Outcome.FAILURE
    audit.record(action, actor, target=target, case=case, outcome=outcome,
                 reason=str(exc)[:200])


def lock(share_request) -> ShareRequest:
    """Lock the case, then the request (always in this order), and return it fresh."""
    case_id = ShareRequest.objects.values_list("case_id", flat=True).get(pk=share_request.pk)
    case = Case.objects.select_for_update(no_key=True).get(pk=case_id)
    locked = ShareRequest.objects.select_for_update().get(pk=share_request.pk)
    locked.case = case
    return locked


def sync_grants(case, country, at) -> set[str]:
    """The recipient country's grants on the case, and on the protected subjects its shares
    name, become the union of its active shares (each lasting as long as they do)."""
    perms, until = set(), {}
    for scope, expires_at in selectors.active_scopes(case, country, at):
        for codename in permissions.SCOPES[scope]:
            perms.add(codename)
            until[codename] = max(until.get(codename, expires_at), expires_at)
    permissions.set_country_grants(case, country, perms, until=until)
    named = selectors.active_named_subjects(case, country, at)
    permissions.set_subject_grants(case, country, named)
    return perms


def notify_on_commit(event: str, share_request) -> None:
    share_request_id = str(share_request.pk)
    transaction.on_commit(
        lambda: notifications.enqueue(event, share_request_id), robust=True
    )
