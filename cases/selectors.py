"""Reading cases: the one gate every API view, page, export and lookup goes through.

A member sees a case when their country's group holds the scope's permission on it in
`CaseGroupObjectPermission`. That is guardian's direct-FK group table asked with
`accept_global_perms=False` and `with_superuser=False`: model-wide permissions, per-user rows
and the superuser flag open nothing. Administrators have no country, so they see no case.

The gate is an EXISTS probe of the unique (group, permission, content_object) index,
correlated on the case, with the group and permission ids as literals. Guardian's
`get_objects_for_user` joins or lists every granted id instead, which is far slower at
100,000 cases (docs/PERFORMANCE.md, "Case list").
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from audit import context
from cases.models import PROTECTED_ROLES, Case, CaseGroupObjectPermission, Subject
from cases.permissions import FULL, SCOPE_PERMISSION, SUMMARY
from workinggroup.models import Country


class CaseNotFound(Http404):
    """Unseen, missing or malformed: one answer, so existence never leaks (DRF sends 404)."""

    def __init__(self):
        super().__init__("Not found.")


def _is_country_member(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.country_id
    )


# (country code, codename) -> (group id, permission id). Both never change once created, so
# a process keeps them; a migrate (which may recreate permissions) clears the map. An unknown
# pair is looked up again rather than cached, and a missing row means nothing is visible.
_GRANT_KEYS: dict[tuple[str, str], tuple[int, int]] = {}


def clear_grant_keys(**kwargs) -> None:
    """Forget cached group and permission ids (connected to post_migrate)."""
    _GRANT_KEYS.clear()


def _grant_key(country_code: str, codename: str) -> tuple[int, int] | None:
    key = _GRANT_KEYS.get((country_code, codename))
    if key is None:
        group_id = Country.objects.filter(code=country_code).values_list("group_id", flat=True)
        permission_id = Permission.objects.filter(
            content_type__app_label="cases", content_type__model="case", codename=codename
        ).values_list("id", flat=True)
        group_id, permission_id = group_id.first(), permission_id.first()
        if group_id is None or permission_id is None:
            return None
        key = _GRANT_KEYS[(country_code, codename)] = (group_id, permission_id)
    return key


def _grants(user, scope: str) -> QuerySet[CaseGroupObjectPermission]:
    """The grant rows that give the user's country group a scope (on any case).

    The ids are literals in the SQL: the planner sees real values and statistics, and Django
    compiles a flat query instead of nested sub-selects (a measurable part of each request).
    """
    try:
        codename = SCOPE_PERMISSION[scope]
    except KeyError:
        raise ValueError(f"unknown scope {scope!r}") from None
    key = _grant_key(user.country_id, codename)
    if key is None:
        return CaseGroupObjectPermission.objects.none()
    group_id, permission_id = key
    return CaseGroupObjectPermission.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        group_id=group_id,
        permission_id=permission_id,
    )


def visible_cases(user, scope: str = SUMMARY) -> QuerySet[Case]:
    """Cases the user's country holds at least `scope` on (summary, full, full_with_files)."""
    if not _is_country_member(user):
        SCOPE_PERMISSION[scope]  # an unknown scope is a bug even for someone who sees nothing
        return Case.objects.none()
    return Case.objects.filter(case_is_visible(user, scope))


def case_is_visible(user, scope: str = SUMMARY) -> Exists | Value:
    """The gate of `visible_cases` as a boolean expression on the outer query's case.

    For a query that must tell visible from unseen cases in one pass (the lookup's matched
    cases): `.annotate(visible=case_is_visible(user, FULL))`.
    """
    if not _is_country_member(user):
        SCOPE_PERMISSION[scope]
        return Value(False)
    return Exists(_grants(user, scope).filter(content_object_id=OuterRef("pk")))


def visible_case_ids(user, scope: str = SUMMARY) -> QuerySet:
    """Ids of `visible_cases(user, scope)`, newest first, read from the grant index alone.

    Case ids are time-ordered, so the unique (group, permission, content_object) index holds
    a country's cases in list order: any page of them is one index-only range, as cheap as a
    page of the unfiltered table. Fetch the rows through `visible_cases` all the same.
    """
    if not _is_country_member(user):
        return CaseGroupObjectPermission.objects.none().values("content_object_id")
    return _grants(user, scope).order_by("-content_object_id").values("content_object_id")


def visible_case_count(user, scope: str = SUMMARY) -> int:
    """`visible_cases(user, scope).count()`, read from the permission index alone.

    Exact because the table holds one row per (group, permission, case); it avoids joining
    every visible case only to count it.
    """
    if not _is_country_member(user):
        return 0
    return _grants(user, scope).count()


def get_case_for(user, case_id, scope: str = SUMMARY) -> Case:
    """The case if the user holds `scope` on it; otherwise CaseNotFound (a 404)."""
    try:
        pk = uuid.UUID(str(case_id))
    except ValueError:
        raise CaseNotFound() from None
    case = visible_cases(user, scope).filter(pk=pk).first()
    if case is None:
        raise CaseNotFound()
    context.note_case_seen(case)  # a refusal later in this request names the case it was about
    return case


def is_owner(user, case: Case) -> bool:
    """The user belongs to the country that owns the case."""
    return _is_country_member(user) and user.country_id == case.owner_country_id


def visible_subjects(user, case: Case) -> QuerySet[Subject]:
    """Subjects of a case the user holds `full` on: all for the owner; for partners, no
    victims or witnesses unless a share names them."""
    if not visible_cases(user, FULL).filter(pk=case.pk).exists():
        return Subject.objects.none()
    subjects = Subject.objects.filter(case=case)
    if is_owner(user, case):
        return subjects
    return subjects.filter(_partner_subjects(user, case))


def _partner_subjects(user, case: Case) -> Q:
    """What a partner may receive: no victim or witness unless an active share names them."""
    from sharing.selectors import named_subject_ids

    named = named_subject_ids(case, user.country_id, timezone.now())
    return ~Q(role__in=PROTECTED_ROLES) | Q(pk__in=named)
