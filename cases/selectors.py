# placeholder: replaced by the cases branch at merge
"""Read gate for cases (placeholder with the agreed signature)."""

import functools

from django.contrib.auth.models import Permission

from cases.models import Case, CaseGroupObjectPermission
from workinggroup.models import Country

SCOPE_PERM = {"summary": "view_case_summary", "full": "view_case_full",
              "full_with_files": "view_case_files"}


@functools.cache
def _perm_id(codename):
    return Permission.objects.get(content_type__app_label="cases", codename=codename).id


def visible_cases(user, scope="summary"):
    if not user.is_authenticated or not user.country_id:
        return Case.objects.none()
    group_id = Country.objects.values_list("group_id", flat=True).get(code=user.country_id)
    granted = CaseGroupObjectPermission.objects.filter(
        group_id=group_id, permission_id=_perm_id(SCOPE_PERM[scope])
    ).values("content_object_id")
    return Case.objects.filter(id__in=granted)
