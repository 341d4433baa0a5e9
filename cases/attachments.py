"""Attachment services: who may do what, upload and download (rotation: cases.key_rotation).

The file format is cases.crypto (docs/encryption.md); the upload handler is cases.upload.
Every state change runs in one transaction with its audit record. Downloads stream outside
any transaction, so an integrity failure found halfway is audited in autocommit even though
the response itself is cut.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

import audit
from audit.actions import Outcome
from cases import crypto
from cases.attachment_storage import attachment_storage, new_storage_name
from cases.crypto import HEADER_SIZE, AttachmentIntegrityError, Header
from cases.models import Attachment, Case
from cases.paging import Page, paginate
from cases.permissions import FULL, FULL_WITH_FILES
from cases.selectors import case_for_edit, get_case_for, require_case_reader, visible_cases
from cases.upload import (
    EncryptedUpload,
    EncryptingUploadHandler,
    UploadRefused,
    UploadTarget,
    too_large,
)
from core import keyring
from core.keyring import KeyringError

log = logging.getLogger(__name__)

# Multipart framing allowed on top of ATTACHMENT_MAX_BYTES before a body is refused unread.
MULTIPART_OVERHEAD = 64 * 1024
# Downloads send ~1 MiB per write rather than one 64 KiB segment (fewer syscalls).
DOWNLOAD_BATCH_BYTES = 1024 * 1024
# PostgreSQL advisory lock: uploads hold it shared while they commit a row under a key,
# retirement exclusively while it checks that no row uses the key and removes it.
KEY_LOCK = 0x5747584B  # "WGXK"

def kek_lookup(key_id: str) -> bytes:
    """For crypto.decrypt_stream: KeyError means "unknown key id" (an integrity failure)."""
    try:
        return keyring.get_keyring().kek(key_id)
    except KeyringError:
        raise KeyError(key_id) from None


def key_lock(*, shared: bool) -> None:
    """Take KEY_LOCK for this transaction (SQLite serialises every write transaction anyway)."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [KEY_LOCK])


# --- who may do what ---------------------------------------------------------------------------
# Through the case gate (cases.selectors): auditors and administrators 403 whatever the id,
# an unseen case 404, a case seen below the scope needed 403. An attachment is seen when its
# case is held at `full` (the list shows it); its content needs `full_with_files`.


def case_for_upload(*, user, case_id) -> Case:
    """The case, if the user is an investigator of its owning country (unseen 404, else 403)."""
    return case_for_edit(user, case_id)


def attachment_list(user, case_id, *, page=None) -> Page:
    """A page of a case's attachments (metadata only; `full` on the case), recorded as
    `attachment.list`."""
    case = get_case_for(user, case_id, FULL)
    result = paginate(case.attachments.select_related("uploaded_by"), page)
    audit.record("attachment.list", user, target=case, case=case, count=result.count)
    return result


def attachment_for_download(*, user, attachment_id) -> Attachment:
    """The attachment if the user may download it.

    Seeing an attachment (its case at `full`, where the list shows it) without holding
    `full_with_files` is a 403; not seeing it, a missing id and a malformed id are one 404.
    """
    require_case_reader(user)
    try:
        pk = uuid.UUID(str(attachment_id))
    except ValueError:
        raise Http404(_("Not found.")) from None
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise Http404(_("Not found."))
    try:
        case = get_case_for(user, attachment.case_id, FULL_WITH_FILES)
    except PermissionDenied:
        # Held below full_with_files: at `full` the file is listed, so say so (403);
        # below that the file is as unseen as a missing one.
        if not visible_cases(user, FULL).filter(pk=attachment.case_id).exists():
            raise Http404(_("Not found.")) from None
        raise PermissionDenied(
            _("Downloading files needs a full_with_files share of the case.")
        ) from None
    attachment.case = case
    return attachment


# --- upload --------------------------------------------------------------------------------------


def upload_target(*, case: Case) -> UploadTarget:
    """A fresh id, object name and the owning country's primary key, chosen at upload time."""
    key_id, kek = keyring.get_keyring().primary_kek(case.owner_country_id)
    attachment_id = uuid.uuid4()
    return UploadTarget(
        attachment_id=attachment_id,
        key_id=key_id,
        kek=kek,
        storage=attachment_storage(),
        storage_name=new_storage_name(attachment_id),
        max_bytes=settings.ATTACHMENT_MAX_BYTES,
    )


def check_declared_length(content_length: int) -> None:
    """Refuse a body that announces more than the limit allows, before reading any of it."""
    if content_length > settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD:
        raise too_large(settings.ATTACHMENT_MAX_BYTES)


def accepted_upload(handler: EncryptingUploadHandler) -> EncryptedUpload:
    """The stored upload, or the refusal the handler met (shared with gap evidence)."""
    if handler.refusal is not None:
        raise handler.refusal
    if handler.files_seen > 1:
        raise UploadRefused(400, "several_files", _("file: send exactly one file per upload"))
    if handler.interrupted:
        raise UploadRefused(400, "truncated", _("file: the body ended inside the file part"))
    if handler.result is None:
        raise UploadRefused(
            400, "no_file", _("file: send the evidence as a multipart file part named 'file'")
        )
    if handler.result.size == 0:
        raise UploadRefused(400, "empty", _("file: the file is empty (0 bytes); nothing to keep"))
    return handler.result


