"""Reading cases: the one gate every API view, page, export and lookup goes through.

The gate knows role and country. Only investigators and liaisons of a country read cases:
auditors and administrators get 403 for any case, its subjects, files or shares, and
`visible_cases` gives them nothing. Among readers, a case their country does not hold is
404 (unseen, missing and malformed ids look the same); a case held below the scope asked
for is 403. The selectors below (`case_detail`, `subject_list`, and `cases.listing.case_list`)
record the read themselves, so a page and an API call leave the same audit trail.

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
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from audit import context
from cases.models import PROTECTED_ROLES, Case, CaseGroupObjectPermission, Subject, SubjectGrant
from cases.paging import Page, paginate
from cases.permissions import (
    FULL,
    SCOPE_PERMISSION,
    SUMMARY,
    can_edit_case,
    perms_of,
    reads_cases,
    scope_held,
)
from workinggroup.models import Country


class CaseNotFound(Http404):
    """Unseen, missing or malformed: one answer, so existence never leaks (a 404)."""

    def __init__(self):
        super().__init__(_("Not found."))


def _is_country_member(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.country_id
    )


def _role_refusal(user) -> str:
    roles = set(getattr(user, "roles", ()))
    if "auditor" in roles:
        return _("auditors do not read case content")
    if "administrator" in roles or not getattr(user, "country_id", None):
        return _("administrators do not read case content")
    return _("only investigators and liaisons read cases")


def require_case_reader(user) -> None:
    """The role half of the gate: 403 for auditors, administrators and anyone else who is
    not an investigator or liaison of a country, before any case is looked at."""
    if not reads_cases(user):
        raise PermissionDenied(_role_refusal(user))


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
    """Cases the user's country holds at least `scope` on (summary, full, full_with_files).

    Role and country: auditors and administrators see no case at all.
    """
    if not reads_cases(user):
        SCOPE_PERMISSION[scope]  # an unknown scope is a bug even for someone who sees nothing
        return Case.objects.none()
    return Case.objects.filter(case_is_visible(user, scope))


def case_is_visible(user, scope: str = SUMMARY) -> Exists | Value:
    """The gate of `visible_cases` as a boolean expression on the outer query's case.

    For a query that must tell visible from unseen cases in one pass (the lookup's matched
    cases): `.annotate(visible=case_is_visible(user, FULL))`.
    """
    if not reads_cases(user):
        SCOPE_PERMISSION[scope]
        return Value(False)
    return Exists(_grants(user, scope).filter(content_object_id=OuterRef("pk")))


def visible_case_ids(user, scope: str = SUMMARY) -> QuerySet:
    """Ids of `visible_cases(user, scope)`, newest first, read from the grant index alone.

    Case ids are time-ordered, so the unique (group, permission, content_object) index holds
    a country's cases in list order: any page of them is one index-only range, as cheap as a
    page of the unfiltered table. Fetch the rows through `visible_cases` all the same.
    """
    if not reads_cases(user):
        return CaseGroupObjectPermission.objects.none().values("content_object_id")
    return _grants(user, scope).order_by("-content_object_id").values("content_object_id")


def visible_case_count(user, scope: str = SUMMARY) -> int:
    """`visible_cases(user, scope).count()`, read from the permission index alone.

    Exact because the table holds one row per (group, permission, case); it avoids joining
    every visible case only to count it.
    """
    if not reads_cases(user):
        return 0
    return _grants(user, scope).count()


def get_case_for(user, case_id, scope: str = SUMMARY) -> Case:
    """The gate for one case: the case if the user may read it at `scope`.

    Auditors and administrators: 403 whatever the id. A case the user's country does not
    hold (or a missing or malformed id): 404. A case it holds, but below `scope` (subjects
    and files of a summary share): 403. The case gets `access`: "owner" or the scope held.
    """
    require_case_reader(user)
    SCOPE_PERMISSION[scope]  # an unknown scope is a bug
    try:
        pk = uuid.UUID(str(case_id))
    except ValueError:
        raise CaseNotFound() from None
    cases = visible_cases(user, SUMMARY).filter(pk=pk)
    if scope != SUMMARY:
        cases = cases.annotate(holds_scope=case_is_visible(user, scope))
    case = cases.first()
    if case is None:
        raise CaseNotFound()
    context.note_case_seen(case)  # a refusal later in this request names the case it was about
    if scope != SUMMARY and not case.holds_scope:
        raise PermissionDenied(
            _("this needs the %(scope)s scope on the case") % {"scope": scope}
        )
    return case


def case_for_edit(user, case_id) -> Case:
    """The gate for changing a case or adding to it: only the owner country's investigators
    (404 unseen, 403 for everyone else who sees it)."""
    case = get_case_for(user, case_id, SUMMARY)
    if not can_edit_case(user, case):
        raise PermissionDenied(_("only the owner country's investigators change this case"))
    return case


def subject_for_edit(user, case_id, subject_id) -> Subject:
    """The gate for changing a subject: the case's editor (as case_for_edit), and a subject
    of that case (404 otherwise, malformed ids included)."""
    case = case_for_edit(user, case_id)
    try:
        pk = uuid.UUID(str(subject_id))
    except ValueError:
        raise Http404(_("Not found.")) from None
    subject = Subject.objects.filter(case=case, pk=pk).first()
    if subject is None:
        raise Http404(_("Not found."))
    subject.case = case
    return subject


def subject_with_identifiers(subject: Subject) -> Subject:
    """A subject just written by its editor, read again with its identifiers."""
    return Subject.objects.prefetch_related("identifiers").get(pk=subject.pk)


def is_owner(user, case: Case) -> bool:
    """The user belongs to the country that owns the case."""
    return _is_country_member(user) and user.country_id == case.owner_country_id


def access_of(user, case: Case) -> str:
    """The user's standing on a case they see: `owner`, or the scope their country holds."""
    if is_owner(user, case):
        return "owner"
    return scope_held(perms_of(user, case)) or "none"


