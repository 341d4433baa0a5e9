"""Reads of shares, filtered by who may see them, and the pieces the case gate ANDs in."""

import uuid

from django.db.models import Q
from django.http import Http404

from cases.permissions import SCOPES
from sharing.models import (
    WAS_APPROVED,
    NamedSubject,
    ShareOrigin,
    ShareRequest,
    ShareScope,
    ShareStatus,
)


def _country_code(country) -> str:
    return getattr(country, "pk", country)


def covering_scopes(scope: str) -> list[str]:
    """Share scopes whose permissions include everything reading at `scope` needs."""
    return [s for s in ShareScope.values if SCOPES[scope] <= SCOPES[s]]


def named_subject_ids(case, country, at):
    """Ids of protected subjects of the case named by an active share to the country.

    A subquery (values of subject_id): the case's subject selector shows partners the
    non-protected subjects plus `Q(pk__in=named_subject_ids(case, country, now))`.
    """
    return NamedSubject.objects.filter(
        share_request__case=case,
        share_request__recipient_country=_country_code(country),
        share_request__status=ShareStatus.APPROVED,
        share_request__expires_at__gt=at,
        share_request__scope__in=covering_scopes(ShareScope.FULL),
    ).values("subject_id")


def share_requests_for(user):
    """The requests that involve the user's country, as the case's owner or as recipient."""
    country = getattr(user, "country_id", None)
    if not country:
        return ShareRequest.objects.none()
    return (
        ShareRequest.objects.filter(Q(case__owner_country=country) | Q(recipient_country=country))
        .select_related("case", "requested_by", "decided_by", "revoked_by")
        .prefetch_related("named_subjects")
    )


def case_disclosed_to(user) -> Q:
    """ShareRequest.discloses_case_to as a filter, for requests already involving the user."""
    return (
        Q(case__owner_country=getattr(user, "country_id", None))
        | ~Q(origin=ShareOrigin.HIT)
        | Q(status__in=WAS_APPROVED)
    )


def get_share_request_for(user, share_request_id) -> ShareRequest:
    """The request if it involves the user's country; otherwise 404, malformed ids included."""
    try:
        pk = uuid.UUID(str(share_request_id))
    except ValueError:
        raise Http404() from None
    share_request = share_requests_for(user).filter(pk=pk).first()
    if share_request is None:
        raise Http404()
    return share_request


def case_holdings(case, at):
    """Who holds the case now: its approved, unexpired shares, soonest expiry first."""
    return (
        ShareRequest.objects.filter(case=case, status=ShareStatus.APPROVED, expires_at__gt=at)
        .select_related("case", "requested_by", "decided_by", "revoked_by")
        .prefetch_related("named_subjects")
        .order_by("expires_at", "recipient_country")
    )


def active_scopes(case, country, at) -> list[tuple[str, object]]:
    """(scope, expires_at) of the active approved shares of the case to the country."""
    return list(
        ShareRequest.objects.filter(
            case=case,
            recipient_country=_country_code(country),
            status=ShareStatus.APPROVED,
            expires_at__gt=at,
        ).values_list("scope", "expires_at")
    )


def held_shares(user, case_ids, at=None) -> dict:
    """{case id: (scope, expires_at)} of the active shares the user's country holds on the
    given cases: the widest scope, and the latest expiry, per case."""
    from django.utils import timezone

    country = getattr(user, "country_id", None)
    if not country or not case_ids:
        return {}
    rows = ShareRequest.objects.filter(
        case_id__in=list(case_ids), recipient_country=country, status=ShareStatus.APPROVED,
        expires_at__gt=at or timezone.now(),
    ).values_list("case_id", "scope", "expires_at")
    order = list(ShareScope.values)
    held: dict = {}
    for case_id, scope, expires_at in rows:
        best = held.get(case_id)
        if best is None or order.index(scope) > order.index(best[0]):
            held[case_id] = (scope, max(expires_at, best[1]) if best else expires_at)
        else:
            held[case_id] = (best[0], max(expires_at, best[1]))
    return held
