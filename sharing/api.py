"""Share request endpoints: thin views that parse, call a selector or a service, and render.

The domain decides everything: the gate (auditors and administrators 403, a request not
involving the caller's country 404), the filters and paging, what a partner must not see
(withheld case fields) and the audit record of each read (sharing.selectors); who may act
(403) and in which state (409), the services.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cases.api import page_response
from cases.selectors import get_case_for
from sharing import selectors, services
from sharing.serializers import (
    DecisionSerializer,
    ShareRenewSerializer,
    ShareRequestOpenSerializer,
    ShareRequestSerializer,
)
from workinggroup.query_api import refuse_empty_values
from workinggroup.schema_api import one_or_results, results_page


class ShareRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """GET/POST /api/v1/share-requests/, GET .../{id}/, POST .../{id}/approve|deny|revoke|renew/."""

    serializer_class = ShareRequestSerializer
    # For the OpenAPI schema's query parameters; the filtering itself is sharing.selectors'.
    filter_backends = [DjangoFilterBackend]
    filterset_class = selectors.ShareRequestFilter

    def get_queryset(self):
        return selectors.share_requests_for(self.request.user)  # for the schema only

    @extend_schema(parameters=[OpenApiParameter("page", int, description="page number")])
    def list(self, request, *args, **kwargs):
        refuse_empty_values(request.query_params)
        page = selectors.share_request_list(request.user, params=request.query_params)
        return page_response(request, page, self.get_serializer(page.items, many=True).data)

    def retrieve(self, request, pk=None):
        share_request = selectors.share_request_detail(request.user, pk)
        return Response(self.get_serializer(share_request).data)

    @extend_schema(
        request=ShareRequestOpenSerializer,
        responses={
            201: one_or_results("ShareRequestOpened", ShareRequestSerializer),
            404: OpenApiResponse(description="The case (or hit) is not visible to you."),
        },
        description=(
            "Open a share request for `case` (one request) or for the cases behind a lookup "
            "`hit_id` (`{results: [...]}`, one per case). Give exactly one of the two; "
            "`named_subjects` only with `case`. With `case`, an owner offering its case names "
            "`recipient_country` (one request) or `recipient_countries` (an offer to several "
            "partners, all or nothing: `{results: [...]}`, one request per country; 409 and "
            "nothing opened if any of them already has an undecided request for the case); a "
            "partner asking for itself names neither. `expires_at` must be in the future and "
            "at most 365 days ahead. Each rule the shape cannot state answers 400 naming the "
            "field; a case you cannot see, 404."
        ),
    )
    def create(self, request, *args, **kwargs):
        services.require_share_requester(request.user)  # 403 before looking at the body
        form = ShareRequestOpenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if "hit_id" in data:
            opened = services.share_requests_open_from_hit(
                requester=request.user, hit_id=data["hit_id"], scope=data["scope"],
                justification=data["justification"], expires_at=data["expires_at"],
            )
            return Response({"results": self.get_serializer(opened, many=True).data},
                            status=201)
        # The case through the gate: 404 when the caller cannot see it, exactly like a read.
        case = get_case_for(request.user, data["case"])
        if "recipient_countries" in data:
            opened = services.share_requests_offer(
                requester=request.user, case=case,
                recipient_countries=data["recipient_countries"], scope=data["scope"],
                justification=data["justification"], expires_at=data["expires_at"],
                named_subjects=data["named_subjects"],
            )
            return Response({"results": self.get_serializer(opened, many=True).data},
                            status=201)
        share_request = services.share_request_open(
            requester=request.user,
            case=case,
            recipient_country=data.get("recipient_country"),
            scope=data["scope"],
            justification=data["justification"],
            expires_at=data["expires_at"],
            named_subjects=data["named_subjects"],
        )
        return Response(self.get_serializer(share_request).data, status=201)

    def _decision(self, request, pk, service):
        share_request = selectors.get_share_request_for(request.user, pk)
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        share_request = service(
            share_request=share_request, liaison=request.user, note=form.validated_data["note"]
        )
        return Response(self.get_serializer(share_request).data)

    @extend_schema(request=DecisionSerializer, responses=ShareRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (owner-country liaison, not the requester, not one who approved it
        already: 403 with the reason). The last approval the policy asks for grants the
        scope; before it, the status is `awaiting_second_approval`."""
        return self._decision(request, pk, services.share_request_approve)

    @extend_schema(request=DecisionSerializer, responses=ShareRequestSerializer)
    @action(detail=True, methods=["post"])
    def deny(self, request, pk=None):
        """Deny (owner-country liaison, not the requester), pending or awaiting a second
        approval: one denial ends the request."""
        return self._decision(request, pk, services.share_request_deny)

    @extend_schema(request=DecisionSerializer, responses=ShareRequestSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke an approved share (owner-country liaison); access ends at once. Its
        renewals go with it: an approved one is revoked, an undecided one `cancelled`."""
        return self._decision(request, pk, services.share_request_revoke)

    @extend_schema(request=ShareRenewSerializer, responses={201: ShareRequestSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        """Ask to renew an approved share before it expires (an investigator of the owner
        or the recipient country): a new request with `renews` set, the same case,
        recipient, scope and named subjects, decided under the approval policy; approved,
        the share goes on without a gap."""
        grant = selectors.get_share_request_for(request.user, pk)
        form = ShareRenewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        renewal = services.share_request_renew(
            requester=request.user, grant=grant,
            justification=form.validated_data["justification"],
            expires_at=form.validated_data["expires_at"],
        )
        return Response(self.get_serializer(renewal).data, status=201)


@extend_schema(responses=results_page("ShareHoldingPage", ShareRequestSerializer))
@api_view(["GET"])
def case_shares(request, case_id):
    """GET /api/v1/cases/{id}/shares/: who holds the case now, what and until when (owner)."""
    holdings = selectors.case_share_list(request.user, case_id)
    data = ShareRequestSerializer(holdings, many=True, context={"request": request}).data
    return Response({"results": data, "next": None, "previous": None})


# The share-request routes, built here so that sharing/urls.py needs no rest_framework import.
router = SimpleRouter()
router.register("share-requests", ShareRequestViewSet, basename="share-request")
