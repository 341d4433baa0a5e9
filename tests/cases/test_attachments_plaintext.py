"""After uploads, no plaintext is anywhere on disk or in the database.

Every uploaded file carries a random marker; the storage folder, the upload temp folder, the
system temp folder and every column of every table are searched for it. The searches are
first shown to find a planted marker, so a passing test means something.
"""

import os
import secrets
import tempfile
import time
from pathlib import Path

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import connection
from django.test import RequestFactory

from cases.models import Attachment
from cases.upload import EncryptingUploadHandler
from tests.cases.conftest import SEG, multipart, pdf_bytes

pytestmark = pytest.mark.usefixtures("wg_keyring")


def files_containing(marker: bytes, root, *, since=0.0):
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            try:
                if path.is_symlink() or path.stat().st_mtime < since:
                    continue
                if marker in path.read_bytes():
                    found.append(path)
            except OSError:
                continue  # vanished or unreadable: not ours
    return found


def rows_containing(marker: bytes):
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    if marker in raw:
                        found.append((table, row[0]))
    return found


def test_no_plaintext_on_disk_or_in_the_database(make_case, us_investigator, upload, settings,
                                                 tmp_path, storage_root, monkeypatch):
    marker = secrets.token_hex(16).encode()
    upload_tmp = tmp_path / "upload-tmp"
    upload_tmp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(upload_tmp)
    settings.ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
    started = time.time() - 1

    def scan():
        return (files_containing(marker, storage_root)
                + files_containing(marker, tempfile.gettempdir(), since=started))

    # Temporary files vanish when the request ends, so also look while uploads stream in.
    during, scans, receive = [], [], EncryptingUploadHandler.receive_data_chunk

    def receive_and_scan(handler, raw_data, start):
        result = receive(handler, raw_data, start)
        if start:
            scans.append(start)
            during.extend(scan())
        return result

    monkeypatch.setattr(EncryptingUploadHandler, "receive_data_chunk", receive_and_scan)
    case = make_case("US")
    text = marker + b"\n" + b"statement line\n" * 250_000 + marker  # > 2.5 MiB in memory limit
    pdf = pdf_bytes(3 * SEG)
    pdf = pdf[:100] + marker + pdf[100 + len(marker) : 2 * SEG] + marker + pdf[2 * SEG :]
    assert upload(us_investigator, case, text, "statement.txt").status_code == 201
    assert upload(us_investigator, case, pdf, "scan.pdf").status_code == 201
    assert upload(us_investigator, case, marker, "short.txt").status_code == 201
    # Refused uploads and a file sent where no endpoint takes files leave nothing either.
    assert upload(us_investigator, case, pdf, "scan.docx").status_code == 415
    assert upload(us_investigator, case, text * 4, "big.txt").status_code == 413
    body, content_type = multipart(("file", "x.txt", text))
    assert not RequestFactory().post("/elsewhere/", data=body, content_type=content_type).FILES
    assert Attachment.objects.filter(case=case).count() == 3

    assert storage_root.exists() and len(list(storage_root.rglob("*.wgxa"))) == 3
    assert len(scans) >= 3 and during == []
    assert scan() == []
    assert files_containing(marker, upload_tmp) == []
    assert rows_containing(marker) == []


def test_the_search_catches_djangos_temporary_file_handler(settings, tmp_path):
    marker = secrets.token_hex(16).encode()
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    body, content_type = multipart(("file", "x.txt", marker * 200_000))
    request = RequestFactory().post("/elsewhere/", data=body, content_type=content_type)
    request.upload_handlers = [TemporaryFileUploadHandler(request)]
    assert request.FILES["file"]
    assert files_containing(marker, tmp_path) != []  # what the encrypting handler avoids


def test_the_searches_find_a_planted_marker(db, tmp_path):
    marker = secrets.token_hex(16).encode()
    planted = tmp_path / "planted.bin"
    planted.write_bytes(b"xx" + marker + b"yy")
    assert files_containing(marker, tempfile.gettempdir(), since=time.time() - 60) == [planted]
    from audit.models import OutboxEvent

    OutboxEvent.objects.create(event={"note": marker.decode()})
    assert [table for table, _ in rows_containing(marker)] == ["audit_outboxevent"]
