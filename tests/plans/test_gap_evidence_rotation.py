"""Key rotation covers gap evidence as it covers case files: rotate_keys re-wraps it under the
recording country's new key without touching its body, retire_key then removes the old key,
keyring_check counts and checks it, and a download follows a rotation."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from core import keyring
from plans import evidence as gap_files
from plans.models import GapEvidence
from tests.keys import body_sha256, key_line, primary, run
from tests.plans.conftest import GAP

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wg_keyring")]


@pytest.fixture
def gap_with_files(api, mx_investigator):
    """An MX gap naming GT, with evidence files: (gap id, {evidence id: plaintext})."""

    def build(n=2):
        gap = api(mx_investigator).post("/api/v1/gaps/", {**GAP, "countries": ["GT"]},
                                        format="json").json()
        files = {}
        for i in range(n):
            body = f"night log {i}\n".encode() * 5000
            response = api(mx_investigator).post(
                f"/api/v1/gaps/{gap['id']}/evidence/",
                {"file": SimpleUploadedFile(f"log{i}.txt", body, content_type="text/plain")},
                format="multipart",
            )
            assert response.status_code == 201, response.json()
            files[response.json()["id"]] = body
        return gap["id"], files

    return build


def downloaded(api, user, evidence_id):
    response = api(user).get(f"/api/v1/gap-evidence/{evidence_id}/content/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_rotation_rewraps_gap_evidence_and_then_the_old_key_retires(
    api, gap_with_files, wg_keyring, gt_investigator, audit_log,
    django_capture_on_commit_callbacks,
):
    gap_id, files = gap_with_files(2)
    old_key = primary("MX")
    before = {e.pk: (e.storage_name, body_sha256(e)) for e in GapEvidence.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run("rotate_keys", "--country", "MX")
    new_key = primary("MX")
    assert "MX: 2 data key(s) re-wrapped" in out
    for item in GapEvidence.objects.all():
        name, body = before[item.pk]
        assert item.key_id == new_key and item.storage_name != name
        assert body_sha256(item) == body  # the body is byte for byte the same
        assert not default_storage.exists(name)
    for evidence_id, body in files.items():
        assert downloaded(api, gt_investigator, evidence_id) == body
    rewraps = audit_log(action="gap.evidence_rewrap")
    assert sorted(e.target_id for e in rewraps) == sorted(files)
    assert {e.readers for e in rewraps} == {"GT,MX"}
    assert {(e.details["old_key_id"], e.details["new_key_id"], e.details["gap"])
            for e in rewraps} == {(old_key, new_key, gap_id)}
    out, _ = run("retire_key", old_key)
    assert f"MX: retired key {old_key}" in out
    assert old_key not in keyring.read(wg_keyring)["countries"]["MX"]["keys"]
    for evidence_id, body in files.items():  # the retired key was needed by none of them
        assert downloaded(api, gt_investigator, evidence_id) == body


def test_retire_names_the_gap_evidence_that_still_needs_the_key(gap_with_files):
    gap_with_files(1)
    old_key = primary("MX")
    run("rotate_keys", "--country", "MX", "--no-rewrap")
    with pytest.raises(CommandError, match=r"still wraps 1 gap evidence file\(s\); run "
                                           r"`manage.py rotate_keys --resume --country MX`"):
        run("retire_key", old_key)
    run("rotate_keys", "--resume", "--country", "MX")
    run("retire_key", old_key)
    assert set(GapEvidence.objects.values_list("key_id", flat=True)) == {primary("MX")}


def test_keyring_check_counts_and_checks_gap_evidence(gap_with_files):
    gap_with_files(2)
    old_key = primary("MX")
    run("rotate_keys", "--country", "MX", "--no-rewrap")
    assert key_line(run("keyring_check")[0], old_key) == (
        f"{old_key} 0 attachment(s) 2 gap evidence file(s) old: rotate_keys --resume, then retire"
    )
    assert "headers checked: 2" in run("keyring_check", "--headers")[0]
    bad = GapEvidence.objects.first()
    path = default_storage.path(bad.storage_name)
    blob = bytearray(open(path, "rb").read())
    blob[50] ^= 1  # the wrapped key in the header
    open(path, "wb").write(bytes(blob))
    with pytest.raises(CommandError, match="1 problem"):
        out, err = io.StringIO(), io.StringIO()
        call_command("keyring_check", "--headers", stdout=out, stderr=err)
    assert f"PROBLEM: gap evidence {bad.pk}: the object's header is not the one recorded" in (
        err.getvalue())


def test_a_tampered_evidence_file_is_reported_audited_and_the_rest_rotate(
    gap_with_files, audit_log,
):
    gap_with_files(3)
    bad = GapEvidence.objects.first()
    path = default_storage.path(bad.storage_name)
    blob = bytearray(open(path, "rb").read())
    blob[40] ^= 1
    open(path, "wb").write(bytes(blob))
    with pytest.raises(CommandError, match="not finished for MX") as failed:
        run("rotate_keys", "--country", "MX")
    assert failed.value.returncode == 1
    new_key = primary("MX")
    assert GapEvidence.objects.filter(key_id=new_key).count() == 2
    assert GapEvidence.objects.get(pk=bad.pk).key_id != new_key
    (failure,) = audit_log(action="gap.evidence_rewrap", outcome="failure")
    assert failure.target_id == str(bad.pk) and failure.readers == "GT,MX"
    assert "header is not the one recorded" in failure.details["error"]


def test_a_download_that_read_the_row_before_the_rotation_follows_it(
    gap_with_files, gt_investigator, django_capture_on_commit_callbacks,
):
    _, files = gap_with_files(1)
    ((evidence_id, body),) = files.items()
    stale = GapEvidence.objects.select_related("gap").get(pk=evidence_id)
    with django_capture_on_commit_callbacks(execute=True):
        run("rotate_keys", "--country", "MX")
    assert not default_storage.exists(stale.storage_name)
    stream = gap_files.gap_evidence_open(user=gt_investigator, evidence=stale)
    assert b"".join(stream) == body
