"""The question the audit trail asks of the cases app: can a country see this case now?

Registered with `audit.visibility` by `CasesConfig.ready`, since `audit` sits below `cases`
and never imports it. Asked only when an event's actor belongs to a country other than the
case's owner, in the transaction recording the event, so it sees the grants as that event
left them.
"""

from django.db.models import Q
from django.utils import timezone

from cases.models import CaseGroupObjectPermission
from cases.permissions import SCOPE_PERMISSION, SUMMARY


def country_sees_case(case, country: str) -> bool:
    """The country's group holds an unexpired summary grant (or more) on the case."""
    return CaseGroupObjectPermission.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        content_object_id=case.pk,
        group__country__code=country,
        permission__codename=SCOPE_PERMISSION[SUMMARY],
    ).exists()
