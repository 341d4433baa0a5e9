# placeholder: replaced by the cases branch at merge
"""Permission-filtered reads of cases and subjects: the one visibility gate.

Placeholder with the agreed interface (visible_cases, get_case_for, visible_subjects). It
already ANDs the sharing app's expiry check and named-subject rule in exactly the way the
real gate should (see docs/sharing.md, "What the cases gate calls").
"""

import uuid

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from rest_framework.exceptions import NotFound

from cases.models import PROTECTED_ROLES, Case, CaseGroupObjectPermission, Subject
from sharing.selectors import active_share_exists, named_subject_ids

_READ_PERMISSION = {
    "summary": "view_case_summary",
    "full": "view_case_full",
    "full_with_files": "view_case_files",
}


def visible_cases(user, scope="summary"):
    """Cases the user's country may read at `scope`: its own, or shared and not expired."""
    country = getattr(user, "country_id", None)
    if not country:
        return Case.objects.none()
    granted = CaseGroupObjectPermission.objects.filter(
        content_object=OuterRef("pk"),
        group__country=country,
        permission__codename=_READ_PERMISSION[scope],
    )
    at = timezone.now()
    return Case.objects.filter(Exists(granted)).filter(
        Q(owner_country=country) | active_share_exists(OuterRef("pk"), country, at, scope=scope)
    )


def get_case_for(user, case_id, scope="summary") -> Case:
    """The case if the user may read it at `scope`; otherwise 404, malformed ids included."""
    try:
        pk = uuid.UUID(str(case_id))
    except ValueError:
        raise NotFound() from None
    case = visible_cases(user, scope).filter(pk=pk).first()
    if case is None:
        raise NotFound()
    return case


def visible_subjects(user, case):
    """A case's subjects as the user may see them: partners never see unnamed victims/witnesses."""
    if not visible_cases(user, "full").filter(pk=case.pk).exists():
        return Subject.objects.none()
    subjects = Subject.objects.filter(case=case)
    if case.owner_country_id == user.country_id:
        return subjects
    return subjects.filter(
        ~Q(role__in=PROTECTED_ROLES)
        | Q(pk__in=named_subject_ids(case, user.country_id, timezone.now()))
    )
