"""The auditor API: entries, export, verification and checkpoints. Thin: parse, gate, render.

Every answer is audited (audit.view, audit.export, audit.verify); a refusal is a 403 that the
API exception handler records as access.denied.
"""

import base64

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

import audit
from audit import chain, selectors, services
from audit.actions import ACTIONS, Outcome
from audit.filters import FILTER_NAMES, PAGING_PARAMETERS, AuditEntryFilter, applied_filters
from audit.models import AuditCheckpoint
from audit.serializers import (
    AuditCheckpointSerializer,
    AuditEntrySerializer,
    VerificationSerializer,
)


class IsAuditor(permissions.BasePermission):
    message = "Only auditors may read the audit log."

    def has_permission(self, request, view):
        return selectors.can_read_audit(request.user)


class _SeqCursor(CursorPagination):
    """Cursor pagination by seq; a bad cursor is a 400 naming it, not a 404."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": ["invalid cursor"]}) from None


class EntryCursor(_SeqCursor):
    ordering = "-seq"  # newest first


class CheckpointCursor(_SeqCursor):
    ordering = "seq"  # oldest first: an outside copy follows `next` to keep up
    page_size = 1000


class AuditAPIView(APIView):
    """Auditors only; answers are never cached; query parameters are checked by name."""

    permission_classes = [permissions.IsAuthenticated, IsAuditor]
    allowed_parameters: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and the auditor check first
        unknown = sorted(set(request.query_params) - set(self.allowed_parameters))
        if unknown:
            raise exceptions.ValidationError(
                {name: ["not a filter of this endpoint"] for name in unknown}
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True)
        return response


class EntryList(AuditAPIView, generics.ListAPIView):
    """Audit entries the caller may see, newest first, filtered, cursor-paginated."""

    serializer_class = AuditEntrySerializer
    pagination_class = EntryCursor
    allowed_parameters = (*FILTER_NAMES, *PAGING_PARAMETERS)
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEntryFilter

    def get_queryset(self):
        return selectors.entries_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        audit.record(
            "audit.view",
            request.user,
            target=("audit", "entries"),
            filters=applied_filters(request.query_params),
            cursor=bool(request.query_params.get("cursor")),
            returned=len(response.data["results"]),
        )
        return response


class Export(AuditAPIView, generics.GenericAPIView):
    """The caller's visible entries, filtered, as JSON Lines of exactly the chain's objects."""

    allowed_parameters = FILTER_NAMES
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEntryFilter
    pagination_class = None

    def get_queryset(self):
        return selectors.entries_visible_to(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("actor", OpenApiTypes.STR),
            OpenApiParameter("action", OpenApiTypes.STR, enum=sorted(ACTIONS)),
            OpenApiParameter("case", OpenApiTypes.UUID),
            OpenApiParameter("country", OpenApiTypes.STR, description="actor's or case's"),
            OpenApiParameter("outcome", OpenApiTypes.STR, enum=list(Outcome.ALL)),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="occurred_at >="),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="occurred_at <"),
        ],
        responses={(200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        entries = self.filter_queryset(self.get_queryset())  # a bad filter value is a 400
        filters = applied_filters(request.query_params)
        audit.record("audit.export", request.user, target=("audit", "entries"), filters=filters)
        response = StreamingHttpResponse(
            selectors.export_lines(entries), content_type="application/x-ndjson"
        )
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.jsonl"'
        return response


class Verify(AuditAPIView):
    """Walk the whole chain now: {ok, entries_checked, first_bad_seq, reason}."""

    @extend_schema(responses=VerificationSerializer)
    def get(self, request):
        result = services.chain_verify(actor=request.user)
        return Response(VerificationSerializer(result).data)


class CheckpointList(AuditAPIView, generics.ListAPIView):
    """Signed checkpoints, oldest first, with the public keys and the exact signed message."""

    serializer_class = AuditCheckpointSerializer
    pagination_class = CheckpointCursor
    allowed_parameters = PAGING_PARAMETERS
    queryset = AuditCheckpoint.objects.all()

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        response.data["algorithm"] = "Ed25519"
        response.data["message"] = chain.CHECKPOINT_MESSAGE_TEMPLATE
        response.data["public_keys"] = {
            key_id: {"hex": raw.hex(), "base64": base64.b64encode(raw).decode("ascii")}
            for key_id, raw in selectors.checkpoint_public_keys().items()
        }
        audit.record(
            "audit.view",
            request.user,
            target=("audit", "checkpoints"),
            cursor=bool(request.query_params.get("cursor")),
            returned=len(response.data["results"]),
        )
        return response
