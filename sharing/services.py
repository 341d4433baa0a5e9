"""Every change to a share: open (one recipient, or an offer to several), approve (as many
distinct liaisons as the approval policy asks), deny, revoke, renew, expire.

Each service runs in one transaction, locks the row it decides on before checking its state,
writes its audit record in that transaction and sends its notification only after commit.
Refusals (403, 409) are audited too, after the rollback, with the case they concern.

Lock order, everywhere: the case row (FOR NO KEY UPDATE), then the request row. Taking the
case first serialises every recomputation of one case's grants, so two decisions on shares
of the same case can never each write a union that misses the other's share.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from cases.models import Case, Subject
from cases.selectors import visible_cases
from core.roles import holds_role_permission
from sharing import centre, notifications
from sharing.models import (
    SUBJECT_SCOPES,
    ShareApproval,
    ShareOrigin,
    ShareRequest,
    ShareStatus,
)
from sharing.policy import approvals_required
from sharing.renewal import share_request_renew  # noqa: F401  (a service like the others)
from sharing.steps import ShareStateConflict
from sharing.steps import invalid as _invalid
from sharing.steps import lock as _lock
from sharing.steps import notify_on_commit as _notify_on_commit
from sharing.steps import record_refusal as _record_refusal
from sharing.steps import refuse_second_undecided as _refuse_second_undecided
from sharing.steps import sync_grants as _sync_grants

log = logging.getLogger(__name__)


def _named_subjects(case, scope, subject_ids) -> list[Subject]:
    """The protected subjects a request names: they must be in the case and be protected."""
    subject_ids = list(dict.fromkeys(str(s) for s in subject_ids or ()))
    if not subject_ids:
        return []
    if scope not in SUBJECT_SCOPES:
        raise _invalid("named_subjects", _("only a full or full_with_files share shows subjects"))
    subjects = list(Subject.objects.filter(case=case, pk__in=subject_ids))
    found = {str(s.pk) for s in subjects if s.is_protected}
    wrong = [s for s in subject_ids if s not in found]
    if wrong:
        raise _invalid(
            "named_subjects",
            _("not a protected subject (victim or witness) of this case: %(ids)s")
            % {"ids": ", ".join(wrong)},
        )
    return subjects


def share_request_open(
    *,
    requester,
    case: Case,
    recipient_country,
    scope: str,
    justification: str,
    expires_at,
    named_subjects=(),
    from_hit: bool = False,
) -> ShareRequest:
    """Open a share request: the owner offering its case, or a partner asking for it.

    `case` is resolved by the caller: the API looks a case id up through the case gate
    (404 when the partner cannot see it, like a read); the lookup resolves a `hit_id` to its
    case and passes `from_hit=True`, the only way to ask for a case one cannot see.
    """
    try:
        return _open(
            requester=requester, case=case, recipient_country=recipient_country, scope=scope,
            justification=justification, expires_at=expires_at, named_subjects=named_subjects,
            from_hit=from_hit,
        )
    except (PermissionDenied, ShareStateConflict) as exc:
        _record_refusal("share.open", requester, case, exc)
        raise


def share_requests_offer(
    *,
    requester,
    case: Case,
    recipient_countries,
    scope: str,
    justification: str,
    expires_at,
    named_subjects=(),
) -> list[ShareRequest]:
    """Offer one case to several partner countries at once: one request per country (each
    decided, expiring and revoked on its own), all or nothing in one transaction.

    Each request is opened exactly as share_request_open would; the first refusal (a
    recipient already with an undecided request: 409) rolls back every one, and is audited.
    No request names the others: each recipient learns only of its own.
    """
    countries = list(recipient_countries or ())
    codes = [c.pk for c in countries]
    if not countries:
        raise _invalid("recipient_countries", _("name at least one partner country"))
    if len(set(codes)) != len(codes):
        raise _invalid("recipient_countries", _("each country at most once"))
    try:
        with transaction.atomic():
            return [
                _open(requester=requester, case=case, recipient_country=country, scope=scope,
                      justification=justification, expires_at=expires_at,
                      named_subjects=named_subjects, from_hit=False)
                for country in sorted(countries, key=lambda c: c.pk)
            ]
    except (PermissionDenied, ShareStateConflict) as exc:
        _record_refusal("share.open", requester, case, exc)
        raise


def share_requests_open_from_hit(*, requester, hit_id, scope, justification, expires_at):
    """Ask for the cases behind a lookup hit: one request per matched case, the hit spent once.

    The hit is claimed in the same transaction, so a refused request leaves it unspent; a
    hit of someone else, an expired or a spent one answers 404 like an unseen case.
    """
    from sharing.lookup import lookup_hit_claim

    require_share_requester(requester)
    require_partner_asker(requester)
    with transaction.atomic():
        hit = lookup_hit_claim(user=requester, hit_id=hit_id)
        return [
            share_request_open(
                requester=requester, case=case, recipient_country=None, scope=scope,
                justification=justification, expires_at=expires_at, from_hit=True,
            )
            for case in hit.matched_cases().order_by("reference")
        ]


def require_share_requester(requester) -> None:
    """Investigators and liaisons of a country open share requests; anyone else gets 403
    (before any case or hit is looked at, so the answer says nothing about either)."""
    if not requester.country_id or not holds_role_permission(
        requester, "sharing.add_sharerequest"
    ):
        raise PermissionDenied(_("only investigators and liaisons open share requests"))


def require_partner_asker(requester) -> None:
    """Asking for a partner's case is the investigators'; liaisons only offer their own
    country's cases (same answer whether or not the case exists, so it says nothing)."""
    if not requester.is_investigator:
        raise PermissionDenied(_("only investigators ask for a partner's case; liaisons offer "
                                 "their own country's cases"))


