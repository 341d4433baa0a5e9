"""The auditor API: entries, export, verification and checkpoints. Thin: parse, call the
audit selector (which gates, filters and records the read), render.

A refusal is a 403 that the API exception handler records as access.denied.
"""

import base64

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import chain, selectors
from audit.actions import ACTIONS, Outcome
from audit.filters import FILTER_NAMES, PAGING_PARAMETERS
from audit.serializers import (
    AuditCheckpointSerializer,
    AuditEntrySerializer,
    VerificationSerializer,
)

FILTER_PARAMETERS = [
    OpenApiParameter("actor", OpenApiTypes.STR),
    OpenApiParameter("action", OpenApiTypes.STR, enum=sorted(ACTIONS)),
    OpenApiParameter("case", OpenApiTypes.UUID),
    OpenApiParameter("country", OpenApiTypes.STR, pattern="^[A-Za-z]{2}$",
                     description="actor's or case's (ISO 3166 alpha-2)"),
    OpenApiParameter("outcome", OpenApiTypes.STR, enum=list(Outcome.ALL)),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="occurred_at >="),
    OpenApiParameter("until", OpenApiTypes.DATETIME,
                     description="occurred_at <; later than `since` when both are given "
                                 "(else 400 naming until)"),
]


class IsAuditor(permissions.BasePermission):
    message = selectors.NOT_AN_AUDITOR

    def has_permission(self, request, view):
        return selectors.can_read_audit(request.user)


class _SeqCursor(CursorPagination):
    """Cursor pagination by seq; a bad cursor is a 400 naming it, not a 404 or a 500."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        """`page_size` from 1 to max_page_size, as the schema says; else a 400 naming it
        (DRF would quietly fall back to the default for 0 or a word, and cut a larger one)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"a whole number from 1 to {self.max_page_size}"]}
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = False
        # DRF checks the cursor's offset and direction, not its position: a forged
        # non-number would reach the database as a seq (a 500).
        if cursor is False or (cursor is not None and cursor.position is not None
                               and not str(cursor.position).lstrip("-").isdigit()):
            raise exceptions.ValidationError({"cursor": ["invalid cursor"]})
        return cursor


class EntryCursor(_SeqCursor):
    ordering = "-seq"  # newest first


class CheckpointCursor(_SeqCursor):
    ordering = "seq"  # oldest first: an outside copy follows `next` to keep up
    page_size = 1000


class _ExportNegotiation(DefaultContentNegotiation):
    """The export answers JSON Lines whatever renderer the client's Accept names: it is the
    one type the endpoint produces (and advertises), so `Accept: application/x-ndjson`, the
    natural thing to send, must not be a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type


class AuditAPIView(APIView):
    """Auditors only; answers are never cached; query parameters are checked by name; the
    selectors' Django errors become the API's."""

    permission_classes = [permissions.IsAuthenticated, IsAuditor]
    allowed_parameters: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and the auditor check first
        unknown = sorted(set(request.query_params) - set(self.allowed_parameters))
        if unknown:
            raise exceptions.ValidationError(
                {name: ["not a filter of this endpoint"] for name in unknown}
            )
        # As everywhere in the API (workinggroup.query_api, below this app): a parameter given
        # has a value; leave it out to mean no filter.
        empty = sorted(name for name, value in request.query_params.items() if value == "")
        if empty:
            raise exceptions.ValidationError(
                {name: ["may not be empty: leave the parameter out instead"] for name in empty}
            )

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(exc.message_dict)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True)
        return response


class EntryList(AuditAPIView):
    """Audit entries the caller may see, newest first, filtered, cursor-paginated."""

    allowed_parameters = (*FILTER_NAMES, *PAGING_PARAMETERS)
    pagination_class = EntryCursor  # also tells the schema the answer is paginated

    @extend_schema(parameters=FILTER_PARAMETERS, responses=AuditEntrySerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = selectors.entries_page(
            request.user, request.query_params,
            lambda entries: paginator.paginate_queryset(entries, request, view=self),
        )
        return paginator.get_paginated_response(AuditEntrySerializer(page, many=True).data)


class Export(AuditAPIView):
    """The caller's visible entries, filtered, as JSON Lines of exactly the chain's objects."""

    allowed_parameters = FILTER_NAMES
    content_negotiation_class = _ExportNegotiation

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses={(200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request):
        lines = selectors.entries_export(request.user, request.query_params)
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.jsonl"'
        return response


class Verify(AuditAPIView):
    """Walk the whole chain now: {ok, entries_checked, first_bad_seq, reason}."""

    @extend_schema(responses=VerificationSerializer)
    def get(self, request):
        return Response(VerificationSerializer(selectors.chain_verification(request.user)).data)


class CheckpointList(AuditAPIView):
    """Signed checkpoints, oldest first, with the public keys and the exact signed message."""

    allowed_parameters = PAGING_PARAMETERS
    pagination_class = CheckpointCursor

    @extend_schema(responses=AuditCheckpointSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page, public_keys = selectors.checkpoints_page(
            request.user, request.query_params,
            lambda checkpoints: paginator.paginate_queryset(checkpoints, request, view=self),
        )
        response = paginator.get_paginated_response(
            AuditCheckpointSerializer(page, many=True).data
        )
        response.data["algorithm"] = "Ed25519"
        response.data["message"] = chain.CHECKPOINT_MESSAGE_TEMPLATE
        response.data["public_keys"] = {
            key_id: {"hex": raw.hex(), "base64": base64.b64encode(raw).decode("ascii")}
            for key_id, raw in public_keys.items()
        }
        return response
