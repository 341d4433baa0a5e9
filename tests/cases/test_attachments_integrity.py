"""Tampering with stored ciphertext is caught on download: the body is cut, never completed.

Each test edits the object in storage (or its row) the way an attacker with write access to
the bucket or the database could, then downloads it through the API.
"""

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from audit.models import AuditEntry
from cases.crypto import HEADER_SIZE as H
from cases.crypto import TAG_SIZE, AttachmentIntegrityError
from cases.models import Attachment
from tests.cases.conftest import CONTENT, SEG, pdf_bytes

pytestmark = pytest.mark.usefixtures("wg_keyring")

FULL = SEG + TAG_SIZE  # a non-final segment in storage
SIZE = 3 * SEG + 100  # segments 0, 1, 2 full and a short final segment 3


@pytest.fixture
def stored(make_case, us_investigator, upload):
    """stored() -> (Attachment, path of its object, plaintext): a fresh 4-segment file."""
    case = make_case("US")

    def build():
        data = pdf_bytes(SIZE)
        response = upload(us_investigator, case, data)
        assert response.status_code == 201
        attachment = Attachment.objects.get(pk=response.json()["id"])
        return attachment, Path(default_storage.path(attachment.storage_name)), data

    return build


def flip(path, offset, bit=0x01):
    blob = bytearray(path.read_bytes())
    blob[offset] ^= bit
    path.write_bytes(bytes(blob))


def segment(blob, i):
    return blob[H + i * FULL : H + (i + 1) * FULL]


def attempt(client, attachment):
    """Download; returns (status, bytes received). A cut stream raises inside the iteration."""
    response = client.get(CONTENT.format(attachment.pk))
    if not response.streaming:
        return response.status_code, b""
    received = bytearray()
    with pytest.raises(AttachmentIntegrityError):
        for chunk in response.streaming_content:
            received += chunk
    return response.status_code, bytes(received)


def assert_caught(client, attachment, audit_log, *, before_sending=None):
    status, received = attempt(client, attachment)
    assert len(received) < attachment.size, "the download completed"
    if before_sending is True:
        assert status == 500
    elif before_sending is False:
        assert status == 200  # headers were sent; the body was cut
    (failure,) = audit_log(action="attachment.integrity_failure")
    assert failure.target_id == str(attachment.pk)
    assert failure.outcome == "failure"
    assert failure.case_country == "US"
    return failure


@pytest.fixture
def client(api, us_investigator):
    return api(us_investigator)


def test_untouched_file_downloads(stored, client, audit_log):
    attachment, _, data = stored()
    response = client.get(CONTENT.format(attachment.pk))
    assert b"".join(response.streaming_content) == data
    assert audit_log(action="attachment.integrity_failure") == []


def test_flipped_bit_in_a_segment(stored, client, audit_log):
    attachment, path, _ = stored()
    flip(path, H + FULL + 10)
    failure = assert_caught(client, attachment, audit_log, before_sending=False)
    assert "segment 1 failed authentication" in failure.details["error"]


def test_flipped_bit_in_a_tag(stored, client, audit_log):
    attachment, path, _ = stored()
    flip(path, H + FULL - 1)
    assert_caught(client, attachment, audit_log, before_sending=False)


def test_flipped_bit_in_the_header_nonce_prefix(stored, client, audit_log):
    attachment, path, _ = stored()
    flip(path, 80)  # nonce prefix: bound into every nonce and the associated data
    assert_caught(client, attachment, audit_log, before_sending=False)


def test_flipped_bit_in_the_header_magic(stored, client, audit_log):
    attachment, path, _ = stored()
    flip(path, 1)
    failure = assert_caught(client, attachment, audit_log, before_sending=True)
    assert "bad magic" in failure.details["error"]


def test_flipped_bit_in_the_wrapped_key(stored, client, audit_log):
    attachment, path, _ = stored()
    flip(path, 40)
    assert_caught(client, attachment, audit_log, before_sending=True)


