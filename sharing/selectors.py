"""Reads of shares, filtered by who may see them, with what a partner must not learn withheld.

The gate: share requests are read by investigators and liaisons (auditors and administrators
get 403, as for any case content, through the case gate's role check); a request exists for
a member only when it involves their country, as the case's owner or as its recipient (404
otherwise). The selectors that answer a read record it (`share.list`). A partner who asked
from a lookup hit does not learn which case it is until the request is approved: the case's
fields are withheld on every request the selectors hand out (`withheld`).
"""

import uuid
from collections.abc import Mapping

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from cases.listing import CountryCodeFilter
from cases.paging import Page, paginate, refuse_unknown_parameters
from cases.selectors import get_case_for, is_owner, require_case_reader
from core.roles import holds_role_permission
from sharing.models import (
    SUBJECT_SCOPES,
    UNDECIDED,
    WAS_APPROVED,
    NamedSubject,
    ShareApproval,
    ShareOrigin,
    ShareRequest,
    ShareScope,
    ShareStatus,
    undecided_requests,
)

# The fields that say which case a request is about (as the API and the pages name them):
# withheld from the recipient of an offer, or of a request from a lookup hit, until the
# request is approved (ShareRequest.discloses_case_to). How
# many approvals it needs, and has, go with them: the policy is per handling code, so the
# numbers would tell the code (2 is H2 or H3 by default).
CASE_FIELDS = ("case", "case_reference", "handling_code", "handling_note", "named_subjects",
               "approvals_needed", "approvals_given")
# Who decided, for the owner's eyes only: a partner learns that its request was approved or
# denied, never which of the owner's liaisons approved it (nor their notes to each other).
OWNER_FIELDS = ("approvals", "decided_by")
# What the selectors prefetch so that approvals and approvals_needed() cost no query per row.
APPROVALS = Prefetch("approvals", queryset=ShareApproval.objects.select_related("liaison"))


def _country_code(country) -> str:
    return getattr(country, "pk", country)


def withheld_fields(share_request, user) -> tuple[str, ...]:
    """The CASE_FIELDS the user must not see on this request (all of them, or none), and an
    undisclosed offer's justification too: the owner's words about its case."""
    if share_request.discloses_case_to(user):
        return ()
    if share_request.origin == ShareOrigin.OFFER:
        return (*CASE_FIELDS, "justification")
    return CASE_FIELDS


def owner_fields_withheld(share_request, user) -> tuple[str, ...]:
    """The OWNER_FIELDS the user must not see: all of them unless of the owner country."""
    owner = getattr(user, "country_id", None) == share_request.case.owner_country_id
    return () if owner else OWNER_FIELDS


def _withhold(share_requests, user):
    """Mark what the user must not see on each request: `withheld` (the case's fields) and
    `owner_withheld` (who approved: the owner country's business).

    A request whose case is withheld shows an undecided state as `pending`: "awaiting a
    second approval" would tell the partner the case's policy asks two, so roughly its
    handling code. These rows are for reading; services re-read the row under its lock.
    """
    for share_request in share_requests:
        share_request.withheld = withheld_fields(share_request, user)
        share_request.owner_withheld = owner_fields_withheld(share_request, user)
        if share_request.withheld and share_request.is_undecided():
            share_request.status = ShareStatus.PENDING
    return share_requests


def share_requests_for(user):
    """The requests that involve the user's country, as the case's owner or as recipient."""
    country = getattr(user, "country_id", None)
    if not country:
        return ShareRequest.objects.none()
    return (
        ShareRequest.objects.filter(Q(case__owner_country=country) | Q(recipient_country=country))
        .select_related("case", "requested_by", "decided_by", "revoked_by", "renews")
        .prefetch_related("named_subjects", APPROVALS)
    )


def case_disclosed_to(user) -> Q:
    """ShareRequest.discloses_case_to as a filter, for requests already involving the user."""
    return (
        Q(case__owner_country=getattr(user, "country_id", None))
        | Q(origin=ShareOrigin.REQUEST)
        | Q(status__in=WAS_APPROVED)
        | Q(renews__isnull=False)
    )


