"""Case grants: the one module that writes django-guardian object permissions on cases.

Access to a case is a set of object permissions held by a country's group in the direct-FK
table `CaseGroupObjectPermission`. The owner country's group holds OWNER_PERMS from creation
on; a partner country's group holds exactly one share scope's permissions, or none. Nothing
else in the code base calls `assign_perm`/`remove_perm` or writes that table, so every grant
passes the checks below (an owner cannot lose its grants, a partner can never edit or share).

Protected subjects (victims, witnesses) reach a partner only when an active share names
them: `set_subject_grants` writes those as `SubjectGrant` rows, one per (subject, country),
each lasting as long as the shares naming it (the sharing services keep them in step).

Reads go through `cases.selectors`; this module only answers "what does this country hold"
and "what may this role do".
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import transaction

from cases.models import Case, CaseGroupObjectPermission, SubjectGrant
from core.roles import holds_role_permission
from workinggroup.models import Country, Role

SUMMARY, FULL, FULL_WITH_FILES = "summary", "full", "full_with_files"

# Scopes nest: each one holds the permissions of the one before it.
SCOPES: dict[str, frozenset[str]] = {
    SUMMARY: frozenset({"view_case_summary"}),
    FULL: frozenset({"view_case_summary", "view_case_full"}),
    FULL_WITH_FILES: frozenset({"view_case_summary", "view_case_full", "view_case_files"}),
}
# The permission whose presence means "holds this scope" (the gate probes for it alone).
SCOPE_PERMISSION: dict[str, str] = {
    SUMMARY: "view_case_summary",
    FULL: "view_case_full",
    FULL_WITH_FILES: "view_case_files",
}
SHAREABLE_PERMS = SCOPES[FULL_WITH_FILES]
OWNER_PERMS = SHAREABLE_PERMS | {"change_case", "share_case"}
# What set_country_grants accepts: a scope's set, or nothing (a union of scopes is a scope).
_GRANTABLE = frozenset({frozenset(), *SCOPES.values()})


class GrantError(ValueError):
    """A grant the access model forbids; the message says which rule."""


def scope_perms(*scopes: str) -> frozenset[str]:
    """The permissions of the union of the given scopes (none for no scopes)."""
    perms: frozenset[str] = frozenset()
    for scope in scopes:
        if scope not in SCOPES:
            raise GrantError(f"scope: unknown scope {scope!r} (choose from {', '.join(SCOPES)})")
        perms |= SCOPES[scope]
    return perms


def scope_held(perms) -> str | None:
    """The widest scope that a set of permission codenames contains, or None."""
    for scope in (FULL_WITH_FILES, FULL, SUMMARY):
        if SCOPES[scope] <= set(perms):
            return scope
    return None


def _case_permissions(codenames) -> dict[str, Permission]:
    found = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="cases", content_type__model="case", codename__in=codenames
        )
    }
    missing = set(codenames) - set(found)
    if missing:
        raise LookupError(f"case permissions missing from the database: {sorted(missing)}")
    return found


def _group_id(country: Country | str) -> int:
    if isinstance(country, Country):
        return country.group_id
    return Country.objects.values_list("group_id", flat=True).get(code=country)


def _country_code(country: Country | str) -> str:
    return country.code if isinstance(country, Country) else str(country)


def grant_owner(case: Case) -> None:
    """Give the owner country's group every case permission (idempotent)."""
    _write(case, _group_id(case.owner_country_id), OWNER_PERMS)


def set_country_grants(
    case: Case, country: Country | str, perms, *, until: dict | None = None
) -> tuple[frozenset[str], frozenset[str]]:
    """Make a partner country's grants on a case exactly `perms`; returns (added, removed).

    `perms` is a scope's permission set or empty (use `scope_perms(*active_scopes)`); setting
    the same set twice changes nothing. It locks the case row, so callers on one case queue;
    lock it yourself first (`Case.objects.select_for_update(no_key=True)`), then compute the
    union of active shares, in the same transaction, and the result cannot be stale.
    """
    perms = frozenset(perms)
    if _country_code(country) == case.owner_country_id:
        raise GrantError("country: the owner country's grants are fixed; it holds everything")
    if perms not in _GRANTABLE:
        raise GrantError(
            "perms: a partner holds exactly one scope's permissions "
            f"({', '.join(SCOPES)}) or none; got {sorted(perms)}"
        )
    until = until or {}
    if set(until) - perms:
        raise GrantError("until: expiry given for a permission that is not granted")
    return _write(case, _group_id(country), perms, until)


