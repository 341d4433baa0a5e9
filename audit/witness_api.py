"""The witnessed log's auditor API, beside the checkpoints: notes, proofs, proof bundles.

Thin, as audit/api.py: parse, call the reader in audit/proofs.py (which gates and records),
render. Auditors only; a country auditor gets proofs only of entries they may see (404).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from audit import proofs
from audit.api import FILTER_PARAMETERS, AuditAPIView, CheckpointCursor
from audit.filters import FILTER_NAMES, PAGING_PARAMETERS
from audit.serializers import CheckpointNoteSerializer

# A sequence number or tree size fits the database's bigint.
MAX_SEQ = 2**63 - 1


def SEQ(name: str, *, required: bool = False) -> OpenApiParameter:  # noqa: N802
    """A sequence number or tree size, as `_number` reads it: a whole number from 0."""
    return OpenApiParameter(name, {"type": "integer", "minimum": 0, "maximum": MAX_SEQ},
                            required=required)


def _number(request, name: str, *, required: bool = True) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        if required:
            raise exceptions.ValidationError({name: ["required"]})
        return None
    if not (value.isascii() and value.isdigit() and int(value) <= MAX_SEQ):
        raise exceptions.ValidationError({name: ["must be a non-negative integer"]})
    return int(value)


class NoteCursor(CheckpointCursor):
    ordering = "id"  # oldest first, as the checkpoints


class NoteList(AuditAPIView):
    """Checkpoint notes (C2SP) with their cosignatures, the log's keys and the witnesses."""

    allowed_parameters = PAGING_PARAMETERS
    pagination_class = NoteCursor

    @extend_schema(responses=CheckpointNoteSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page, keys = proofs.notes_page(
            request.user, request.query_params,
            lambda notes: paginator.paginate_queryset(notes, request, view=self),
        )
        response = paginator.get_paginated_response(
            CheckpointNoteSerializer(page, many=True).data
        )
        response.data.update(keys)
        return response


class InclusionProof(AuditAPIView):
    """?seq=S[&size=N]: the entry's RFC 9162 inclusion proof (default: the latest note)."""

    allowed_parameters = ("seq", "size")

    @extend_schema(
        parameters=[SEQ("seq", required=True), SEQ("size")],
        responses={200: OpenApiTypes.OBJECT,
                   404: OpenApiResponse(description="No entry you may see has this seq.")},
        description="`size` runs from `seq` to the tree's size (else 400 naming size).",
    )
    def get(self, request):
        return Response(proofs.inclusion(request.user, seq=_number(request, "seq"),
                                         size=_number(request, "size", required=False)))


class ConsistencyProof(AuditAPIView):
    """?old=M&new=N: the RFC 9162 consistency proof between two tree sizes."""

    allowed_parameters = ("old", "new")

    @extend_schema(parameters=[SEQ("old", required=True), SEQ("new", required=True)],
                   responses=OpenApiTypes.OBJECT,
                   description="0 <= old <= new <= the tree's size (else 400 naming old).")
    def get(self, request):
        return Response(proofs.consistency(request.user, old=_number(request, "old"),
                                           new=_number(request, "new")))


class ProofBundle(AuditAPIView):
    """The proof bundle of an export with the same filters (docs/audit.md verifies it)."""

    allowed_parameters = FILTER_NAMES

    @extend_schema(parameters=FILTER_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(proofs.bundle(request.user, request.query_params))
