"""Attachment services: who may do what, upload, download, key rotation and retirement.

The file format is cases.crypto (docs/encryption.md); the upload handler is cases.upload.
Every state change runs in one transaction with its audit record. Downloads stream outside
any transaction, so an integrity failure found halfway is audited in autocommit even though
the response itself is cut.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import hmac
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection, transaction
from django.http import Http404
from rest_framework.exceptions import NotFound, PermissionDenied

import audit
from audit.actions import Outcome
from cases import crypto
from cases.attachment_storage import (
    attachment_storage,
    delete_quietly,
    new_storage_name,
    open_for_writing,
)
from cases.crypto import HEADER_SIZE, AttachmentIntegrityError, Header
from cases.models import Attachment, Case
from cases.selectors import get_case_for
from cases.upload import EncryptedUpload, EncryptingUploadHandler, UploadRefused, UploadTarget
from workinggroup import keyring
from workinggroup.keyring import KeyringError

log = logging.getLogger(__name__)

# Multipart framing allowed on top of ATTACHMENT_MAX_BYTES before a body is refused unread.
MULTIPART_OVERHEAD = 64 * 1024
# Downloads send ~1 MiB per write rather than one 64 KiB segment (fewer syscalls).
DOWNLOAD_BATCH_BYTES = 1024 * 1024
COPY_CHUNK_BYTES = 1024 * 1024
# PostgreSQL advisory lock: uploads hold it shared while they commit a row under a key,
# retirement exclusively while it checks that no row uses the key and removes it.
KEY_LOCK = 0x5747584B  # "WGXK"

# --- the keyring, kept fresh -----------------------------------------------------------------

_keyring_lock = threading.Lock()
_keyring_stamp: list = [None]


def current_keyring() -> keyring.Keyring:
    """The keyring, reloaded when its file changed (rotate_keys ran in another process)."""
    path = settings.WG_KEYRING
    try:
        st = os.stat(path)
        stamp = (path, st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (path, None, None, None)
    with _keyring_lock:
        if _keyring_stamp[0] != stamp:
            keyring.reload()
            _keyring_stamp[0] = stamp
    return keyring.get_keyring()


def _kek_lookup(key_id: str) -> bytes:
    """For crypto.decrypt_stream: KeyError means "unknown key id" (an integrity failure)."""
    try:
        return current_keyring().kek(key_id)
    except KeyringError:
        raise KeyError(key_id) from None


@contextlib.contextmanager
def keyring_file_lock():
    """Serialise read-modify-write of the keyring file between processes on this host."""
    with open(f"{settings.WG_KEYRING}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _key_lock(*, shared: bool) -> None:
    """Take KEY_LOCK for this transaction (SQLite serialises every write transaction anyway)."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [KEY_LOCK])


# --- who may do what ---------------------------------------------------------------------------


def _reads_cases(user) -> bool:
    """Investigators and liaisons read case content; auditors and administrators never do."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_investigator or user.is_liaison
    )


def _case_for(user, case_id, scope: str) -> Case:
    if not _reads_cases(user):
        raise NotFound()
    return get_case_for(user, case_id, scope)


def _holds(user, case: Case, scope: str) -> bool:
    try:
        get_case_for(user, case.pk, scope)
    except (NotFound, Http404):
        return False
    return True


def case_for_upload(*, user, case_id) -> Case:
    """The case, if the user is an investigator of its owning country (unseen 404, else 403)."""
    case = _case_for(user, case_id, "summary")
    if user.country_id != case.owner_country_id or not user.is_investigator:
        raise PermissionDenied("Only investigators of the owning country add files to a case.")
    return case


def attachments_for(*, user, case_id):
    """A case's attachments (metadata only) for a user holding `full` on it; audited."""
    case = _case_for(user, case_id, "full")
    audit.record("attachment.list", user, target=case, case=case)
    return case.attachments.select_related("uploaded_by")


def attachment_for_download(*, user, attachment_id) -> Attachment:
    """The attachment if the user may download it.

    Seeing an attachment (its case at `full`, where the list shows it) without holding
    `full_with_files` is a 403; not seeing it, a missing id and a malformed id are one 404.
    """
    try:
        pk = uuid.UUID(str(attachment_id))
    except ValueError:
        raise NotFound() from None
    attachment = Attachment.objects.select_related("case").filter(pk=pk).first()
    if attachment is None:
        raise NotFound()
    _case_for(user, attachment.case_id, "full")
    if not _holds(user, attachment.case, "full_with_files"):
        raise PermissionDenied("Downloading files needs a full_with_files share of the case.")
    return attachment


# --- upload --------------------------------------------------------------------------------------