def attachment_upload(
    *,
    case: Case,
    actor,
    handler: EncryptingUploadHandler,
    content_length: int,
    read_body: Callable[[], object],
) -> Attachment:
    """Receive one evidence file into a new Attachment, or refuse it leaving nothing.

    `read_body` makes the request parse its body, which streams through `handler` (the only
    upload handler): it is armed here, after the caller checked access, with the owning
    country's primary key as of now. A refusal (size, type, malformed body) is audited,
    its partial ciphertext deleted, and raised as UploadRefused.
    """
    try:
        check_declared_length(content_length)
        handler.arm(upload_target(case=case))
        read_body()
        upload = accepted_upload(handler)
        with transaction.atomic():
            key_lock(shared=True)
            # Retirement may have removed the key while the file streamed in.
            try:
                keyring.get_keyring().kek(upload.key_id)
            except KeyringError:
                raise UploadRefused(
                    503, "key_retired",
                    _("the encryption key was retired during the upload; send the file again"),
                ) from None
            attachment = Attachment.objects.create(
                id=upload.attachment_id,
                case=case,
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                storage_name=upload.storage_name,
                key_id=upload.key_id,
                wrapped_key=upload.wrapped_key,
                format_version=crypto.VERSION,
                uploaded_by=actor,
            )
            audit.record(
                "attachment.upload", actor, target=attachment, case=case,
                filename=upload.filename, content_type=upload.content_type,
                size=upload.size, sha256=upload.sha256,
            )
    except UploadRefused as refusal:
        handler.discard()
        attachment_upload_refused(case=case, actor=actor, refusal=refusal)
        raise
    except BaseException:
        handler.discard()
        raise
    handler.keep()
    return attachment


def attachment_upload_refused(*, case: Case, actor, refusal: UploadRefused) -> None:
    """Audit a refused upload (size, type, malformed body): nothing of it was kept."""
    audit.record(
        "attachment.upload", actor, target=case, case=case, outcome=Outcome.FAILURE,
        reason=refusal.reason, status=refusal.status, detail=str(refusal)[:200],
    )


# --- download ------------------------------------------------------------------------------------


def record_integrity_failure(user, attachment: Attachment, exc: Exception, *, sent: int) -> None:
    log.error("attachment %s failed its integrity check after %d bytes: %s",
              attachment.pk, sent, exc)
    audit.record(
        "attachment.integrity_failure", user, target=attachment, case=attachment.case,
        outcome=Outcome.FAILURE, error=str(exc)[:300], bytes_sent=sent,
    )


def open_current(row):
    """Open an encrypted file row's object (a case's attachment, a gap's evidence); if key
    rotation just replaced it, follow the row to the new one. Returns (row, object)."""
    storage = attachment_storage()
    for _attempt in range(3):
        try:
            return row, storage.open(row.storage_name, "rb")
        except FileNotFoundError:
            fresh = type(row).objects.get(pk=row.pk)
            if fresh.storage_name == row.storage_name:
                break
            row = fresh
    raise AttachmentIntegrityError("the encrypted object is missing from storage")


def check_header(attachment: Attachment, header_bytes: bytes) -> Header:
    """Parse the object's header and insist it is the one recorded on the row."""
    header = Header.parse(header_bytes)
    if header.key_id != attachment.key_id or not hmac.compare_digest(
        header.wrapped_key, bytes(attachment.wrapped_key)
    ):
        raise AttachmentIntegrityError(
            "the object's header is not the one recorded for this attachment"
        )
    return header


def attachment_open(*, user, attachment: Attachment) -> tuple[Attachment, Iterator[bytes]]:
    """Check the header and unwrap the data key now; return the verified plaintext stream.

    Header, key and missing-object failures raise AttachmentIntegrityError here (audited),
    before any response starts. Later failures are raised by the iterator (see _verified).
    """
    try:
        attachment, source = open_current(attachment)
        try:
            check_header(attachment, source.read(HEADER_SIZE))
            source.seek(0)
            segments = crypto.decrypt_stream(
                source, attachment_id=attachment.pk, kek_lookup=kek_lookup
            )
        except BaseException:
            source.close()
            raise
    except AttachmentIntegrityError as exc:
        record_integrity_failure(user, attachment, exc, sent=0)
        raise
    audit.record("attachment.download", user, target=attachment, case=attachment.case,
                 size=attachment.size)
    return attachment, _verified(user, attachment, segments, source)


def _verified(user, attachment: Attachment, segments, source) -> Iterator[bytes]:
    """Yield authenticated plaintext; the last segment only once size and SHA-256 match.

    Holding back the end means a client never receives a complete body that failed the
    check: on any failure the exception propagates and the server drops the connection.
    """
    digest, size, sent, pending, pending_size = hashlib.sha256(), 0, 0, [], 0
    try:
        for segment in segments:
            if pending_size >= DOWNLOAD_BATCH_BYTES:
                batch = b"".join(pending)
                pending, pending_size = [], 0
                sent += len(batch)
                yield batch
            digest.update(segment)
            size += len(segment)
            pending.append(segment)
            pending_size += len(segment)
        if size != attachment.size or not hmac.compare_digest(
            digest.hexdigest(), attachment.sha256
        ):
            raise AttachmentIntegrityError(
                "the decrypted file does not match its recorded size and SHA-256"
            )
        if pending_size:
            yield b"".join(pending)
    except AttachmentIntegrityError as exc:
        record_integrity_failure(user, attachment, exc, sent=sent)
        raise
    finally:
        source.close()
