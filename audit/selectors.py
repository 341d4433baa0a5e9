"""Reading the audit trail: who may read it, the entries each auditor sees, and the auditor's
reads (list, export, verification, checkpoints), each recorded here.

The API (audit/api.py) and the coming auditor pages call these and nothing else: the gate,
the filters and the record of the read are the same for both. A caller that is not an
auditor gets Django's PermissionDenied; a bad filter value Django's ValidationError naming it.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet

from audit import verification
from audit.checkpoints import checkpoint_public_keys
from audit.filters import FILTER_NAMES, AuditEntryFilter, applied_filters
from audit.models import AuditCheckpoint, AuditEntry
from audit.recording import record
from audit.rows import export_lines
from core.roles import holds_role_permission

VIEW_PERMISSION = "audit.view_auditentry"
NOT_AN_AUDITOR = "Only auditors may read the audit log."

Page = TypeVar("Page")


# --- Who may read ---------------------------------------------------------------------------


def can_read_audit(user) -> bool:
    """Auditors (the role's permission) of a country, or of trilateral oversight."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and holds_role_permission(user, VIEW_PERMISSION)
        and (user.oversight or user.country_id)
    )


def _require_auditor(user) -> None:
    if not can_read_audit(user):
        raise PermissionDenied(NOT_AN_AUDITOR)


def entries_visible_to(user) -> QuerySet:
    """The one gate for audit entries: oversight sees all; a country auditor sees the entries
    that list their country among their readers; everyone else nothing.

    Readers are always among the entry's actor and case countries (audit/visibility.py), so
    the indexed test on those two columns comes first. Entries chained before readers existed
    (NULL) name a case only to its owner's auditors: whether the actor's country could see
    that case then is not recorded, so it is assumed it could not.
    """
    entries = AuditEntry.objects.all()
    if not can_read_audit(user):
        return entries.none()
    if user.oversight:
        return entries
    code = user.country_id
    legacy = Q(readers__isnull=True) & (Q(case_country=code) | Q(case_id=""))
    return entries.filter(
        Q(actor_country=code) | Q(case_country=code),
        Q(readers__contains=code) | legacy,
    )


def filtered_entries(user, query: Mapping[str, str]) -> QuerySet:
    """The caller's visible entries narrowed by the filters in `query` (other keys ignored:
    paging is the caller's); a bad value is a ValidationError naming the filter."""
    _require_auditor(user)
    filters = {name: query[name] for name in FILTER_NAMES if name in query}
    filterset = AuditEntryFilter(filters, queryset=entries_visible_to(user))
    if not filterset.is_valid():
        raise ValidationError(
            {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        )
    return filterset.qs


# --- The auditor's reads, recorded ----------------------------------------------------------


def entries_page(user, query: Mapping[str, str], paginate: Callable[[QuerySet], Page]) -> Page:
    """A page of the caller's filtered entries (newest first), cut by the caller's
    `paginate(queryset) -> page` (cursor for the API, page numbers for a page); recorded as
    `audit.view` with the filters used and the count returned."""
    page = paginate(filtered_entries(user, query).order_by("-seq"))
    record("audit.view", user, target=("audit", "entries"), filters=applied_filters(query),
           cursor=bool(query.get("cursor")), returned=len(page))
    return page


def entries_export(user, query: Mapping[str, str]) -> Iterator[bytes]:
    """The caller's filtered entries as JSON Lines of the chain's objects, oldest first;
    recorded as `audit.export` (before the first line is read)."""
    entries = filtered_entries(user, query)
    record("audit.export", user, target=("audit", "entries"), filters=applied_filters(query))
    return export_lines(entries)


def chain_verification(user) -> verification.Verification:
    """Walk the whole chain now for an auditor; recorded as `audit.verify`."""
    _require_auditor(user)
    return verification.chain_verify(actor=user)


def checkpoints_page(user, query: Mapping[str, str], paginate: Callable[[QuerySet], Page]):
    """(page of signed checkpoints oldest first, public keys by id); recorded as
    `audit.view` of the checkpoints."""
    _require_auditor(user)
    page = paginate(AuditCheckpoint.objects.order_by("seq"))
    record("audit.view", user, target=("audit", "checkpoints"),
           cursor=bool(query.get("cursor")), returned=len(page))
    return page, checkpoint_public_keys()
