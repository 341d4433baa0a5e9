"""Where attachment ciphertext lives: Django's default storage, one object per version.

An object is written once under a fresh name and never changed; rotation writes a new
object and moves the row to it, so a reader always sees one whole, valid version.
"""

import errno
import logging
import os
import secrets
import uuid

from django.core.files.storage import Storage, default_storage

log = logging.getLogger(__name__)

# Errors of the store itself (disk full, read-only volume, S3 unreachable or refusing), as
# opposed to a bad upload: the upload answers 507 (no space) or 503, and stores nothing.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def storage_errors() -> tuple[type[BaseException], ...]:
    """OSError, and botocore's errors when S3 storage is installed."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def storage_failure(exc: BaseException) -> tuple[int, str, str]:
    """(status, reason, message) for a store's failure: 507 when out of space, else 503."""
    log.error("attachment storage failed: %s: %s", type(exc).__name__, exc)
    if getattr(exc, "errno", None) in NO_SPACE_ERRNOS:
        return 507, "storage_full", "the file store has no space left; nothing was stored"
    return 503, "storage_unavailable", (
        "the file store cannot be written just now; nothing was stored, send the file again"
    )


def attachment_storage() -> Storage:
    """The storage that holds attachment objects (STORAGES["default"])."""
    return default_storage


def new_storage_name(attachment_id: uuid.UUID) -> str:
    """A fresh object name: sharded by id, with a random suffix per version."""
    return f"wgxa/{attachment_id.hex[:2]}/{attachment_id}-{secrets.token_hex(4)}.wgxa"


def open_for_writing(storage: Storage, name: str):
    """A binary file object that writes the named object, streaming.

    On a local filesystem the file is created exclusively with mode 0600, so a name is never
    written twice; other storages (S3 through django-storages) stream with `open(name, "wb")`.
    """
    try:
        path = storage.path(name)
    except NotImplementedError:
        return storage.open(name, "wb")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def delete_quietly(storage: Storage, name: str) -> None:
    """Remove an object that must not stay (a refused upload, a superseded version)."""
    try:
        storage.delete(name)
    except FileNotFoundError:
        pass
    except storage_errors() as exc:  # the store is failing: nothing complete was written
        log.error("could not delete the partial object %s: %s", name, exc)