def _write(case: Case, group_id: int, perms: frozenset[str], until: dict | None = None):
    """Make the group's rows exactly `perms`, each lasting until `until[codename]` (or ever)."""
    until = until or {}
    with transaction.atomic():
        list(Case.objects.select_for_update(no_key=True).filter(pk=case.pk).values_list("pk"))
        rows = CaseGroupObjectPermission.objects.filter(
            content_object_id=case.pk, group_id=group_id
        )
        held = {c: (pk, exp) for pk, c, exp in
                rows.values_list("id", "permission__codename", "expires_at")}
        added, removed = perms - set(held), frozenset(held) - perms
        if removed:
            rows.filter(id__in=[held[c][0] for c in removed]).delete()
        for codename in perms & set(held):
            if held[codename][1] != until.get(codename):
                rows.filter(id=held[codename][0]).update(expires_at=until.get(codename))
        if added:
            wanted = _case_permissions(added)
            CaseGroupObjectPermission.objects.bulk_create(
                [
                    CaseGroupObjectPermission(
                        content_object_id=case.pk, group_id=group_id, permission=wanted[c],
                        expires_at=until.get(c),
                    )
                    for c in sorted(added)
                ],
                ignore_conflicts=True,
            )
    return frozenset(added), frozenset(removed)


def perms_of(user, case: Case) -> frozenset[str]:
    """The case permissions the user's country group holds (none without a country).

    Model-wide permissions, per-user rows and the superuser flag count for nothing.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.country_id:
        return frozenset()
    return country_perms(case, user.country_id)


def country_perms(case: Case, country: Country | str) -> frozenset[str]:
    """The case permissions a country's group holds."""
    return frozenset(
        CaseGroupObjectPermission.objects.filter(
            content_object_id=case.pk, group__country__code=_country_code(country)
        ).values_list("permission__codename", flat=True)
    )


def holders(case: Case) -> dict[str, frozenset[str]]:
    """Who holds what on a case: {country code: permission codenames}, owner included."""
    result: dict[str, set[str]] = {}
    rows = CaseGroupObjectPermission.objects.filter(content_object_id=case.pk).values_list(
        "group__country__code", "permission__codename"
    )
    for code, codename in rows:
        result.setdefault(code, set()).add(codename)
    return {code: frozenset(perms) for code, perms in result.items()}


def set_subject_grants(case: Case, country: Country | str, until: dict) -> None:
    """Make a partner's protected-subject grants on a case exactly `until`
    ({subject id: expires_at}); call it under the same case lock as set_country_grants."""
    code = _country_code(country)
    if code == case.owner_country_id:
        raise GrantError("country: the owner country sees every subject of its case")
    until = {str(pk): expires_at for pk, expires_at in until.items()}
    with transaction.atomic():
        rows = SubjectGrant.objects.filter(subject__case_id=case.pk, country_id=code)
        held = {str(pk): (row_id, exp) for row_id, pk, exp in
                rows.values_list("id", "subject_id", "expires_at")}
        gone = [held[pk][0] for pk in set(held) - set(until)]
        if gone:
            SubjectGrant.objects.filter(id__in=gone).delete()
        for pk, expires_at in until.items():
            if pk not in held:
                SubjectGrant.objects.create(subject_id=pk, country_id=code,
                                            expires_at=expires_at)
            elif held[pk][1] != expires_at:
                SubjectGrant.objects.filter(id=held[pk][0]).update(expires_at=expires_at)


# Roles that read case content. Auditors know cases from the audit log and administrators
# manage accounts: neither role ever reads a case, its subjects, files or shares.
CASE_READER_ROLES = frozenset({Role.INVESTIGATOR, Role.LIAISON})


def reads_cases(user) -> bool:
    """An active investigator or liaison of a country (the role half of every case gate)."""
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.country_id
        and CASE_READER_ROLES & set(user.roles)
    )


def can_create_case(user) -> bool:
    """The role permission cases.add_case (investigators) and a country to own the case."""
    return bool(user.country_id) and holds_role_permission(user, "cases.add_case")


def can_edit_case(user, case: Case) -> bool:
    """An investigator of the country holding change_case on the case: the owner country."""
    return user.is_investigator and "change_case" in perms_of(user, case)