class ShareRequestFilter(django_filters.FilterSet):
    """The share-request list's filters; `case` matches only requests whose case the caller
    may know (a filter never confirms a lookup hit's case)."""

    status = django_filters.ChoiceFilter(choices=ShareStatus.choices, method="filter_status")
    scope = django_filters.ChoiceFilter(choices=ShareScope.choices)
    origin = django_filters.ChoiceFilter(choices=ShareOrigin.choices)
    recipient_country = CountryCodeFilter(field_name="recipient_country_id", max_length=2)
    case = django_filters.UUIDFilter(method="filter_case")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_status(self, queryset, name, value):
        """As the rows show it: a request whose case is withheld is `pending` while undecided
        (see _withhold), so the filter cannot tell its second approval either."""
        withheld = ~case_disclosed_to(self.user)
        if value == ShareStatus.PENDING:
            return queryset.filter(
                Q(status=ShareStatus.PENDING) | (withheld & Q(status__in=UNDECIDED)))
        if value == ShareStatus.AWAITING_SECOND:
            return queryset.filter(case_disclosed_to(self.user), status=value)
        return queryset.filter(status=value)

    def filter_case(self, queryset, name, value):
        return queryset.filter(case_disclosed_to(self.user), case_id=value)


PARAMETERS = frozenset({*ShareRequestFilter.base_filters, "page"})


def share_request_list(user, *, params: Mapping) -> Page:
    """A page of the requests involving the user's country, newest first, case fields
    withheld where they must be; recorded as `share.list`. Unknown or bad parameters are a
    ValidationError naming each."""
    require_case_reader(user)
    refuse_unknown_parameters(params, PARAMETERS)
    filterset = ShareRequestFilter(data=params, queryset=share_requests_for(user), user=user)
    if not filterset.is_valid():
        raise ValidationError(
            {name: list(messages) for name, messages in filterset.errors.items()}
        )
    filters = {name: str(value) for name, value in filterset.form.cleaned_data.items()
               if value not in ("", None)}
    page = paginate(filterset.qs, params.get("page"), filters=filters)
    _withhold(page.items, user)
    audit.record("share.list", user, target=("sharing.sharerequest", ""), filters=filters,
                 count=page.count)
    return page


def get_share_request_for(user, share_request_id) -> ShareRequest:
    """The gate for one request: 403 for roles that read no case content; 404 unless it
    involves the user's country (malformed ids included). Case fields withheld as due."""
    require_case_reader(user)
    try:
        pk = uuid.UUID(str(share_request_id))
    except ValueError:
        raise Http404(_("Not found.")) from None
    share_request = share_requests_for(user).filter(pk=pk).first()
    if share_request is None:
        raise Http404(_("Not found."))
    _withhold([share_request], user)
    return share_request


def share_request_detail(user, share_request_id) -> ShareRequest:
    """One request (through get_share_request_for), recorded as `share.list`."""
    share_request = get_share_request_for(user, share_request_id)
    audit.record("share.list", user, target=share_request, case=share_request.case)
    return share_request


def case_holdings(case, at):
    """Who holds the case now: its approved, unexpired shares, soonest expiry first."""
    return (
        ShareRequest.objects.filter(case=case, status=ShareStatus.APPROVED, expires_at__gt=at)
        .select_related("case", "requested_by", "decided_by", "revoked_by")
        .prefetch_related("named_subjects", APPROVALS)
        .order_by("expires_at", "recipient_country")
    )


def case_share_list(user, case_id) -> list[ShareRequest]:
    """Who holds a case now, what and until when: the owner country's business only (404
    unseen, 403 for a partner who sees it); recorded as `share.list`."""
    case = get_case_for(user, case_id)
    if not is_owner(user, case):
        raise PermissionDenied(_("only the owner country sees who holds its case"))
    holdings = _withhold(list(case_holdings(case, timezone.now())), user)
    audit.record("share.list", user, target=case, holdings=len(holdings))
    return holdings


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


