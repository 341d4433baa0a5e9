"""Attachments on S3-compatible storage, for real: the API against an S3 API server on
loopback (moto's server mode) through django-storages and boto3, as WG_STORAGE=s3 runs.

Streamed upload with no plaintext anywhere, download, an integrity failure, key rotation's
re-wrap and a storage failure, each checked in the bucket itself.
"""

import io
import secrets
import tempfile

import pytest
from django.core.management import call_command

from cases.crypto import HEADER_SIZE, AttachmentIntegrityError
from cases.models import Attachment
from tests.cases.conftest import CONTENT, SEG, multipart, pdf_bytes
from tests.cases.test_attachments_plaintext import files_containing, rows_containing
from tests.s3 import MotoServer

pytestmark = pytest.mark.usefixtures("wg_keyring")


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def bucket(moto, settings):
    """A fresh bucket, and attachments stored in it for this test."""
    name = moto.new_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": moto.storage_setting(name)}
    return name


def test_a_streamed_upload_lands_in_the_bucket_as_ciphertext_and_downloads(
        bucket, moto, make_case, us_investigator, upload, download):
    data = pdf_bytes(6 * 1024 * 1024 + 7)  # past boto's 5 MiB part: a multipart upload
    response = upload(us_investigator, make_case("US"), data)
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    [key] = moto.keys(bucket)
    assert key == attachment.storage_name
    stored = moto.read(bucket, key)
    assert len(stored) > len(data) and data[100:164] not in stored
    downloaded, body = download(us_investigator, attachment.pk)
    assert downloaded.status_code == 200 and body == data


def test_no_plaintext_in_the_bucket_on_disk_or_in_the_database(
        bucket, moto, make_case, us_investigator, upload, download, settings, tmp_path):
    marker = secrets.token_hex(16).encode()
    upload_tmp = tmp_path / "upload-tmp"
    upload_tmp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(upload_tmp)
    case = make_case("US")
    sizes = (100, 3 * SEG + 5, 9 * 1024 * 1024)  # the last spools to disk on download
    for size in sizes:
        data = bytearray(pdf_bytes(size))
        for at in range(64, size - len(marker), 256 * 1024):
            data[at:at + len(marker)] = marker
        created = upload(us_investigator, case, bytes(data))
        assert created.status_code == 201
        assert download(us_investigator, created.json()["id"])[1] == bytes(data)
    keys = moto.keys(bucket)
    assert len(keys) == len(sizes)
    assert not [k for k in keys if marker in moto.read(bucket, k)]
    assert files_containing(marker, upload_tmp) == []
    assert files_containing(marker, tempfile.gettempdir()) == []
    assert rows_containing(marker) == []


def test_a_flipped_bit_in_the_bucket_cuts_the_download_and_is_audited(
        bucket, moto, make_case, us_investigator, upload, api, audit_log):
    created = upload(us_investigator, make_case("US"), pdf_bytes(3 * SEG + 100))
    attachment = Attachment.objects.get(pk=created.json()["id"])
    blob = bytearray(moto.read(bucket, attachment.storage_name))
    blob[HEADER_SIZE + SEG + 40] ^= 0x01  # inside segment 1
    moto.write(bucket, attachment.storage_name, bytes(blob))
    response = api(us_investigator).get(CONTENT.format(attachment.pk))
    assert response.status_code == 200  # the header checks out; segment 1 does not
    with pytest.raises(AttachmentIntegrityError):
        b"".join(response.streaming_content)
    [entry] = audit_log(action="attachment.integrity_failure")
    assert entry.target_id == str(attachment.pk)


def test_key_rotation_rewraps_the_objects_in_the_bucket(
        bucket, moto, make_case, us_investigator, upload, download,
        django_capture_on_commit_callbacks):
    data = pdf_bytes(2 * SEG + 3)
    created = upload(us_investigator, make_case("US"), data)
    before = Attachment.objects.get(pk=created.json()["id"])
    old_object = moto.read(bucket, before.storage_name)
    with django_capture_on_commit_callbacks(execute=True):  # old objects go after commit
        call_command("rotate_keys", "--country", "US", stdout=io.StringIO())
    after = Attachment.objects.get(pk=before.pk)
    assert after.key_id != before.key_id and after.storage_name != before.storage_name
    assert moto.keys(bucket) == [after.storage_name]  # the old object is gone
    new_object = moto.read(bucket, after.storage_name)
    # Only the header (the wrapped data key) changed: the encrypted body is byte for byte.
    assert new_object[:HEADER_SIZE] != old_object[:HEADER_SIZE]
    assert new_object[HEADER_SIZE:] == old_object[HEADER_SIZE:]
    assert download(us_investigator, after.pk)[1] == data


def test_an_unreachable_bucket_fails_the_upload_with_503_keeping_nothing(
        moto, make_case, us_investigator, api, settings, audit_log):
    storage = moto.storage_setting("wgx-no-such-bucket")  # the store refuses every write
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    case = make_case("US")
    body, content_type = multipart(("file", "a.pdf", pdf_bytes(3 * SEG)))
    response = api(us_investigator).post(f"/api/v1/cases/{case.pk}/attachments/", data=body,
                                         content_type=content_type)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "nothing was stored" in response.json()["detail"]
    assert not Attachment.objects.filter(case=case).exists()
    [entry] = audit_log(action="attachment.upload")
    assert (entry.outcome, entry.details["reason"]) == ("failure", "storage_unavailable")
