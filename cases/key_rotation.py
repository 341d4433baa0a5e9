"""Key rotation: re-wrap encrypted files' data keys under a new KEK, retire old KEKs.

`manage.py rotate_keys`, `retire_key` and `keyring_check` call these (docs/encryption.md,
"Key rotation in operation"). Bodies are never re-encrypted: each object is copied with a
new 89-byte header and its row switched to the copy in one short transaction.

Every kind of encrypted file is rotated, counted and retired alike: case attachments
(here) and the kinds other apps register (`register_encrypted_files`: plans' gap evidence).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.db import models, transaction

import audit
from cases import crypto
from cases.attachment_storage import (
    attachment_storage,
    delete_quietly,
    new_storage_name,
    open_for_writing,
)
from cases.attachments import (
    check_header,
    kek_lookup,
    key_lock,
    record_integrity_failure,
)
from cases.crypto import HEADER_SIZE, AttachmentIntegrityError, Header
from cases.models import Attachment
from core import keyring
from core.keyring import KeyringError

COPY_CHUNK_BYTES = 1024 * 1024


@contextlib.contextmanager
def keyring_file_lock():
    """Serialise read-modify-write of the keyring file between processes on this host."""
    with open(f"{settings.WG_KEYRING}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclasses.dataclass(frozen=True)
class EncryptedFiles:
    """A kind of row whose file is encrypted under its country's key-encryption keys.

    The row has `storage_name`, `key_id`, `wrapped_key` and `uploaded_at`, and its id is the
    file's associated data (cases.crypto).
    """

    label: str  # plural, for counts: "attachment(s)"
    model: type[models.Model]
    of_country: Callable[[str], models.QuerySet]  # the rows under a country's keys
    record_rewrap: Callable[..., None]  # (row, *, old_key_id, new_key_id, body_sha256)
    record_failure: Callable[[models.Model, Exception], None]  # a file that failed its checks


def _attachment_rewrapped(row, *, old_key_id, new_key_id, body_sha256):
    audit.record("attachment.rewrap", None, target=row, case=row.case, old_key_id=old_key_id,
                 new_key_id=new_key_id, body_sha256=body_sha256)


ATTACHMENTS = EncryptedFiles(
    label="attachment(s)",
    model=Attachment,
    of_country=lambda country: Attachment.objects.filter(case__owner_country_id=country),
    record_rewrap=_attachment_rewrapped,
    record_failure=lambda row, exc: record_integrity_failure(None, row, exc, sent=0),
)
_kinds: list[EncryptedFiles] = [ATTACHMENTS]


def register_encrypted_files(kind: EncryptedFiles) -> None:
    """Add a kind of file (of an app above cases) for rotation, retirement and checks."""
    if all(known.model is not kind.model for known in _kinds):
        _kinds.append(kind)


def encrypted_file_kinds() -> list[EncryptedFiles]:
    return list(_kinds)


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
    keyring.reload()  # this process rewrote the file: read it now
    audit.record("key.rotate", None, target=("key", key_id), country=country,
                 new_key_id=key_id, previous_key_id=previous, step="new primary key")
    return key_id


def files_not_under(kind: EncryptedFiles, country: str, key_id: str):
    """A kind's rows of a country whose data key is not wrapped under key_id, oldest first."""
    return kind.of_country(country).exclude(key_id=key_id).order_by("uploaded_at", "id")


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


def _check_copy(storage, name: str, header: bytes, body_sha256: str, file_id) -> None:
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
        next(crypto.decrypt_stream(fh, attachment_id=file_id, kek_lookup=kek_lookup))