def active_named_subjects(case, country, at) -> dict:
    """{subject id: latest expiry} of the protected subjects that the active approved shares
    of the case to the country name (only shares that show subjects count)."""
    named: dict = {}
    rows = NamedSubject.objects.filter(
        share_request__case=case,
        share_request__recipient_country=_country_code(country),
        share_request__status=ShareStatus.APPROVED,
        share_request__expires_at__gt=at,
        share_request__scope__in=SUBJECT_SCOPES,
    ).values_list("subject_id", "share_request__expires_at")
    for subject_id, expires_at in rows:
        named[subject_id] = max(named.get(subject_id, expires_at), expires_at)
    return named


def require_liaison(user) -> None:
    """The liaison pages are for liaisons of a country (403 otherwise): a member only ever
    sees their own country's inbox and grants, so no URL names another country."""
    if not getattr(user, "country_id", None) or not holds_role_permission(
        user, "sharing.decide_sharerequest"
    ):
        raise PermissionDenied(_("only liaisons see the decision inbox and the grants"))


def _full(queryset):
    return queryset.select_related(
        "case", "recipient_country", "requested_by", "decided_by", "revoked_by", "renews"
    ).prefetch_related("named_subjects", APPROVALS)


def liaison_inbox(user) -> list[ShareRequest]:
    """The undecided requests for the liaison's country's cases (pending, or awaiting another
    approval, with the approvals given so far), oldest first (the longest waiting on top);
    recorded as `share.list`."""
    require_liaison(user)
    rows = list(_full(ShareRequest.objects.filter(
        case__owner_country=user.country_id, status__in=UNDECIDED,
    )).order_by("created_at", "pk"))
    _withhold(rows, user)
    audit.record("share.list", user, target=("sharing.sharerequest", ""),
                 filters={"view": "inbox"}, count=len(rows))
    return rows


def liaison_grants(user, *, history: bool = False, at=None) -> dict:
    """The liaison's country's shares: {"given": the active shares of its cases, soonest
    expiry first (or, with history, its expired and revoked ones, latest first),
    "received": the active shares partners gave it}; recorded as `share.list`."""
    require_liaison(user)
    at = at or timezone.now()
    ours = ShareRequest.objects.filter(case__owner_country=user.country_id)
    if history:
        given = _full(ours.filter(
            Q(status__in=(ShareStatus.EXPIRED, ShareStatus.REVOKED))
            | Q(status=ShareStatus.APPROVED, expires_at__lte=at)
        )).order_by("-expires_at", "pk")
    else:
        given = _full(ours.filter(status=ShareStatus.APPROVED, expires_at__gt=at)).order_by(
            "expires_at", "pk")
    received = _full(ShareRequest.objects.filter(
        recipient_country=user.country_id, status=ShareStatus.APPROVED, expires_at__gt=at,
    )).order_by("expires_at", "pk")
    result = {"given": _withhold(list(given), user), "received": _withhold(list(received), user)}
    audit.record("share.list", user, target=("sharing.sharerequest", ""),
                 filters={"view": "grants-history" if history else "grants"},
                 count=len(result["given"]) + len(result["received"]))
    return result


def can_offer(user, case) -> bool:
    """Who offers a case to a partner: members of its owner country whose role opens share
    requests (investigators and liaisons)."""
    return bool(getattr(user, "country_id", None)) and user.country_id == case.owner_country_id \
        and holds_role_permission(user, "sharing.add_sharerequest")


def recipients_awaiting_decision(user, case) -> set[str]:
    """The partner countries with an undecided request for a case of the member's country
    (the offer form marks them: a second undecided request is refused, 409). Empty for a
    member of another country; read with the case page's request list (`share.list`)."""
    if not can_offer(user, case):
        return set()
    return set(undecided_requests(case).values_list("recipient_country_id", flat=True))


def case_for_offer(user, case_id):
    """The gate of the offer form: 404 unseen, 403 for those who see it but do not offer."""
    case = get_case_for(user, case_id)
    if not can_offer(user, case):
        raise PermissionDenied(_("only the owner country's investigators and liaisons offer "
                                 "this case"))
    return case


def renewals_shown(share_request, user) -> list[ShareRequest]:
    """The requests that renew this share, newest first, through the same gate as any read
    (both sides see them: a renewal has the same case and recipient as its share)."""
    return _withhold(list(share_requests_for(user).filter(renews=share_request)
                          .order_by("-created_at", "pk")), user)
