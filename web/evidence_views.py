"""Evidence files from a page: upload through the API's encrypting handler, download.

The upload is an ordinary multipart form (its CSRF token a form field), so it works without
JavaScript; static/js/upload.js only adds a progress bar. Django's CSRF middleware would
parse the body to find the token before the access checks and before the encrypting handler
is armed, so the view is exempt from it and checks the token itself once the body has
streamed through the handler: a forged form leaves nothing stored (the service discards
the ciphertext of any refusal) and is refused as the middleware would refuse it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from cases import attachments
from cases.downloads import file_response
from cases.upload import EncryptingUploadHandler, UploadRefused
from web.labels import UPLOAD_REFUSALS, UPLOAD_REFUSED_OTHER
from web.views import member_page

_csrf = CsrfViewMiddleware(lambda request: None)


def refusal_text(refusal: UploadRefused) -> str:
    """The refusal in the member's language."""
    text = UPLOAD_REFUSALS.get(refusal.reason, UPLOAD_REFUSED_OTHER)
    return str(text) % {"limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}


def _read_body(request):
    """Parse the body (the file streams through the encrypting handler), then check CSRF."""

    def read():
        try:
            request.POST  # noqa: B018 (parses the form; the file part goes to the handler)
        except (MultiPartParserError, SuspiciousOperation) as exc:
            raise UploadRefused(400, "malformed", f"malformed multipart body: {exc}") from None
        if _csrf.process_view(request, None, (), {}) is not None:
            raise UploadRefused(403, "csrf", "the form's CSRF token is missing or wrong")

    return read


@csrf_exempt  # checked in _read_body, after the handler is armed (see the module's doc)
@member_page
def evidence_upload(request, case_id):
    """POST a file from the case page; back to the case page with what happened."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # Before anything can read the body: the encrypting handler alone, still unarmed.
    request.upload_handlers = [EncryptingUploadHandler(request)]
    case = attachments.case_for_upload(user=request.user, case_id=case_id)
    target = reverse("web:case_detail", args=[case.pk]) + "#evidence"
    try:
        attachment = attachments.attachment_upload(
            case=case, actor=request.user, handler=request.upload_handlers[0],
            content_length=int(request.META.get("CONTENT_LENGTH") or 0),
            read_body=_read_body(request),
        )
    except UploadRefused as refusal:
        if refusal.reason == "csrf":
            return _csrf._reject(request, "CSRF token missing or incorrect.")
        messages.error(request, refusal_text(refusal))
        return redirect(target)
    messages.success(request, _uploaded(attachment))
    return redirect(target)


def _uploaded(attachment) -> str:
    from django.utils.translation import gettext as _

    return _("%(name)s uploaded (%(size)s), encrypted.") % {
        "name": attachment.filename, "size": filesizeformat(attachment.size)}


@member_page
def evidence_download(request, attachment_id):
    """The decrypted file, streamed (holders of full_with_files, and the owner)."""
    attachment = attachments.attachment_for_download(user=request.user,
                                                     attachment_id=attachment_id)
    attachment, body = attachments.attachment_open(user=request.user, attachment=attachment)
    return file_response(attachment, body)
