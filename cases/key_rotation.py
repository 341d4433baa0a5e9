"""Key rotation: re-wrap attachments' data keys under a new KEK, retire old KEKs.

`manage.py rotate_keys`, `retire_key` and `keyring_check` call these (docs/encryption.md,
"Key rotation in operation"). Bodies are never re-encrypted: each object is copied with a
new 89-byte header and its row switched to the copy in one short transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

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
        next(crypto.decrypt_stream(fh, attachment_id=attachment_id, kek_lookup=kek_lookup))


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
        old_header.to_bytes(), old_kek=keyring.get_keyring().kek(old_header.key_id),
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
    key_id, kek = keyring.get_keyring().primary_kek(country)
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
                record_integrity_failure(None, attachment, exc, sent=0)
            if progress:
                progress(done, len(todo))
    report.remaining = attachments_not_under(country, key_id).count()
    audit.record("key.rotate", None, target=("key", key_id), country=country,
                 new_key_id=key_id, step="re-wrapped data keys", rewrapped=report.rewrapped,
                 failed=len(report.failed), remaining=report.remaining)
    return report


class RetireRefused(Exception):
    """A key that cannot leave the keyring yet; the message says why."""


# Files of apps above cases encrypted under the same keyring (plans' gap evidence). Each
# registers how many of its rows a key id still wraps (plans.apps), so retiring a key never
# strands a file that cases does not know about.
_other_key_users: list = []


def register_key_user(count_rows_under) -> None:
    """Add `count_rows_under(key_id) -> int` to what key_retire asks before retiring."""
    if count_rows_under not in _other_key_users:
        _other_key_users.append(count_rows_under)


def key_retire(*, key_id: str) -> str:
    """Remove a country's old key-encryption key once no attachment uses it; its country."""
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
        in_use = Attachment.objects.filter(key_id=key_id).count()
        in_use += sum(count(key_id) for count in _other_key_users)
        if in_use:
            raise RetireRefused(
                f"key {key_id} still wraps {in_use} attachment(s); "
                f"run `manage.py rotate_keys --resume --country {country}` first"
            )
        del section["keys"][key_id]
        keyring.write(settings.WG_KEYRING, data, overwrite=True)
        keyring.reload()
        audit.record("key.retire", None, target=("key", key_id), country=country,
                     key_id=key_id)
    return country
