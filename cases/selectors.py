# placeholder: replaced by the cases branch at merge
"""The read gate for cases (minimal stand-in so the attachment endpoints can be built).

A member sees a case at a scope when their country's group holds that scope's permission on
it in CaseGroupObjectPermission; anything else, including a malformed id, is a 404.
"""

import uuid

from rest_framework.exceptions import NotFound

from cases.models import Case
from workinggroup.models import Country

SCOPE_PERMISSION = {
    "summary": "view_case_summary",
    "full": "view_case_full",
    "full_with_files": "view_case_files",
}


def get_case_for(user, case_id, scope: str = "summary") -> Case:
    """The case if the user's country group holds `scope` on it; otherwise NotFound."""
    codename = SCOPE_PERMISSION[scope]  # an unknown scope is a bug, not a 404
    try:
        pk = uuid.UUID(str(case_id))
    except ValueError:
        raise NotFound() from None
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.country_id):
        raise NotFound()
    group_id = Country.objects.filter(code=user.country_id).values("group_id")[:1]
    case = Case.objects.filter(
        pk=pk,
        casegroupobjectpermission__group_id=group_id,
        casegroupobjectpermission__permission__content_type__app_label="cases",
        casegroupobjectpermission__permission__codename=codename,
    ).first()
    if case is None:
        raise NotFound()
    return case