def file_rewrap(kind: EncryptedFiles, *, file_id, key_id: str, kek: bytes) -> bool:
    """Re-wrap one file's data key under key_id without touching its body.

    Copies the object with a new header to a new name and checks the copy, then points the
    row at it in a short transaction (row locked); the old object goes after the commit. A
    reader sees the old row and object or the new ones, never a mix. Returns False when
    there was nothing to do or the row changed meanwhile (another rotation got there first).
    """
    row = kind.model.objects.get(pk=file_id)
    if row.key_id == key_id:
        return False
    storage = attachment_storage()
    old_name = row.storage_name
    with storage.open(old_name, "rb") as fh:
        old_header = check_header(row, fh.read(HEADER_SIZE))
    new_header = crypto.rewrap(
        old_header.to_bytes(), old_kek=keyring.get_keyring().kek(old_header.key_id),
        new_kek=kek, new_key_id=key_id,
    )
    new_name = new_storage_name(row.pk)
    try:
        body_sha256 = _copy_rewrapped(storage, old_name, new_name, new_header)
        _check_copy(storage, new_name, new_header, body_sha256, row.pk)
        with transaction.atomic():
            row = kind.model.objects.select_for_update().get(pk=row.pk)
            if row.storage_name != old_name:
                delete_quietly(storage, new_name)
                return False
            row.storage_name = new_name
            row.key_id = key_id
            row.wrapped_key = Header.parse(new_header).wrapped_key
            row.save(update_fields=["storage_name", "key_id", "wrapped_key"])
            kind.record_rewrap(row, old_key_id=old_header.key_id, new_key_id=key_id,
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
    them up. Every kind of encrypted file is re-wrapped (case files, then the registered).
    """
    country = country.upper()
    key_id, kek = keyring.get_keyring().primary_kek(country)
    report = RotationReport(country=country, key_id=key_id)
    for kind in encrypted_file_kinds():
        _rotate_kind(kind, report, kek, progress, max_passes)
    audit.record("key.rotate", None, target=("key", key_id), country=country,
                 new_key_id=key_id, step="re-wrapped data keys", rewrapped=report.rewrapped,
                 failed=len(report.failed), remaining=report.remaining)
    return report


def _rotate_kind(kind: EncryptedFiles, report: RotationReport, kek: bytes, progress,
                 max_passes: int) -> None:
    """Re-wrap one kind's files of report.country not under report.key_id; counts go to
    the report. A file that fails its checks is reported, audited and left alone."""
    failed: set = set()
    for _ in range(max_passes):
        todo = list(files_not_under(kind, report.country, report.key_id)
                    .exclude(pk__in=failed).values_list("pk", flat=True))
        if not todo:
            break
        for done, pk in enumerate(todo, start=1):
            try:
                if file_rewrap(kind, file_id=pk, key_id=report.key_id, kek=kek):
                    report.rewrapped += 1
            except (AttachmentIntegrityError, KeyringError, FileNotFoundError) as exc:
                failed.add(pk)
                report.failed.append(f"{pk}: {exc}")
                kind.record_failure(kind.model.objects.get(pk=pk), exc)
            if progress:
                progress(done, len(todo))
    report.remaining += files_not_under(kind, report.country, report.key_id).count()


def files_under(key_id: str) -> dict[str, int]:
    """How many files of each kind a key-encryption key wraps: {label: count}."""
    return {kind.label: kind.model.objects.filter(key_id=key_id).count()
            for kind in encrypted_file_kinds()}


class RetireRefused(Exception):
    """A key that cannot leave the keyring yet; the message says why."""


def key_retire(*, key_id: str) -> str:
    """Remove a country's old key-encryption key once no file uses it; its country."""
    with keyring_file_lock(), transaction.atomic():
        key_lock(shared=False)
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
        in_use = {label: n for label, n in files_under(key_id).items() if n}
        if in_use:
            counts = ", ".join(f"{n} {label}" for label, n in in_use.items())
            raise RetireRefused(
                f"key {key_id} still wraps {counts}; "
                f"run `manage.py rotate_keys --resume --country {country}` first"
            )
        del section["keys"][key_id]
        keyring.write(settings.WG_KEYRING, data, overwrite=True)
        keyring.reload()
        audit.record("key.retire", None, target=("key", key_id), country=country,
                     key_id=key_id)
    return country
