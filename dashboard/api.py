"""/api/v1/flows/: a statistics member's CSV import (multipart `file`, or the CSV itself as a
text/csv body) and their country's revision history."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.selectors import revisions_for
from dashboard.serializers import FlowFileRejectedSerializer, FlowRevisionSerializer
from dashboard.services import FlowFileRejected, can_import_flows, flow_import
from dashboard.upload import MAX_FILE_BYTES, CsvUploadHandler


class CsvParser(BaseParser):
    """A raw text/csv body, kept as bytes: the service hashes and decodes it itself."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"body": stream.read(MAX_FILE_BYTES + 1) if stream else b""}


class FlowImports(APIView):
    """GET: the caller's country's revisions. POST: import a CSV (all or nothing)."""

    parser_classes = [MultiPartParser, CsvParser]

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body: the file part goes to memory, not to the default
        # handler that discards files.
        request.upload_handlers = [CsvUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not can_import_flows(request.user):
            raise PermissionDenied(_("Only a statistics member of a country imports flow "
                                     "figures."))

    @extend_schema(responses=FlowRevisionSerializer(many=True))
    def get(self, request):
        revisions = revisions_for(request.user)
        return Response({"results": FlowRevisionSerializer(revisions, many=True).data,
                         "next": None, "previous": None})

    @extend_schema(
        request={"multipart/form-data": {"type": "object",
                                         "properties": {"file": {"type": "string",
                                                                 "format": "binary"}}},
                 "text/csv": {"type": "string"}},
        responses={201: FlowRevisionSerializer,
                   400: OpenApiResponse(FlowFileRejectedSerializer,
                                        description="every problem, by line and column")},
    )
    def post(self, request):
        upload = request.FILES.get("file") if request.FILES else None
        if upload is not None:
            data, filename = upload.read(), upload.name
        elif isinstance(request.data, dict) and isinstance(request.data.get("body"), bytes):
            data, filename = request.data["body"], ""
        else:
            return Response({"detail": _("file: send the CSV as the multipart field `file` or "
                                         "as a text/csv body.")},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            revision = flow_import(actor=request.user, data=data, filename=filename)
        except FlowFileRejected as exc:
            return Response({"detail": str(exc), "problems": exc.extra["problems"]},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(FlowRevisionSerializer(revision).data, status=status.HTTP_201_CREATED)
