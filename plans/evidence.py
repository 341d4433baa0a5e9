"""Evidence files of security gaps: the case files' streaming envelope encryption (cases.crypto,
cases.upload) and keyring, under the gap's owner (recording) country's key-encryption key.

A gap's files belong to the gap and follow its visibility rule (plans.selectors): the
members of the countries it names list, upload and download them; nobody else learns they
exist. Uploads and downloads are audited for the gap's countries.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

import audit
from audit.actions import Outcome
from cases import crypto
from cases.attachment_storage import attachment_storage, new_storage_name
from cases.attachments import (
    accepted_upload,
    check_declared_length,
    check_header,
    kek_lookup,
    key_lock,
    open_current,
)
from cases.crypto import HEADER_SIZE, AttachmentIntegrityError
from cases.key_rotation import EncryptedFiles
from cases.upload import EncryptingUploadHandler, UploadRefused, UploadTarget
from core import keyring
from core.errors import Conflict
from core.keyring import KeyringError
from plans.models import Gap, GapEvidence, GapStatus
from plans.services import gap_readers


def evidence_target(*, gap: Gap, actor) -> UploadTarget:
    """Check the uploader and choose the object: a fresh id, the gap owner's primary key."""
    if actor.country_id not in gap_readers(gap):
        raise PermissionDenied(_("only the countries the gap names add evidence"))
    if gap.status == GapStatus.MITIGATED:
        raise Conflict(_("the gap is mitigated: it takes no more evidence"), status=gap.status)
    key_id, kek = keyring.get_keyring().primary_kek(gap.country_id)
    evidence_id = uuid.uuid4()
    return UploadTarget(
        attachment_id=evidence_id, key_id=key_id, kek=kek, storage=attachment_storage(),
        storage_name=new_storage_name(evidence_id), max_bytes=settings.ATTACHMENT_MAX_BYTES,
    )


def gap_evidence_upload(*, gap: Gap, actor, handler: EncryptingUploadHandler,
                        content_length: int, read_body: Callable[[], object]) -> GapEvidence:
    """Receive one evidence file for a gap (as cases.attachments.attachment_upload does for a
    case), or refuse it leaving nothing; refusals are audited too."""
    target = evidence_target(gap=gap, actor=actor)
    readers = gap_readers(gap)
    try:
        check_declared_length(content_length)
        handler.arm(target)
        read_body()
        upload = accepted_upload(handler)
        with transaction.atomic():
            key_lock(shared=True)
            try:
                keyring.get_keyring().kek(upload.key_id)
            except KeyringError:
                raise UploadRefused(503, "key_retired", _(
                    "the encryption key was retired during the upload; send the file again"
                )) from None
            evidence = GapEvidence.objects.create(
                id=upload.attachment_id, gap=gap, filename=upload.filename,
                content_type=upload.content_type, size=upload.size, sha256=upload.sha256,
                storage_name=upload.storage_name, key_id=upload.key_id,
                wrapped_key=upload.wrapped_key, format_version=crypto.VERSION,
                uploaded_by=actor,
            )
            audit.record("gap.evidence_upload", actor, target=evidence, readers=readers,
                         gap=str(gap.pk), content_type=upload.content_type, size=upload.size,
                         sha256=upload.sha256)
    except UploadRefused as refusal:
        handler.discard()
        audit.record("gap.evidence_upload", actor, target=gap, readers=readers,
                     outcome=Outcome.FAILURE, reason=refusal.reason, status=refusal.status)
        raise
    except BaseException:
        handler.discard()
        raise
    handler.keep()
    return evidence


def gap_evidence_open(*, user, evidence: GapEvidence) -> Iterator[bytes]:
    """Check the header and key now (audited), and return the verified plaintext stream."""
    readers = gap_readers(evidence.gap)
    try:
        evidence, source = open_current(evidence)  # follows a rotation that just re-wrapped it
    except AttachmentIntegrityError as exc:
        _integrity_failure(user, evidence, readers, str(exc))
        raise
    try:
        check_header(evidence, source.read(HEADER_SIZE))
        source.seek(0)
        segments = crypto.decrypt_stream(source, attachment_id=evidence.pk,
                                         kek_lookup=kek_lookup)
    except AttachmentIntegrityError as exc:
        source.close()
        _integrity_failure(user, evidence, readers, str(exc))
        raise
    audit.record("gap.evidence_download", user, target=evidence, readers=readers,
                 gap=str(evidence.gap_id), size=evidence.size)
    return _verified(user, evidence, readers, segments, source)


def _integrity_failure(user, evidence, readers, error: str) -> None:
    audit.record("gap.evidence_download", user, target=evidence, readers=readers,
                 outcome=Outcome.FAILURE, gap=str(evidence.gap_id), error=error[:300])


def _verified(user, evidence, readers, segments, source) -> Iterator[bytes]:
    """Authenticated plaintext; the last segment only once size and SHA-256 match."""
    digest, size, held = hashlib.sha256(), 0, None
    try:
        for segment in segments:
            if held is not None:
                yield held
            digest.update(segment)
            size += len(segment)
            held = segment
        if size != evidence.size or not hmac.compare_digest(digest.hexdigest(),
                                                            evidence.sha256):
            raise AttachmentIntegrityError(
                "the decrypted file does not match its recorded size and SHA-256")
        if held is not None:
            yield held
    except AttachmentIntegrityError as exc:
        _integrity_failure(user, evidence, readers, str(exc))
        raise
    finally:
        source.close()


def _rewrapped(evidence, *, old_key_id, new_key_id, body_sha256):
    audit.record("gap.evidence_rewrap", None, target=evidence,
                 readers=gap_readers(evidence.gap), gap=str(evidence.gap_id),
                 old_key_id=old_key_id, new_key_id=new_key_id, body_sha256=body_sha256)


def _rewrap_failed(evidence, exc):
    audit.record("gap.evidence_rewrap", None, target=evidence,
                 readers=gap_readers(evidence.gap), outcome=Outcome.FAILURE,
                 gap=str(evidence.gap_id), error=str(exc)[:300])


# Key rotation re-wraps, and retirement counts, gap evidence as it does case files
# (registered in plans.apps): under the recording country's keys.
GAP_EVIDENCE = EncryptedFiles(
    label="gap evidence file(s)",
    model=GapEvidence,
    of_country=lambda country: GapEvidence.objects.filter(gap__country_id=country),
    record_rewrap=_rewrapped,
    record_failure=_rewrap_failed,
)
