"""Reading the audit trail: who may read it, the entries each auditor sees, and the auditor's
reads (list, export, verification, checkpoints), each recorded here.

The API (audit/api.py) and the coming auditor pages call these and nothing else: the gate,
the filters and the record of the read are the same for both. A caller that is not an
auditor gets Django's PermissionDenied; a bad filter value Django's ValidationError naming it.
"""

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BigIntegerField, F, Func, Max, Min, Q, QuerySet, Subquery
from django.http import Http404

from audit import chain, verification
from audit.checkpoints import checkpoint_public_keys
from audit.filters import FILTER_NAMES, AuditEntryFilter, applied_filters
from audit.models import AuditCheckpoint, AuditEntry
from audit.recording import record
from audit.rows import export_lines
from audit.visibility import WIDE_READER_ACTIONS
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

    Readers are always among the entry's actor and case countries (audit/visibility.py),
    except for the actions that name their own (a joint plan's steps), so the indexed tests
    on those columns come first. Entries chained before readers existed
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
    # Readers name two-letter codes joined by commas, so `contains` cannot match across two.
    return entries.filter(
        Q(actor_country=code) | Q(case_country=code) | Q(action__in=WIDE_READER_ACTIONS),
        Q(readers__contains=code) | legacy,
    )


def _filterset(user, query: Mapping[str, str]) -> AuditEntryFilter:
    _require_auditor(user)
    filters = {name: query[name] for name in FILTER_NAMES if name in query}
    filterset = AuditEntryFilter(filters, queryset=entries_visible_to(user))
    if not filterset.is_valid():
        raise ValidationError(
            {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        )
    return filterset


def filtered_entries(user, query: Mapping[str, str]) -> QuerySet:
    """The caller's visible entries narrowed by the filters in `query` (other keys ignored:
    paging is the caller's); a bad value is a ValidationError naming the filter. A
    `since`/`until` window is also bounded by the seq range it spans (window_seq_range)."""
    filterset = _filterset(user, query)
    cleaned = filterset.form.cleaned_data
    return window_seq_range(filterset.qs, cleaned.get("since"), cleaned.get("until"))


def window_seq_range(entries: QuerySet, since, until) -> QuerySet:
    """`entries` (already filtered on occurred_at by `since`/`until`) also bounded by the seq
    range the time window spans, so that reading them by seq costs what the window holds,
    not what the log holds.

    Without it, a window far from the newest entries (or, oldest first, from seq 1) is read
    by walking the primary key and filtering out every row outside the window: the planner
    takes matches to be spread evenly over seq (docs/PERFORMANCE.md, "Audit entries").
    occurred_at and seq are correlated but not equal (events commit out of order), so the
    range is the exact min and max seq of all the window's entries, sub-selects of the same
    statement (no extra query) read from the (occurred_at, seq) index alone; the occurred_at
    filter stays, for the rows in that seq range outside the window. Visibility is not
    repeated: the range of all the window's entries contains the visible ones. An empty
    window bounds by NULL and matches nothing, as the occurred_at filter would.

    Only a closed window (both `since` and `until`) is bounded. Learning a bound costs a scan
    of the window's index entries; an open-ended window runs to an end of the log, where its
    entries are: newest first after `since`, the walk finds a page among the newest entries
    at once (0.3 ms at 10M where the bound would scan 5M index entries, 510 ms), and the
    same holds oldest first before `until`. So open-ended windows keep the plain plan.
    (The exports, which read the whole window anyway, bound every side given:
    entries_in_chunks.)
    """
    if since is None or until is None:
        return entries
    window = _window(since, until)
    return entries.filter(seq__gte=Subquery(window.values(first=_window_seq("MIN"))),
                          seq__lte=Subquery(window.values(last=_window_seq("MAX"))))


def _window(since, until) -> QuerySet:
    window = AuditEntry.objects.order_by()
    if since is not None:
        window = window.filter(occurred_at__gte=since)
    if until is not None:
        window = window.filter(occurred_at__lt=until)
    return window


def _window_seq(function: str) -> Func:
    """MIN or MAX of `seq + 0` over the window, as one value.

    `seq + 0`, not `seq`: for a bare min/max PostgreSQL considers walking the primary key to
    the first row in the window and, with the same even-spread estimate, takes that walk,
    which is the cost being removed; the expression leaves it the window's index. A Func,
    not Django's Min/Max: in `.values()` those group by every column of the model.
    """
    return Func(F("seq") + 0, function=function, output_field=BigIntegerField())


def entries_in_chunks(user, query: Mapping[str, str]) -> tuple[QuerySet, Callable | None]:
    """For the exports, read by seq a chunk at a time: (the caller's filtered entries bounded by
    the window's seq range but not by its times, `in_window(occurred_at) -> bool` for each row
    read, or None without a window). An open-ended window is bounded too: an export reads
    the whole window, so learning the bounds (a scan of the window's index entries) costs
    less than the export, and a missing bound is a walk from seq 1 to `since` before the
    first line (or from `until` to the newest entry after the last). Both bounds come from
    the one scan, so both apply: the export is of the window's entries as they stood when
    it was asked for (one chained later, out of order, is not added mid-stream).

    The range is read once, here (one query: min and max from one scan of the window's
    index), not as sub-selects that every chunk's statement would run again. The times are
    then tested on the rows rather than in the statement: with both a seq range and an
    occurred_at range in it, PostgreSQL multiplies their selectivities as if independent
    (they are nearly the same rows), expects a few hundred rows where the window holds
    200,000, and reads the whole rest of the window and sorts it for each chunk of 1,000
    (docs/PERFORMANCE.md). Bounded by seq alone, a chunk is a walk of the primary key (or
    the filter's (column, seq) index) that stops after a chunk. Rows of the range outside
    the window (events committed out of order) are read and dropped; an empty window reads
    nothing.
    """
    filterset = _filterset(user, query)  # every filter checked, the window's included
    since, until = filterset.form.cleaned_data.get("since"), filterset.form.cleaned_data.get(
        "until")
    if since is None and until is None:
        return filterset.qs, None
    untimed = {k: v for k, v in filterset.data.items() if k not in ("since", "until")}
    untimed = AuditEntryFilter(untimed, queryset=filterset.queryset)
    if not untimed.is_valid():  # a subset of filters that were valid
        raise ValidationError(untimed.errors)
    bounds = _window(since, until).aggregate(first=Min(F("seq") + 0), last=Max(F("seq") + 0))
    if bounds["first"] is None:  # an empty window: an empty range (not .none(): the JSON
        bounds = {"first": 1, "last": 0}  # Lines export compiles the statement itself)
    entries = untimed.qs.filter(seq__gte=bounds["first"], seq__lte=bounds["last"])

    def in_window(occurred_at) -> bool:
        return (since is None or occurred_at >= since) and (until is None or occurred_at < until)

    return entries, in_window


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
    entries, in_window = entries_in_chunks(user, query)
    record("audit.export", user, target=("audit", "entries"), filters=applied_filters(query))
    return export_lines(entries, keep=in_window)


def chain_verification(user, progress=None) -> verification.Verification:
    """Walk the whole chain now for an auditor; recorded as `audit.verify`. `progress(seq)`
    is told how far the walk got (the Verify page's background job shows it)."""
    _require_auditor(user)
    return verification.chain_verify(actor=user, progress=progress)


def checkpoints_page(user, query: Mapping[str, str], paginate: Callable[[QuerySet], Page]):
    """(page of signed checkpoints oldest first, public keys by id); recorded as
    `audit.view` of the checkpoints."""
    _require_auditor(user)
    page = paginate(AuditCheckpoint.objects.order_by("seq"))
    record("audit.view", user, target=("audit", "checkpoints"),
           cursor=bool(query.get("cursor")), returned=len(page))
    return page, checkpoint_public_keys()


# --- One entry, one case's trail, CSV (the auditor pages) -----------------------------------


def entry_detail(user, seq) -> tuple[AuditEntry, AuditCheckpoint | None]:
    """(entry, the first signed checkpoint at or after it, or None) for an entry the caller
    may see; an entry they may not see, or no such seq, is a 404 alike. Recorded as
    `audit.view` of that entry."""
    _require_auditor(user)
    try:
        seq = int(seq)
    except (TypeError, ValueError):
        raise Http404("No such audit entry.") from None
    entry = entries_visible_to(user).filter(seq=seq).first()
    if entry is None:
        raise Http404("No such audit entry.")
    covering = AuditCheckpoint.objects.filter(seq__gte=seq).order_by("seq").first()
    record("audit.view", user, target=("audit", str(seq)), returned=1)
    return entry, covering


def case_trail(user, case_id: str, *, limit: int = 1000) -> list[AuditEntry]:
    """The entries of one case the caller may see, oldest first (at most `limit`); recorded
    as `audit.view` with the case filter. A malformed case id is a ValidationError."""
    entries = list(filtered_entries(user, {"case": case_id}).order_by("seq")[:limit])
    record("audit.view", user, target=("audit", "entries"), filters={"case": case_id},
           trail=True, returned=len(entries))
    return entries


CSV_COLUMNS = ("seq", "occurred_at", "actor", "actor_country", "action", "target_type",
               "target_id", "case_id", "case_country", "outcome", "request_id", "hash")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (OWASP "CSV injection")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def entries_csv(user, query: Mapping[str, str], *, chunk_size: int = 1000) -> Iterator[bytes]:
    """The caller's filtered entries as CSV (a header, then one row per entry, oldest first,
    the same rows as the JSON Lines export); recorded as `audit.export` with format csv."""
    entries, in_window = entries_in_chunks(user, query)
    entries = entries.order_by("seq")
    record("audit.export", user, target=("audit", "entries"), filters=applied_filters(query),
           format="csv")

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        after = 0
        while True:
            chunk = list(entries.filter(seq__gt=after)[:chunk_size])
            for entry in chunk:
                if in_window is not None and not in_window(entry.occurred_at):
                    continue
                row = [getattr(entry, name) for name in CSV_COLUMNS]
                row[1] = chain.format_timestamp(entry.occurred_at)  # as in the JSON Lines
                writer.writerow([csv_cell(value) for value in row])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if len(chunk) < chunk_size:
                return
            after = chunk[-1].seq

    return rows()


def last_checkpoint(user) -> tuple[AuditCheckpoint | None, bytes | None]:
    """(the newest signed checkpoint, the raw public key of the key that signed it) for an
    auditor: what a Verify page shows beside the walk's result."""
    _require_auditor(user)
    checkpoint = AuditCheckpoint.objects.order_by("-seq").first()
    if checkpoint is None:
        return None, None
    return checkpoint, checkpoint_public_keys().get(checkpoint.key_id)
