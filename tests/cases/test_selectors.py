"""The read gate: a country sees what its group holds, and nothing else opens a case."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import get_objects_for_user

from cases import permissions, selectors
from cases.models import CaseUserObjectPermission, SubjectRole
from cases.permissions import FULL, FULL_WITH_FILES, SCOPES, SUMMARY


@pytest.fixture
def cases(us_investigator, mx_investigator, gt_investigator, case_factory):
    return {
        "US": case_factory(us_investigator),
        "MX": case_factory(mx_investigator),
        "GT": case_factory(gt_investigator),
    }


def ids(queryset):
    return {case.pk for case in queryset}


def test_a_country_sees_its_own_cases_at_every_scope(cases, us_liaison):
    for scope in (SUMMARY, FULL, FULL_WITH_FILES):
        assert ids(selectors.visible_cases(us_liaison, scope)) == {cases["US"].pk}


def test_partner_cannot_see_unshared_case(cases, mx_investigator):
    assert ids(selectors.visible_cases(mx_investigator)) == {cases["MX"].pk}
    with pytest.raises(Http404):
        selectors.get_case_for(mx_investigator, cases["US"].pk)


def test_a_share_opens_exactly_its_scope(cases, mx_investigator):
    permissions.set_country_grants(cases["US"], "MX", SCOPES[SUMMARY])
    assert cases["US"].pk in ids(selectors.visible_cases(mx_investigator, SUMMARY))
    assert cases["US"].pk not in ids(selectors.visible_cases(mx_investigator, FULL))
    assert selectors.get_case_for(mx_investigator, str(cases["US"].pk)) == cases["US"]
    with pytest.raises(PermissionDenied):  # seen (summary), but not at the scope asked for
        selectors.get_case_for(mx_investigator, cases["US"].pk, FULL)
    permissions.set_country_grants(cases["US"], "MX", frozenset())
    assert cases["US"].pk not in ids(selectors.visible_cases(mx_investigator))


@pytest.mark.parametrize("codename", ["view_case", "view_case_summary", "view_case_full",
                                      "change_case"])
def test_model_wide_permission_still_shows_only_own_country(cases, mx_investigator, codename):
    perm = Permission.objects.get(content_type__app_label="cases", codename=codename)
    mx_investigator.user_permissions.add(perm)
    mx_investigator.groups.first().permissions.add(perm)  # and through a group
    mx_investigator = type(mx_investigator).objects.get(pk=mx_investigator.pk)
    assert mx_investigator.has_perm(f"cases.{codename}")  # Django: yes, model-wide
    # guardian's shortcut with global perms accepted would hand over every case ...
    assert len(get_objects_for_user(mx_investigator, f"cases.{codename}")) == 3
    # ... the gate does not.
    for scope in (SUMMARY, FULL, FULL_WITH_FILES):
        assert ids(selectors.visible_cases(mx_investigator, scope)) == {cases["MX"].pk}


def test_superuser_flag_opens_nothing(cases, gt_investigator, administrator):
    for user in (gt_investigator, administrator):
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    assert ids(selectors.visible_cases(gt_investigator)) == {cases["GT"].pk}
    assert ids(selectors.visible_cases(administrator)) == set()
    assert selectors.visible_case_count(administrator) == 0


def test_per_user_grants_open_nothing(cases, mx_investigator):
    """Only country groups hold cases; a stray per-user row is not part of the model."""
    perm = Permission.objects.get(content_type__app_label="cases", codename="view_case_summary")
    CaseUserObjectPermission.objects.create(
        user=mx_investigator, permission=perm, content_object=cases["US"]
    )
    assert ids(selectors.visible_cases(mx_investigator)) == {cases["MX"].pk}


def test_administrators_and_disabled_members_see_nothing(cases, administrator, us_liaison):
    assert ids(selectors.visible_cases(administrator)) == set()
    us_liaison.is_active = False
    assert ids(selectors.visible_cases(us_liaison)) == set()


@pytest.mark.parametrize("case_id", ["not-a-uuid", "", "1", "../", None, 42,
                                     "00000000-0000-0000-0000-000000000000"])
def test_malformed_or_missing_ids_are_not_found(cases, us_investigator, case_id):
    with pytest.raises(Http404, match="Not found."):
        selectors.get_case_for(us_investigator, case_id)


def test_unknown_scope_is_a_bug(us_investigator, administrator):
    with pytest.raises((ValueError, KeyError)):
        selectors.visible_cases(us_investigator, "everything")
    with pytest.raises((ValueError, KeyError)):
        selectors.visible_cases(administrator, "everything")


def test_count_from_the_permission_index_equals_the_gated_count(cases, mx_investigator):
    permissions.set_country_grants(cases["US"], "MX", SCOPES[FULL])
    permissions.set_country_grants(cases["GT"], "MX", SCOPES[SUMMARY])
    for scope in (SUMMARY, FULL, FULL_WITH_FILES):
        gated = selectors.visible_cases(mx_investigator, scope).count()
        assert selectors.visible_case_count(mx_investigator, scope) == gated
    assert selectors.visible_case_count(mx_investigator, SUMMARY) == 3


def test_the_gate_is_one_query_with_an_exists_probe(cases, us_investigator):
    selectors.clear_grant_keys()
    with CaptureQueriesContext(connection) as cold:
        list(selectors.visible_cases(us_investigator, FULL))
    # The member's roles (once per request), group and permission ids (once per process).
    assert len(cold) == 4
    with CaptureQueriesContext(connection) as queries:
        list(selectors.visible_cases(us_investigator, FULL))
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert "EXISTS" in sql and " IN (" not in sql


def test_partners_never_receive_victims_or_witnesses(us_investigator, mx_investigator,
                                                     case_factory, subject_factory):
    case = case_factory(us_investigator)
    for role in SubjectRole.values:
        subject_factory(case, us_investigator, full_name=f"Person {role}", role=role)
    permissions.set_country_grants(case, "MX", SCOPES[FULL])
    owner_sees = {s.role for s in selectors.visible_subjects(us_investigator, case)}
    partner_sees = {s.role for s in selectors.visible_subjects(mx_investigator, case)}
    assert owner_sees == set(SubjectRole.values)
    assert partner_sees == set(SubjectRole.values) - {"victim", "witness"}


def test_subjects_need_the_full_scope(us_investigator, mx_investigator, gt_investigator,
                                      case_factory, subject_factory):
    case = case_factory(us_investigator)
    subject_factory(case, us_investigator)
    permissions.set_country_grants(case, "MX", SCOPES[SUMMARY])
    assert list(selectors.visible_subjects(mx_investigator, case)) == []
    assert list(selectors.visible_subjects(gt_investigator, case)) == []


def test_is_owner(cases, us_liaison, mx_liaison, administrator):
    assert selectors.is_owner(us_liaison, cases["US"])
    assert not selectors.is_owner(mx_liaison, cases["US"])
    assert not selectors.is_owner(administrator, cases["US"])


def test_a_migrate_forgets_cached_ids(cases, us_investigator):
    from django.apps import apps
    from django.db.models.signals import post_migrate

    list(selectors.visible_cases(us_investigator))
    assert selectors._GRANT_KEYS
    config = apps.get_app_config("cases")
    post_migrate.send(sender=config, app_config=config, verbosity=0, interactive=False,
                      using="default", apps=apps, plan=[])
    assert not selectors._GRANT_KEYS
