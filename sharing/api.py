"""Share request endpoints: thin views that parse, call a selector or a service, and render.

Whom a request involves decides whether it exists for the caller (404 otherwise); whether the
caller may act on it is the service's question (403); its state, the service's too (409).
"""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

import audit
from cases.selectors import get_case_for
from sharing import selectors, services
from sharing.models import ShareOrigin, ShareScope, ShareStatus
from sharing.serializers import (
    DecisionSerializer,
    ShareRequestOpenSerializer,
    ShareRequestSerializer,
)


class IsInvestigatorOrLiaison(permissions.BasePermission):
    """Share requests are for investigators and liaisons, not auditors or administrators."""

    message = "only investigators and liaisons work with share requests"

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_investigator or user.is_liaison))


class ShareRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ShareStatus.choices)
    scope = django_filters.ChoiceFilter(choices=ShareScope.choices)
    origin = django_filters.ChoiceFilter(choices=ShareOrigin.choices)
    recipient_country = django_filters.CharFilter(field_name="recipient_country_id")
    case = django_filters.UUIDFilter(method="filter_case")

    def filter_case(self, queryset, name, value):
        # Only requests whose case the caller may know: never confirm a hit's case by filter.
        disclosed = selectors.case_disclosed_to(self.request.user)
        return queryset.filter(disclosed, case_id=value)


def resolve_case(request, data):
    """The case a new request is about, looked up through the case gate (404 when the caller
    cannot see it, exactly like a read)."""
    return get_case_for(request.user, data["case"], "summary")


class ShareRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """GET/POST /api/v1/share-requests/, GET .../{id}/, POST .../{id}/approve|deny|revoke/."""

    serializer_class = ShareRequestSerializer
    permission_classes = [IsInvestigatorOrLiaison]
    filterset_class = ShareRequestFilter

    def get_queryset(self):
        return selectors.share_requests_for(self.request.user)

    def get_object(self):
        return selectors.get_share_request_for(self.request.user, self.kwargs["pk"])

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        audit.record("share.list", request.user, target=("sharing.sharerequest", ""),
                     filters=dict(request.query_params.items()),
                     count=response.data.get("count"))
        return response

    def retrieve(self, request, *args, **kwargs):
        share_request = self.get_object()
        audit.record("share.list", request.user, target=share_request, case=share_request.case)
        return Response(self.get_serializer(share_request).data)

    @extend_schema(request=ShareRequestOpenSerializer, responses={201: ShareRequestSerializer})
    def create(self, request, *args, **kwargs):
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
        case = resolve_case(request, data)
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

    def _decision(self, request, service):
        share_request = self.get_object()
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        share_request = service(
            share_request=share_request, liaison=request.user, note=form.validated_data["note"]
        )
        return Response(self.get_serializer(share_request).data)

    @extend_schema(request=DecisionSerializer, responses=ShareRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (owner-country liaison, not the requester): grants the scope."""
        return self._decision(request, services.share_request_approve)

    @extend_schema(request=DecisionSerializer, responses=ShareRequestSerializer)
    @action(detail=True, methods=["post"])
    def deny(self, request, pk=None):
        """Deny (owner-country liaison, not the requester)."""
        return self._decision(request, services.share_request_deny)

    @extend_schema(request=DecisionSerializer, responses=ShareRequestSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke an approved share (owner-country liaison); access ends at once."""
        return self._decision(request, services.share_request_revoke)


@extend_schema(responses=ShareRequestSerializer(many=True))
@api_view(["GET"])
@permission_classes([IsInvestigatorOrLiaison])
def case_shares(request, case_id):
    """GET /api/v1/cases/{id}/shares/: who holds the case now, what and until when (owner)."""
    case = get_case_for(request.user, case_id, "summary")
    if case.owner_country_id != request.user.country_id:
        raise PermissionDenied("only the owner country sees who holds its case")
    holdings = selectors.case_holdings(case, timezone.now())
    data = ShareRequestSerializer(holdings, many=True, context={"request": request}).data
    audit.record("share.list", request.user, target=case, holdings=len(data))
    return Response({"results": data, "next": None, "previous": None})


# The share-request routes, built here so that sharing/urls.py needs no rest_framework import.
router = SimpleRouter()
router.register("share-requests", ShareRequestViewSet, basename="share-request")
