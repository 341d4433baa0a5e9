# placeholder: replaced by the cases branch at merge
"""Case grants: the only module that calls guardian's assign_perm / remove_perm.

Placeholder with the agreed interface (SCOPES, OWNER_PERMS, grant_owner, set_country_grants)
so the sharing branch can be built and tested before the cases branch lands.
"""

from guardian.shortcuts import assign_perm, remove_perm

from cases.models import Case, CaseGroupObjectPermission

SCOPES = {
    "summary": frozenset({"view_case_summary"}),
    "full": frozenset({"view_case_summary", "view_case_full"}),
    "full_with_files": frozenset({"view_case_summary", "view_case_full", "view_case_files"}),
}
OWNER_PERMS = SCOPES["full_with_files"] | {"change_case", "share_case"}


def grant_owner(case: Case) -> None:
    """The owning country's group gets everything on its case."""
    set_country_grants(case, case.owner_country, set(OWNER_PERMS))


def set_country_grants(case: Case, country, perms: set[str]) -> None:
    """Make the country group's permission rows on the case exactly `perms` (idempotent)."""
    group = country.group
    held = set(
        CaseGroupObjectPermission.objects.filter(content_object=case, group=group)
        .values_list("permission__codename", flat=True)
    )
    for codename in held - set(perms):
        remove_perm(codename, group, case)
    for codename in set(perms) - held:
        assign_perm(codename, group, case)
