"""Case grants: one module writes them, owners hold everything, partners one scope or none."""

import re
from pathlib import Path

import pytest
from guardian.core import ObjectPermissionChecker

from cases import permissions
from cases.models import CaseGroupObjectPermission
from cases.permissions import FULL, FULL_WITH_FILES, OWNER_PERMS, SCOPES, SUMMARY, GrantError
from workinggroup.models import Country

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def us_case(us_investigator, case_factory):
    return case_factory(us_investigator)


def test_owner_country_holds_every_case_permission_from_creation(us_case):
    assert permissions.country_perms(us_case, "US") == OWNER_PERMS
    assert permissions.holders(us_case) == {"US": OWNER_PERMS}


def test_guardian_reads_the_same_grants(us_case):
    """The rows are guardian's direct-FK group permissions, so guardian agrees with us."""
    checker = ObjectPermissionChecker(Country.objects.get(code="US").group)
    assert set(checker.get_perms(us_case)) == OWNER_PERMS
    mx_checker = ObjectPermissionChecker(Country.objects.get(code="MX").group)
    assert mx_checker.get_perms(us_case) == []


def test_set_country_grants_makes_a_partner_hold_exactly_the_scope(us_case):
    added, removed = permissions.set_country_grants(us_case, "MX", SCOPES[FULL])
    assert (added, removed) == (SCOPES[FULL], frozenset())
    assert permissions.country_perms(us_case, "MX") == SCOPES[FULL]
    # Narrowing removes what the wider scope added; widening adds only the difference.
    assert permissions.set_country_grants(us_case, "MX", SCOPES[SUMMARY]) == (
        frozenset(), {"view_case_full"})
    assert permissions.set_country_grants(us_case, "MX", SCOPES[FULL_WITH_FILES]) == (
        {"view_case_full", "view_case_files"}, frozenset())
    assert permissions.country_perms(us_case, "MX") == SCOPES[FULL_WITH_FILES]


def test_set_country_grants_is_idempotent(us_case):
    permissions.set_country_grants(us_case, "GT", SCOPES[FULL])
    rows = CaseGroupObjectPermission.objects.count()
    assert permissions.set_country_grants(us_case, "GT", SCOPES[FULL]) == (
        frozenset(), frozenset())
    assert CaseGroupObjectPermission.objects.count() == rows


def test_revoking_a_country_leaves_the_owner_and_other_partners_alone(us_case):
    permissions.set_country_grants(us_case, "GT", SCOPES[FULL])
    permissions.set_country_grants(us_case, Country.objects.get(code="MX"), SCOPES[SUMMARY])
    assert permissions.set_country_grants(us_case, "GT", frozenset())[1] == SCOPES[FULL]
    assert permissions.holders(us_case) == {"US": OWNER_PERMS, "MX": SCOPES[SUMMARY]}


def test_union_of_scopes_is_a_scope(us_case):
    perms = permissions.scope_perms(SUMMARY, FULL, SUMMARY)
    assert perms == SCOPES[FULL]
    permissions.set_country_grants(us_case, "MX", perms)
    assert permissions.scope_held(permissions.country_perms(us_case, "MX")) == FULL
    assert permissions.scope_perms() == frozenset()


def test_owner_grants_cannot_be_changed_through_set_country_grants(us_case):
    with pytest.raises(GrantError, match="owner country"):
        permissions.set_country_grants(us_case, "US", frozenset())
    assert permissions.country_perms(us_case, "US") == OWNER_PERMS


@pytest.mark.parametrize("perms", [
    {"change_case"}, {"share_case", "view_case_summary"}, {"view_case_full"},
    {"view_case_summary", "view_case_files"}, {"delete_case"},
])
def test_a_partner_never_gets_edit_share_or_a_broken_scope(us_case, perms):
    with pytest.raises(GrantError, match="perms"):
        permissions.set_country_grants(us_case, "MX", perms)
    assert permissions.country_perms(us_case, "MX") == frozenset()


def test_unknown_scope_is_refused():
    with pytest.raises(GrantError, match="unknown scope 'everything'"):
        permissions.scope_perms("everything")


def test_perms_of_follows_the_country_never_the_superuser_flag(us_case, mx_investigator,
                                                               us_liaison, administrator):
    assert permissions.perms_of(us_liaison, us_case) == OWNER_PERMS
    mx_investigator.is_superuser = True
    administrator.is_superuser = True
    assert permissions.perms_of(mx_investigator, us_case) == frozenset()
    assert permissions.perms_of(administrator, us_case) == frozenset()


def test_role_permissions_ignore_the_superuser_flag(us_investigator, us_liaison):
    assert permissions.holds_role_permission(us_investigator, "cases.add_case")
    us_liaison.is_superuser = True
    assert us_liaison.has_perm("cases.add_case")  # what Django alone would say
    assert not permissions.holds_role_permission(us_liaison, "cases.add_case")


def test_grants_die_with_their_case(us_case):
    permissions.set_country_grants(us_case, "MX", SCOPES[FULL])
    us_case.delete()
    assert not CaseGroupObjectPermission.objects.exists()


def test_only_the_permissions_module_writes_case_grants():
    """One door: no other module calls guardian's assign/remove or writes the grant table."""
    pattern = re.compile(
        r"assign_perm|remove_perm|bulk_assign_perm|bulk_remove_perm"
        r"|(CaseGroupObjectPermission|CaseUserObjectPermission)\.objects\.(create|bulk_create"
        r"|get_or_create|update_or_create|update|filter\([^)]*\)\.(delete|update))"
    )
    offenders = []
    for path in REPO.rglob("*.py"):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/")) or "/migrations/" in relative:
            continue
        if relative == "cases/permissions.py":
            continue
        if pattern.search(path.read_text()):
            offenders.append(relative)
    assert offenders == []
