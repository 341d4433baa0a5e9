"""The witnessed log's auditor API, beside the checkpoints: notes, proofs, proof bundles.

Auditors only (the same gate as the rest of /api/v1/audit/); every answer is recorded as
audit.view. A country auditor gets proofs only of entries they may see (404 otherwise).
"""

from django.core.exceptions import ValidationError
from rest_framework import exceptions, generics
from rest_framework.response import Response

import audit
from audit import proofs, selectors, witnessing
from audit.api import AuditAPIView, CheckpointCursor
from audit.filters import FILTER_NAMES, PAGING_PARAMETERS, AuditEntryFilter, applied_filters
from audit.serializers import CheckpointNoteSerializer
from audit.witnessed_models import CheckpointNote


def _int(request, name, default=None):
    value = request.query_params.get(name)
    if value is None:
        if default is None:
            raise exceptions.ValidationError({name: ["required"]})
        return default
    if not value.isdigit():
        raise exceptions.ValidationError({name: ["must be a non-negative integer"]})
    return int(value)


def _domain(call):
    try:
        return call()
    except ValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict) from None


class NoteCursor(CheckpointCursor):
    ordering = "id"  # oldest first, as the checkpoints


class NoteList(AuditAPIView, generics.ListAPIView):
    """Checkpoint notes (C2SP) with their cosignatures, the log's keys and the witnesses."""

    serializer_class = CheckpointNoteSerializer
    pagination_class = NoteCursor
    allowed_parameters = PAGING_PARAMETERS
    queryset = CheckpointNote.objects.prefetch_related("cosignatures")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        origins = sorted({row["origin"] for row in response.data["results"]}
                         | {witnessing.current_origin()})
        response.data["log_keys"] = {origin: witnessing.log_vkey(origin) for origin in origins}
        response.data["current_origin"] = witnessing.current_origin()
        response.data["witnesses"] = [
            {"name": w.name, "url": w.url, "vkey": proofs._vkey(w)}
            for w in witnessing.configured_witnesses()
        ]
        response.data["quorum"] = witnessing.quorum()
        audit.record("audit.view", request.user, target=("audit", "notes"),
                     returned=len(response.data["results"]))
        return response


class InclusionProof(AuditAPIView):
    """?seq=S[&size=N]: the entry's RFC 9162 inclusion proof (default: the latest note)."""

    allowed_parameters = ("seq", "size")

    def get(self, request):
        seq = _int(request, "seq")
        size = _int(request, "size", default=-1)
        visible = selectors.entries_visible_to(request.user)
        data = _domain(lambda: proofs.inclusion(visible, seq=seq,
                                                size=None if size < 0 else size))
        audit.record("audit.view", request.user, target=("audit", "proofs"),
                     proof="inclusion", seq=seq, tree_size=data["tree_size"])
        return Response(data)


class ConsistencyProof(AuditAPIView):
    """?old=M&new=N: the RFC 9162 consistency proof between two tree sizes."""

    allowed_parameters = ("old", "new")

    def get(self, request):
        old, new = _int(request, "old"), _int(request, "new")
        data = _domain(lambda: proofs.consistency(old=old, new=new))
        audit.record("audit.view", request.user, target=("audit", "proofs"),
                     proof="consistency", old=old, new=new)
        return Response(data)


class ProofBundle(AuditAPIView, generics.GenericAPIView):
    """The proof bundle of an export with the same filters (docs/audit.md verifies it)."""

    allowed_parameters = FILTER_NAMES
    filterset_class = AuditEntryFilter
    pagination_class = None

    def get_queryset(self):
        return selectors.entries_visible_to(self.request.user)

    def get(self, request):
        from django_filters.rest_framework import DjangoFilterBackend

        entries = DjangoFilterBackend().filter_queryset(request, self.get_queryset(), self)
        data = _domain(lambda: proofs.bundle(entries))
        audit.record("audit.export", request.user, target=("audit", "proof-bundle"),
                     filters=applied_filters(request.query_params),
                     entries=len(data["entries"]))
        return Response(data)