def _open(*, requester, case, recipient_country, scope, justification, expires_at,
          named_subjects, from_hit) -> ShareRequest:
    require_share_requester(requester)
    is_owner = requester.country_id == case.owner_country_id
    if not is_owner:
        require_partner_asker(requester)
    if not is_owner and not from_hit and not visible_cases(requester).filter(pk=case.pk).exists():
        raise Http404()
    if recipient_country is None:
        if is_owner:
            raise _invalid("recipient_country", _("required when offering your country's case"))
        recipient_country = requester.country
    if recipient_country.pk == case.owner_country_id:
        raise _invalid("recipient_country",
                       _("the case's own country cannot be its recipient"))
    if not is_owner and recipient_country.pk != requester.country_id:
        # Originator control: a recipient never passes a partner's case on.
        raise PermissionDenied(
            _("only the owner country shares a case; partners may ask for it for themselves")
        )
    if from_hit and is_owner:
        raise _invalid("hit_id", _("a lookup hit on your own country's case needs no request"))
    justification = (justification or "").strip()
    if not justification:
        raise _invalid("justification", _("This field is required."))
    now = timezone.now()
    problem = ShareRequest.expiry_error(expires_at, now)
    if problem:
        raise _invalid("expires_at", problem)
    subjects = _named_subjects(case, scope, named_subjects)
    if is_owner:
        origin = ShareOrigin.OFFER
    else:
        origin = ShareOrigin.HIT if from_hit else ShareOrigin.REQUEST

    with transaction.atomic():
        # Under the case's lock, so two requests racing for the same recipient queue here.
        case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
        _refuse_second_undecided(case, recipient_country.pk)
        share_request = ShareRequest.objects.create(
            case=case,
            recipient_country=recipient_country,
            scope=scope,
            justification=justification,
            origin=origin,
            requested_by=requester,
            created_at=now,
            expires_at=expires_at,
            # The policy in force now stays this request's (a later change never alters it).
            approvals_required=approvals_required(case.owner_country_id, case.handling_code),
            handling_code_at_open=case.handling_code,
        )
        share_request.named_subjects.set(subjects)
        audit.record(
            "share.open", requester, target=share_request, case=case,
            recipient_country=recipient_country.pk, scope=scope, origin=origin,
            expires_at=expires_at, named_subjects=sorted(str(s.pk) for s in subjects),
            approvals_required=share_request.approvals_required,
        )
        centre.record_share_step(centre.OPENED, share_request, requester)
        _notify_on_commit(notifications.OPENED, share_request)
    return share_request


