# placeholder: replaced by the cases branch at merge
"""Read gate for cases (placeholder with the agreed signature)."""

from cases.models import Case, CaseGroupObjectPermission

SCOPE_PERM = {"summary": "view_case_summary", "full": "view_case_full",
              "full_with_files": "view_case_files"}


def visible_cases(user, scope="summary"):
    if not user.is_authenticated or not user.country_id:
        return Case.objects.none()
    granted = CaseGroupObjectPermission.objects.filter(
        group__country__code=user.country_id, permission__codename=SCOPE_PERM[scope]
    ).values("content_object_id")
    return Case.objects.filter(id__in=granted)