def upload_target(*, case: Case) -> UploadTarget:
    """A fresh id, object name and the owning country's primary key, chosen at upload time."""
    key_id, kek = current_keyring().primary_kek(case.owner_country_id)
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
        raise UploadRefused(
            413, "too_large",
            f"the file is larger than the limit of {settings.ATTACHMENT_MAX_BYTES} bytes",
        )


def _accepted(handler: EncryptingUploadHandler) -> EncryptedUpload:
    if handler.refusal is not None:
        raise handler.refusal
    if handler.files_seen > 1:
        raise UploadRefused(400, "several_files", "file: send exactly one file per upload")
    if handler.interrupted:
        raise UploadRefused(400, "truncated", "file: the body ended inside the file part")
    if handler.result is None:
        raise UploadRefused(
            400, "no_file", "file: send the evidence as a multipart file part named 'file'"
        )
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
        upload = _accepted(handler)
        with transaction.atomic():
            _key_lock(shared=True)
            # Retirement may have removed the key while the file streamed in.
            try:
                current_keyring().kek(upload.key_id)
            except KeyringError:
                raise UploadRefused(
                    503, "key_retired", "the encryption key was retired during the upload; "
                                        "send the file again"
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


def _integrity_failure(user, attachment: Attachment, exc: Exception, *, sent: int) -> None:
    log.error("attachment %s failed its integrity check after %d bytes: %s",
              attachment.pk, sent, exc)
    audit.record(
        "attachment.integrity_failure", user, target=attachment, case=attachment.case,
        outcome=Outcome.FAILURE, error=str(exc)[:300], bytes_sent=sent,
    )


def _open_current(attachment: Attachment):
    """Open the row's object; if rotation just replaced it, follow the row to the new one."""
    storage = attachment_storage()
    for _ in range(3):
        try:
            return attachment, storage.open(attachment.storage_name, "rb")
        except FileNotFoundError:
            fresh = Attachment.objects.select_related("case").get(pk=attachment.pk)
            if fresh.storage_name == attachment.storage_name:
                break
            attachment = fresh
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
        attachment, source = _open_current(attachment)
        try:
            check_header(attachment, source.read(HEADER_SIZE))
            source.seek(0)
            segments = crypto.decrypt_stream(
                source, attachment_id=attachment.pk, kek_lookup=_kek_lookup
            )
        except BaseException:
            source.close()
            raise
    except AttachmentIntegrityError as exc:
        _integrity_failure(user, attachment, exc, sent=0)
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
        _integrity_failure(user, attachment, exc, sent=sent)
        raise
    finally:
        source.close()


# --- key rotation ---------------------------------------------------------------------------


@dataclasses.dataclass
class RotationReport:
    """What one country's rotation did."""

    country: str
    key_id: str
    rewrapped: int = 0
    failed: list[str] = dataclasses.field(default_factory=list)
    remaining: int = 0


def key_add(*, country: str) -> str:
    """Add a new primary key-encryption key for a country to the keyring file; audited."""
    country = country.upper()
    with keyring_file_lock():
        data = keyring.read(settings.WG_KEYRING)
        previous = data["countries"].get(country, {}).get("primary")
        key_id = keyring.add_key(data, "countries", country)
        keyring.write(settings.WG_KEYRING, data, overwrite=True)
    current_keyring()
    audit.record("key.rotate", None, target=("key", key_id), country=country,
                 new_key_id=key_id, previous_key_id=previous, step="new primary key")
    return key_id


def attachments_not_under(country: str, key_id: str):
    """Rows of a country's cases whose data key is not wrapped under key_id, oldest first."""
    return (
        Attachment.objects.filter(case__owner_country_id=country)
        .exclude(key_id=key_id)
        .order_by("uploaded_at", "id")
    )


def _copy_rewrapped(storage, source_name: str, target_name: str, new_header: bytes) -> str:
    """Write new_header + the source's body to target_name; returns the body's SHA-256."""
    body = hashlib.sha256()
    with storage.open(source_name, "rb") as src, open_for_writing(storage, target_name) as dst:
        src.seek(HEADER_SIZE)
        dst.write(new_header)
        while chunk := src.read(COPY_CHUNK_BYTES):
            body.update(chunk)
            dst.write(chunk)
    return body.hexdigest()


def _check_copy(storage, name: str, header: bytes, body_sha256: str, attachment_id) -> None:
    """Re-read the new object: same header, same body bytes, and segment 0 decrypts."""
    body = hashlib.sha256()
    with storage.open(name, "rb") as fh:
        if fh.read(HEADER_SIZE) != header:
            raise AttachmentIntegrityError("the re-wrapped object's header did not persist")
        while chunk := fh.read(COPY_CHUNK_BYTES):
            body.update(chunk)
        if body.hexdigest() != body_sha256:
            raise AttachmentIntegrityError("the re-wrapped object's body differs from the old")
        fh.seek(0)
        next(crypto.decrypt_stream(fh, attachment_id=attachment_id, kek_lookup=_kek_lookup))


def attachment_rewrap(*, attachment_id, key_id: str, kek: bytes) -> bool:
    """Re-wrap one file's data key under key_id without touching its body.

    Copies the object with a new header to a new name and checks the copy, then points the
    row at it in a short transaction (row locked); the old object goes after the commit. A
    reader sees the old row and object or the new ones, never a mix. Returns False when
    there was nothing to do or the row changed meanwhile (another rotation got there first).
    """
    attachment = Attachment.objects.get(pk=attachment_id)
    if attachment.key_id == key_id:
        return False
    storage = attachment_storage()
    old_name = attachment.storage_name
    with storage.open(old_name, "rb") as fh:
        old_header = check_header(attachment, fh.read(HEADER_SIZE))
    new_header = crypto.rewrap(
        old_header.to_bytes(), old_kek=current_keyring().kek(old_header.key_id),
        new_kek=kek, new_key_id=key_id,
    )
    new_name = new_storage_name(attachment.pk)
    try:
        body_sha256 = _copy_rewrapped(storage, old_name, new_name, new_header)
        _check_copy(storage, new_name, new_header, body_sha256, attachment.pk)
        with transaction.atomic():
            row = Attachment.objects.select_for_update().select_related("case").get(
                pk=attachment.pk
            )
            if row.storage_name != old_name:
                delete_quietly(storage, new_name)
                return False
            row.storage_name = new_name
            row.key_id = key_id
            row.wrapped_key = Header.parse(new_header).wrapped_key
            row.save(update_fields=["storage_name", "key_id", "wrapped_key"])
            audit.record("attachment.rewrap", None, target=row, case=row.case,
                         old_key_id=old_header.key_id, new_key_id=key_id,
                         body_sha256=body_sha256)
            transaction.on_commit(lambda: delete_quietly(storage, old_name))
    except BaseException:
        delete_quietly(storage, new_name)
        raise
    return True


def rotation_run(
    *, country: str, progress: Callable[[int, int], None] | None = None, max_passes: int = 5
) -> RotationReport:
    """Re-wrap every data key of a country not yet under its primary key (resumable).

    Rows record their key id, so a rerun continues where an interrupted one stopped. Uploads
    that started before the new key existed commit under the old one; later passes pick
    them up.
    """
    country = country.upper()
    key_id, kek = current_keyring().primary_kek(country)
    report = RotationReport(country=country, key_id=key_id)
    failed: set = set()
    for _ in range(max_passes):
        todo = list(
            attachments_not_under(country, key_id).exclude(pk__in=failed)
            .values_list("pk", flat=True)
        )
        if not todo:
            break
        for done, pk in enumerate(todo, start=1):
            try:
                if attachment_rewrap(attachment_id=pk, key_id=key_id, kek=kek):
                    report.rewrapped += 1
            except (AttachmentIntegrityError, KeyringError, FileNotFoundError) as exc:
                failed.add(pk)
                report.failed.append(f"{pk}: {exc}")
                attachment = Attachment.objects.select_related("case").get(pk=pk)
                _integrity_failure(None, attachment, exc, sent=0)
            if progress:
                progress(done, len(todo))
    report.remaining = attachments_not_under(country, key_id).count()
    audit.record("key.rotate", None, target=("key", key_id), country=country,
                 new_key_id=key_id, step="re-wrapped data keys", rewrapped=report.rewrapped,
                 failed=len(report.failed), remaining=report.remaining)
    return report


class RetireRefused(Exception):
    """A key that cannot leave the keyring yet; the message says why."""


def key_retire(*, key_id: str) -> str:
    """Remove a country's old key-encryption key once no attachment uses it; its country."""
    with keyring_file_lock(), transaction.atomic():
        _key_lock(shared=False)
        data = keyring.read(settings.WG_KEYRING)
        country = next(
            (cc for cc, section in data["countries"].items() if key_id in section["keys"]),
            None,
        )
        if country is None:
            raise RetireRefused(f"key {key_id} is not in the keyring")
        section = data["countries"][country]
        if section["primary"] == key_id:
            raise RetireRefused(f"key {key_id} is {country}'s primary key; rotate first")
        in_use = Attachment.objects.filter(key_id=key_id).count()
        if in_use:
            raise RetireRefused(
                f"key {key_id} still wraps {in_use} attachment(s); "
                f"run `manage.py rotate_keys --resume --country {country}` first"
            )
        del section["keys"][key_id]
        keyring.write(settings.WG_KEYRING, data, overwrite=True)
        current_keyring()
        audit.record("key.retire", None, target=("key", key_id), country=country,
                     key_id=key_id)
    return country