def _decide(*, action, share_request, liaison, note, approve: bool) -> ShareRequest:
    """Approve or deny an undecided request; only the owner's liaisons, never the requester.

    An approval adds one liaison's approval; the last one the request needs makes the grant
    (before it, the request awaits another approval). One denial ends the request.
    """
    try:
        with transaction.atomic():
            share_request = _lock(share_request)
            if not share_request.can_be_decided_by(liaison):
                raise PermissionDenied(
                    _("only a liaison of %(country)s who did not ask for it can decide this "
                      "request") % {"country": share_request.case.owner_country_id}
                )
            if not share_request.is_undecided():
                message = (
                    _("the share request is %(status)s; only a pending request can be approved")
                    if approve else
                    _("the share request is %(status)s; only a pending request can be denied")
                )
                raise ShareStateConflict(  # the state in words for people, its code for clients
                    message % {"status": share_request.get_status_display().lower()},
                    share_request.status,
                )
            now = timezone.now()
            note = (note or "").strip()
            if approve:
                return _approve(share_request, liaison, note, now)
            share_request.status = ShareStatus.DENIED
            share_request.decided_by, share_request.decided_at = liaison, now
            share_request.decision_note = note
            share_request.save(
                update_fields=["status", "decided_by", "decided_at", "decision_note"]
            )
            audit.record(
                action, liaison, target=share_request, case=share_request.case,
                recipient_country=share_request.recipient_country_id,
                scope=share_request.scope, expires_at=share_request.expires_at,
                approvals=share_request.approvals.count(),
            )
            centre.record_share_step(centre.DENIED, share_request, liaison)
            _notify_on_commit(notifications.DENIED, share_request)
    except (PermissionDenied, ShareStateConflict) as exc:
        _record_refusal(action, liaison, share_request, exc)
        raise
    return share_request


def _approve(share_request, liaison, note, now) -> ShareRequest:
    """One approval of a locked, undecided request (see _decide)."""
    if share_request.approvals.filter(liaison=liaison).exists():
        raise PermissionDenied(
            _("you already approved this request; its next approval must come from another "
              "liaison of %(country)s") % {"country": share_request.case.owner_country_id}
        )
    if share_request.expires_at <= now:
        raise ShareStateConflict(
            _("the share request is pending but its expires_at has passed; "
              "open a new request"),
            share_request.status,
        )
    ShareApproval.objects.create(share_request=share_request, liaison=liaison,
                                 approved_at=now, note=note)
    given, needed = share_request.approvals.count(), share_request.approvals_needed()
    details = {"approval": f"{given} of {needed}"}
    if given < needed:
        share_request.status = ShareStatus.AWAITING_SECOND
        share_request.save(update_fields=["status"])
    else:
        share_request.status = ShareStatus.APPROVED
        share_request.decided_by, share_request.decided_at = liaison, now
        share_request.decision_note = note
        share_request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        details["grants"] = _sync_grants(share_request.case, share_request.recipient_country,
                                         now)
    if share_request.renews_id:
        details["renews"] = str(share_request.renews_id)
    audit.record(
        "share.approve", liaison, target=share_request, case=share_request.case,
        recipient_country=share_request.recipient_country_id,
        scope=share_request.scope, expires_at=share_request.expires_at, **details,
    )
    if share_request.status == ShareStatus.APPROVED:
        centre.record_share_step(centre.APPROVED, share_request, liaison)
        _notify_on_commit(notifications.APPROVED, share_request)
    return share_request


def share_request_approve(*, share_request, liaison, note="") -> ShareRequest:
    """Approve: one more approval; the last one the policy asks for grants the scope (the
    recipient country's grants become the union of its active shares)."""
    return _decide(action="share.approve", share_request=share_request, liaison=liaison,
                   note=note, approve=True)


def share_request_deny(*, share_request, liaison, note="") -> ShareRequest:
    """Deny an undecided request, even after some approvals; it stays as history and grants
    nothing."""
    return _decide(action="share.deny", share_request=share_request, liaison=liaison,
                   note=note, approve=False)


