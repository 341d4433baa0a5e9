"""Helpers of the key-rotation tests (case files and gap evidence alike)."""

import hashlib
import io

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command

from cases.crypto import HEADER_SIZE
from core import keyring


def body_sha256(row):
    """SHA-256 of an encrypted file's stored body (everything after the 89-byte header)."""
    digest = hashlib.sha256()
    with default_storage.open(row.storage_name, "rb") as fh:
        fh.seek(HEADER_SIZE)
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def primary(country):
    """The country's primary key id in the keyring file now."""
    return keyring.read(settings.WG_KEYRING)["countries"][country]["primary"]


def run(*args):
    """(stdout, stderr) of a management command."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def key_line(out, key_id):
    """keyring_check's line for one key, its spacing collapsed."""
    (line,) = [line for line in out.splitlines() if key_id in line]
    return " ".join(line.split())