def case_detail(user, case_id) -> Case:
    """One case for reading (with `access` set), recorded as `case.view`."""
    case = get_case_for(user, case_id, SUMMARY)
    case.access = access_of(user, case)
    audit.record("case.view", user, target=case, access=case.access)
    return case


def subjects_visible_to(user, *, at=None) -> Q:
    """Which subjects (of any case) the user may see, as a filter on Subject.

    Every subject of the user's own country's cases; of a partner's case held at `full`,
    the subjects who are not victims or witnesses, plus those an active share names.
    """
    if not reads_cases(user):
        return Q(pk__in=[])
    at = at or timezone.now()
    named = SubjectGrant.objects.filter(
        subject_id=OuterRef("pk"), country_id=user.country_id, expires_at__gt=at
    )
    held_in_full = Exists(_grants(user, FULL).filter(content_object_id=OuterRef("case_id")))
    return Q(case__owner_country_id=user.country_id) | (
        Q(held_in_full) & (~Q(role__in=PROTECTED_ROLES) | Q(Exists(named)))
    )


def visible_subjects(user, case: Case) -> QuerySet[Subject]:
    """Subjects of a case the user may see (none unless their country holds `full` on it):
    all for the owner; for partners, no victims or witnesses unless a share names them."""
    if not reads_cases(user):
        return Subject.objects.none()
    return Subject.objects.filter(subjects_visible_to(user), case=case)


def subject_list(user, case_id, *, page=None) -> Page:
    """A page of a case's subjects with identifiers (`full` scope), recorded as `subject.view`.

    404 for an unseen case, 403 for a case seen at summary scope only.
    """
    case = get_case_for(user, case_id, FULL)
    subjects = visible_subjects(user, case).prefetch_related("identifiers")
    result = paginate(subjects, page)
    audit.record("subject.view", user, target=case, page=result.number, count=result.count)
    return result
