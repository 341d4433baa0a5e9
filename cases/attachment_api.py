"""Attachment endpoints: list and upload a case's evidence files, stream one file's content.

GET/POST /api/v1/cases/{id}/attachments/ and GET /api/v1/attachments/{id}/content/. The
views parse and render; cases.attachments decides who may do what and does it.
"""


from django.core.exceptions import SuspiciousOperation
from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from cases import attachments
from cases.api import page_response
from cases.crypto import AttachmentIntegrityError
from cases.downloads import file_response
from cases.filetypes import CONTENT_TYPES
from cases.models import Attachment
from cases.upload import EncryptingUploadHandler, UploadRefused
from workinggroup.query_api import refuse_empty_values


class AttachmentSerializer(serializers.ModelSerializer):
    """Metadata only: key ids, wrapped keys and storage names never leave the server."""

    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    content_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id", "case", "filename", "content_type", "size", "sha256",
            "uploaded_by", "uploaded_at", "content_url",
        ]
        read_only_fields = fields

    def get_content_url(self, obj) -> str:
        return reverse("attachment-content", args=[obj.pk])


class IntegrityFailure(APIException):
    status_code = 500
    default_detail = (
        "The file failed its integrity check and was not sent; the incident is logged."
    )
    default_code = "integrity_failure"


class _BodylessRequest:
    """The request as the CSRF check sees it: an empty form, so the body stays unread."""

    def __init__(self, request):
        self._request = request

    @property
    def POST(self):  # noqa: N802 (Django's name)
        return QueryDict()

    def __getattr__(self, name):
        return getattr(self._request, name)


def _project_session_authentication() -> type[SessionAuthentication]:
    """The session authentication the API is configured with (whatever sign-in requires)."""
    for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(cls, SessionAuthentication):
            return cls
    return SessionAuthentication


class UploadSessionAuthentication(_project_session_authentication()):
    """The project's session sign-in, with the CSRF token taken from the X-CSRFToken header.

    Django's CSRF check looks for a form field first, which would parse the multipart body
    before the access checks and before the encrypting handler is armed.
    """

    def enforce_csrf(self, request):
        super().enforce_csrf(_BodylessRequest(request))


def _upload_authentication_classes() -> list[type]:
    """The API's authenticators, with session sign-in swapped for the upload-safe one."""
    return [
        UploadSessionAuthentication if issubclass(cls, SessionAuthentication) else cls
        for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES
    ]


class UploadSessionScheme(SessionScheme):
    """The session cookie, with the CSRF token in the X-CSRFToken header (OpenAPI schema)."""

    target_class = UploadSessionAuthentication
    name = "cookieAuthCsrfHeader"


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """The content endpoint sends the file whatever Accept says (errors stay JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class EvidenceFileField(serializers.FileField):
    """The upload's `file` part. Declared binary: drf-spectacular would otherwise describe a
    FileField as a URI string, and Swagger UI would offer a text box instead of a file."""


# The file as stored, with the content type its bytes were recognised as at upload.
DOWNLOAD_RESPONSES = {(200, content_type): OpenApiResponse(OpenApiTypes.BINARY)
                      for content_type in CONTENT_TYPES}

UPLOAD_REQUEST = inline_serializer(
    "AttachmentUpload", {"file": EvidenceFileField(help_text="the evidence file")}
)


class CaseAttachmentsView(GenericAPIView):
    """A case's evidence files: list (holders of `full`), upload (owner-country investigators)."""

    serializer_class = AttachmentSerializer
    queryset = Attachment.objects.none()  # for the schema; reads go through attachment_list
    parser_classes = [MultiPartParser]
    authentication_classes = _upload_authentication_classes()

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            # Before anything can read the body: the encrypting handler alone, still unarmed.
            request.upload_handlers = [EncryptingUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses=AttachmentSerializer(many=True))
    def get(self, request, case_id):
        """List a case's attachments (metadata); needs `full` on the case."""
        refuse_empty_values(request.query_params)
        page = attachments.attachment_list(
            request.user, case_id, page=request.query_params.get("page")
        )
        return page_response(request, page, self.get_serializer(page.items, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UPLOAD_REQUEST},
        responses={201: AttachmentSerializer, 400: None, 403: None, 404: None, 413: None,
                   415: None},
    )
    def post(self, request, case_id):
        """Upload one file (multipart field `file`), encrypted as it arrives."""
        case = attachments.case_for_upload(user=request.user, case_id=case_id)

        def read_body():
            try:
                request.FILES  # noqa: B018 (parses the body through the handler)
            except (ParseError, SuspiciousOperation) as exc:
                raise UploadRefused(400, "malformed", f"malformed multipart body: {exc}") from None
            except UnsupportedMediaType:
                raise UploadRefused(
                    415, "not_multipart", "send the file as multipart/form-data"
                ) from None

        attachment = attachments.attachment_upload(
            case=case,
            actor=request.user,
            handler=request._request.upload_handlers[0],
            content_length=_content_length(request),
            read_body=read_body,
        )
        data = AttachmentSerializer(attachment).data
        return Response(data, status=201, headers={"Location": data["content_url"]})


class AttachmentContentView(APIView):
    """The decrypted file, streamed; needs `full_with_files` on its case (or ownership)."""

    http_method_names = ["get"]
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(responses={**DOWNLOAD_RESPONSES, 403: None, 404: None, 500: None})
    def get(self, request, attachment_id):
        attachment = attachments.attachment_for_download(
            user=request.user, attachment_id=attachment_id
        )
        try:
            attachment, body = attachments.attachment_open(
                user=request.user, attachment=attachment
            )
        except AttachmentIntegrityError:
            raise IntegrityFailure() from None
        return file_response(attachment, body)


def _content_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