def test_flipped_bit_in_the_wrapped_key_also_written_to_the_row(stored, client, audit_log):
    # An attacker who can edit the database too: the key wrap's own check still fails.
    attachment, path, _ = stored()
    flip(path, 40)
    Attachment.objects.filter(pk=attachment.pk).update(
        wrapped_key=path.read_bytes()[38:78]
    )
    failure = assert_caught(client, attachment, audit_log, before_sending=True)
    assert "does not unwrap" in failure.details["error"]


def test_dropped_last_segment(stored, client, audit_log):
    attachment, path, _ = stored()
    blob = path.read_bytes()
    path.write_bytes(blob[: H + 3 * FULL])
    assert_caught(client, attachment, audit_log, before_sending=False)


def test_truncated_inside_a_segment(stored, client, audit_log):
    attachment, path, _ = stored()
    path.write_bytes(path.read_bytes()[:-5])
    assert_caught(client, attachment, audit_log, before_sending=False)


def test_trailing_bytes_after_the_last_segment(stored, client, audit_log):
    attachment, path, _ = stored()
    path.write_bytes(path.read_bytes() + b"\x00" * 40)
    assert_caught(client, attachment, audit_log, before_sending=False)


def test_two_segments_swapped(stored, client, audit_log):
    attachment, path, _ = stored()
    blob = path.read_bytes()
    path.write_bytes(blob[:H] + segment(blob, 1) + segment(blob, 0) + blob[H + 2 * FULL :])
    failure = assert_caught(client, attachment, audit_log, before_sending=False)
    assert "segment 0 failed" in failure.details["error"]


def test_segment_copied_from_another_file(stored, client, audit_log):
    attachment, path, _ = stored()
    _, other_path, _ = stored()
    blob, other = path.read_bytes(), other_path.read_bytes()
    path.write_bytes(blob[: H + FULL] + segment(other, 1) + blob[H + 2 * FULL :])
    assert_caught(client, attachment, audit_log, before_sending=False)


def test_ciphertext_moved_to_another_attachments_row(stored, client, audit_log):
    attachment, path, _ = stored()
    _, other_path, _ = stored()
    path.write_bytes(other_path.read_bytes())
    failure = assert_caught(client, attachment, audit_log, before_sending=True)
    assert "not the one recorded" in failure.details["error"]


def test_ciphertext_moved_with_its_key_fields_copied_to_the_row(stored, client, audit_log):
    # The row now names the other object's key; the attachment id in the AD still differs.
    attachment, path, _ = stored()
    other, other_path, _ = stored()
    path.write_bytes(other_path.read_bytes())
    Attachment.objects.filter(pk=attachment.pk).update(wrapped_key=other.wrapped_key)
    failure = assert_caught(client, attachment, audit_log, before_sending=False)
    assert "segment 0 failed" in failure.details["error"]


def test_recorded_sha256_mismatch_withholds_the_end(stored, client, audit_log):
    attachment, _, _ = stored()
    Attachment.objects.filter(pk=attachment.pk).update(sha256="0" * 64)
    failure = assert_caught(client, attachment, audit_log, before_sending=False)
    assert "SHA-256" in failure.details["error"]


def test_missing_object(stored, client, audit_log):
    attachment, path, _ = stored()
    path.unlink()
    failure = assert_caught(client, attachment, audit_log, before_sending=True)
    assert "missing from storage" in failure.details["error"]


def test_a_failure_answer_says_what_happened_without_detail(stored, client):
    attachment, path, _ = stored()
    flip(path, 40)
    response = client.get(CONTENT.format(attachment.pk))
    assert response.status_code == 500
    assert response.json()["detail"] == (
        "The file failed its integrity check and was not sent; the incident is logged."
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_failure_is_committed_although_the_response_failed(stored, client):
    attachment, path, _ = stored()
    flip(path, H + 2 * FULL + 3)
    attempt(client, attachment)
    failure = AuditEntry.objects.get(action="attachment.integrity_failure")
    assert failure.target_id == str(attachment.pk)
    assert failure.details["bytes_sent"] < attachment.size