def _linked_renewals(share_request) -> list[ShareRequest]:
    """The other requests of its renewal chain (what it renews, what renews it, and so on),
    locked; the caller holds the case's lock, so the chain cannot change meanwhile."""
    seen, frontier, linked = {share_request.pk}, [share_request], []
    while frontier:
        ids = {r.renews_id for r in frontier if r.renews_id} | {r.pk for r in frontier}
        rows = list(ShareRequest.objects.select_for_update().filter(
            Q(pk__in=[r.renews_id for r in frontier if r.renews_id]) | Q(renews_id__in=ids)
        ).order_by("created_at", "pk"))
        frontier = [r for r in rows if r.pk not in seen]
        seen.update(r.pk for r in frontier)
        linked += frontier
    return linked


def share_request_revoke(*, share_request, liaison, note="") -> ShareRequest:
    """Take an approved share back at once; other active shares of the case keep theirs.

    A share and its renewals are one grant continued: revoking one revokes every approved
    request of its renewal chain, and cancels a renewal still undecided.
    """
    try:
        with transaction.atomic():
            share_request = _lock(share_request)
            if not share_request.can_be_revoked_by(liaison):
                raise PermissionDenied(
                    _("only a liaison of %(country)s can revoke a share")
                    % {"country": share_request.case.owner_country_id}
                )
            if share_request.status != ShareStatus.APPROVED:
                raise ShareStateConflict(
                    _("the share request is %(status)s; only an approved share can be revoked")
                    % {"status": share_request.get_status_display().lower()},
                    share_request.status,
                )
            now = timezone.now()
            note = (note or "").strip()
            revoked, cancelled = [share_request], []
            for linked in _linked_renewals(share_request):
                linked.case = share_request.case
                if linked.status == ShareStatus.APPROVED:
                    revoked.append(linked)
                elif linked.is_undecided():
                    cancelled.append(linked)
            for row in revoked:
                row.status = ShareStatus.REVOKED
                row.revoked_by, row.revoked_at, row.revocation_note = liaison, now, note
                row.save(update_fields=["status", "revoked_by", "revoked_at", "revocation_note"])
            for row in cancelled:
                row.status = ShareStatus.CANCELLED
                row.decided_by, row.decided_at = liaison, now
                row.save(update_fields=["status", "decided_by", "decided_at"])
            grants = _sync_grants(share_request.case, share_request.recipient_country, now)
            for row in revoked:
                extra = {} if row is share_request else {"with_share": str(share_request.pk)}
                audit.record(
                    "share.revoke", liaison, target=row, case=row.case,
                    recipient_country=row.recipient_country_id, scope=row.scope,
                    grants=grants, **extra,
                )
                centre.record_share_step(centre.REVOKED, row, liaison)
                _notify_on_commit(notifications.REVOKED, row)
            for row in cancelled:
                audit.record(
                    "share.cancel", liaison, target=row, case=row.case,
                    recipient_country=row.recipient_country_id, scope=row.scope,
                    renews=str(row.renews_id), revoked=str(share_request.pk),
                )
                centre.record_share_step(centre.CANCELLED, row, liaison)
    except (PermissionDenied, ShareStateConflict) as exc:
        _record_refusal("share.revoke", liaison, share_request, exc)
        raise
    return share_request


def share_expire_due(*, at=None) -> int:
    """Mark approved shares past their expiry as expired and take their grants away.

    One short transaction per share; a share already expired, revoked or extended by the
    time its lock is taken is skipped, so running twice (or in two workers) is harmless.
    """
    at = at or timezone.now()
    due = list(
        ShareRequest.objects.filter(status=ShareStatus.APPROVED, expires_at__lte=at)
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )
    expired = 0
    for pk in due:
        with transaction.atomic():
            try:
                share_request = _lock(ShareRequest(pk=pk))
            except ShareRequest.DoesNotExist:  # its case was deleted meanwhile
                continue
            if share_request.status != ShareStatus.APPROVED or share_request.expires_at > at:
                continue
            share_request.status = ShareStatus.EXPIRED
            share_request.save(update_fields=["status"])
            grants = _sync_grants(share_request.case, share_request.recipient_country, at)
            audit.record(
                "share.expire", None, target=share_request, case=share_request.case,
                recipient_country=share_request.recipient_country_id,
                scope=share_request.scope, expires_at=share_request.expires_at, grants=grants,
            )
            expired += 1
    if expired:
        log.info("expired %d share(s)", expired)
    return expired
