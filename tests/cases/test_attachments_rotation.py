"""Key rotation: rotate_keys re-wraps data keys without touching bodies, resumes, runs under
load; retire_key removes a key only when nothing needs it; keyring_check reports."""

import io
import json
import random
import threading
import time

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from cases import attachments, key_rotation
from cases.models import Attachment
from core import keyring
from tests.cases.conftest import CONTENT, UPLOADS, multipart, pdf_bytes
from tests.keys import body_sha256, key_line, primary, run

pytestmark = pytest.mark.usefixtures("wg_keyring")


@pytest.fixture
def files(make_case, us_investigator, mx_investigator, upload):
    """files(country, n) -> {attachment id: plaintext} uploaded to one case of that country."""

    def build(country="US", n=3, size=150_000):
        user = {"US": us_investigator, "MX": mx_investigator}[country]
        case = make_case(country)
        out = {}
        for _ in range(n):
            data = pdf_bytes(size)
            response = upload(user, case, data)
            assert response.status_code == 201
            out[response.json()["id"]] = data
        return out

    return build


def downloads_ok(files_by_id, user, download):
    for attachment_id, data in files_by_id.items():
        response, body = download(user, attachment_id)
        assert response.status_code == 200
        assert body == data


def test_rotation_rewraps_every_data_key_and_leaves_bodies_unchanged(
    files, us_investigator, mx_investigator, download, audit_log,
    django_capture_on_commit_callbacks,
):
    us, mx = files("US", 5), files("MX", 2)
    old_key, mx_key = primary("US"), primary("MX")
    before = {a.pk: (a.storage_name, body_sha256(a)) for a in Attachment.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):  # old objects go after commit
        out, _ = run("rotate_keys", "--country", "US")
    new_key = primary("US")
    assert new_key != old_key
    assert f"US: new primary key {new_key}" in out
    assert "US: 5 data key(s) re-wrapped" in out
    for attachment in Attachment.objects.select_related("case"):
        name, body = before[attachment.pk]
        assert body_sha256(attachment) == body  # the body is byte for byte the same
        if attachment.case.owner_country_id == "US":
            assert attachment.key_id == new_key and attachment.storage_name != name
            assert not default_storage.exists(name)  # the old object is gone
        else:
            assert attachment.key_id == mx_key and attachment.storage_name == name
    downloads_ok(us, us_investigator, download)
    downloads_ok(mx, mx_investigator, download)
    assert len(audit_log(action="attachment.rewrap")) == 5
    steps = [e.details["step"] for e in audit_log(action="key.rotate")]
    assert steps == ["new primary key", "re-wrapped data keys"]
    assert all(e.actor == "system:manage.py rotate_keys" for e in audit_log(action="key.rotate"))


def test_rotation_without_country_rotates_every_country(files):
    files("US", 1)
    files("MX", 1)
    before = {cc: primary(cc) for cc in ("US", "GT", "MX")}
    run("rotate_keys")
    assert all(primary(cc) != before[cc] for cc in before)
    assert {a.key_id for a in Attachment.objects.all()} == {primary("US"), primary("MX")}


def test_an_interrupted_rotation_resumes_without_a_new_key(files, monkeypatch, us_investigator,
                                                           download):
    us = files("US", 4)
    rewrap, calls = key_rotation.file_rewrap, []

    def dies_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a crash
        return rewrap(*args, **kwargs)

    monkeypatch.setattr(key_rotation, "file_rewrap", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        run("rotate_keys", "--country", "US")
    new_key = primary("US")
    assert Attachment.objects.filter(key_id=new_key).count() == 2
    monkeypatch.setattr(key_rotation, "file_rewrap", rewrap)
    out, _ = run("rotate_keys", "--resume", "--country", "US")
    assert "2 data key(s) re-wrapped" in out
    assert primary("US") == new_key
    assert set(Attachment.objects.values_list("key_id", flat=True)) == {new_key}
    assert len(default_storage.listdir("wgxa")[0]) >= 1
    downloads_ok(us, us_investigator, download)


def test_no_rewrap_only_adds_the_key(files):
    files("US", 2)
    old_key = primary("US")
    out, _ = run("rotate_keys", "--country", "US", "--no-rewrap")
    assert primary("US") != old_key
    assert "re-wrapped" not in out
    assert set(Attachment.objects.values_list("key_id", flat=True)) == {old_key}


def test_a_new_country_gets_its_first_key(db, administrator):
    from workinggroup.members import country_create

    country_create(code="HN", name_en="Honduras", name_es="Honduras", actor=administrator)
    run("rotate_keys", "--country", "HN", "--no-rewrap")
    assert primary("HN").startswith("kek-HN-")


def test_unknown_country_is_refused(db):
    with pytest.raises(CommandError, match="'ZZ' is not a partner country code"):
        run("rotate_keys", "--country", "ZZ")


def test_progress_bar_only_on_a_terminal(files):
    files("US", 3)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    call_command("rotate_keys", "--country", "US", stdout=terminal)
    assert "\rUS [" in terminal.getvalue() and "] 3/3\n" in terminal.getvalue()
    out, _ = run("rotate_keys", "--country", "US")
    assert "[" not in out


def test_a_file_that_fails_its_checks_is_reported_and_the_rest_rotate(files, audit_log):
    files("US", 3)
    bad = Attachment.objects.first()
    path = default_storage.path(bad.storage_name)
    blob = bytearray(open(path, "rb").read())
    blob[40] ^= 1  # the wrapped key
    open(path, "wb").write(bytes(blob))
    with pytest.raises(CommandError, match="not finished for US") as failed:
        run("rotate_keys", "--country", "US")
    assert failed.value.returncode == 1
    assert Attachment.objects.filter(key_id=primary("US")).count() == 2
    (failure,) = audit_log(action="attachment.integrity_failure")
    assert failure.target_id == str(bad.pk)


# --- uploads and downloads racing a rotation --------------------------------------------------


def test_an_upload_that_chose_the_old_key_is_caught_by_resume(files, make_case, us_investigator,
                                                              upload, monkeypatch):
    files("US", 1)
    case = make_case("US")
    early = attachments.upload_target(case=case)  # chosen before the rotation started
    old_key = early.key_id
    run("rotate_keys", "--country", "US")
    monkeypatch.setattr(attachments, "upload_target", lambda case: early)
    assert upload(us_investigator, case, pdf_bytes(5000)).status_code == 201
    monkeypatch.undo()
    assert Attachment.objects.filter(key_id=old_key).count() == 1
    with pytest.raises(CommandError, match="still wraps 1 attachment"):
        run("retire_key", old_key)
    run("rotate_keys", "--resume", "--country", "US")
    run("retire_key", old_key)


def test_a_download_that_read_the_row_before_the_rotation_follows_it(
    files, us_investigator, django_capture_on_commit_callbacks
):
    (attachment_id, data), = files("US", 1).items()
    stale = Attachment.objects.select_related("case").get(pk=attachment_id)
    with django_capture_on_commit_callbacks(execute=True):
        run("rotate_keys", "--country", "US")
    assert not default_storage.exists(stale.storage_name)
    _, body = attachments.attachment_open(user=us_investigator, attachment=stale)
    assert b"".join(body) == data


def test_another_process_rotating_is_noticed_without_a_restart(make_case, us_investigator,
                                                               upload):
    data = keyring.read(settings.WG_KEYRING)
    new_key = keyring.add_key(data, "countries", "US")
    time.sleep(0.01)  # a distinct mtime
    keyring.write(settings.WG_KEYRING, data, overwrite=True)  # as rotate_keys elsewhere would
    response = upload(us_investigator, make_case("US"), pdf_bytes(100))
    assert Attachment.objects.get(pk=response.json()["id"]).key_id == new_key


# --- retire_key and keyring_check ---------------------------------------------------------


def test_retire_refuses_the_primary_unknown_and_used_keys(files):
    files("US", 1)
    old_key = primary("US")
    with pytest.raises(CommandError, match="primary key"):
        run("retire_key", old_key)
    with pytest.raises(CommandError, match="not in the keyring"):
        run("retire_key", "kek-US-0000")
    run("rotate_keys", "--country", "US", "--no-rewrap")
    with pytest.raises(CommandError, match="still wraps 1 attachment"):
        run("retire_key", old_key)
    assert old_key in keyring.read(settings.WG_KEYRING)["countries"]["US"]["keys"]


def test_retire_removes_an_unused_key_and_is_audited(files, us_investigator, download,
                                                     audit_log):
    us = files("US", 2)
    old_key = primary("US")
    run("rotate_keys", "--country", "US")
    out, _ = run("retire_key", old_key)
    assert f"US: retired key {old_key}" in out
    assert old_key not in keyring.read(settings.WG_KEYRING)["countries"]["US"]["keys"]
    downloads_ok(us, us_investigator, download)
    (retired,) = audit_log(action="key.retire")
    assert retired.details == {"country": "US", "key_id": old_key}


def test_keyring_check_lists_keys_with_their_use_and_no_key_bytes(files):
    files("US", 2)
    old_key = primary("US")
    run("rotate_keys", "--country", "US", "--no-rewrap")
    out, _ = run("keyring_check")
    assert key_line(out, old_key) == (
        f"{old_key} 2 attachment(s) 0 gap evidence file(s) old: rotate_keys --resume, then retire"
    )
    assert key_line(out, primary("US")) == (
        f"{primary('US')} 0 attachment(s) 0 gap evidence file(s) primary"
    )
    raw = json.loads(open(settings.WG_KEYRING).read())
    for section in raw["countries"].values():
        for key in section["keys"].values():
            assert key not in out
    run("rotate_keys", "--resume", "--country", "US")
    assert key_line(run("keyring_check")[0], old_key) == (
        f"{old_key} 0 attachment(s) 0 gap evidence file(s) old, unused: can be retired"
    )


def test_keyring_check_fails_when_a_file_needs_a_missing_key(files):
    files("US", 1)
    data = keyring.read(settings.WG_KEYRING)
    data["countries"]["US"]["keys"].clear()
    keyring.write(settings.WG_KEYRING, data, overwrite=True)
    with pytest.raises(CommandError) as failed:
        run("keyring_check")
    assert failed.value.returncode == 1


def test_keyring_check_headers_finds_a_tampered_object(files):
    files("US", 2)
    assert "headers checked: 2" in run("keyring_check", "--headers")[0]
    bad = Attachment.objects.first()
    path = default_storage.path(bad.storage_name)
    blob = bytearray(open(path, "rb").read())
    blob[50] ^= 1
    open(path, "wb").write(bytes(blob))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("keyring_check", "--headers", stdout=io.StringIO(), stderr=err)
    assert str(bad.pk) in err.getvalue()


# --- under load (PostgreSQL: real concurrent connections) ----------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rotation_under_load(postgres, make_case, us_investigator):
    case = make_case("US")
    client = APIClient()
    client.force_authenticate(us_investigator)

    def send(data, http=client):
        body, content_type = multipart(("file", "evidence.pdf", data))
        response = http.post(UPLOADS.format(case.pk), data=body, content_type=content_type)
        assert response.status_code == 201, response.content
        return response.json()["id"]

    expected = {send(data): data for data in (pdf_bytes(random.randint(50_000, 600_000))
                                              for _ in range(60))}
    before = {a.pk: body_sha256(a) for a in Attachment.objects.all()}
    old_key = primary("US")
    stop, lock, errors, done = threading.Event(), threading.Lock(), [], []

    def uploader():
        http = APIClient()
        http.force_authenticate(us_investigator)
        try:
            while not stop.is_set():
                data = pdf_bytes(random.randint(1_000, 300_000))
                attachment_id = send(data, http)
                with lock:
                    expected[attachment_id] = data
                    done.append(("upload", time.monotonic()))
        except Exception as exc:  # reported by the main thread
            errors.append(repr(exc))
        finally:
            connection.close()

    def downloader():
        http = APIClient()
        http.force_authenticate(us_investigator)
        try:
            while not stop.is_set():
                with lock:
                    attachment_id, data = random.choice(list(expected.items()))
                response = http.get(CONTENT.format(attachment_id))
                assert response.status_code == 200, response.content
                assert b"".join(response.streaming_content) == data
                with lock:
                    done.append(("download", time.monotonic()))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=t) for t in (uploader, uploader, downloader, downloader)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    run("rotate_keys", "--country", "US")
    finished = time.monotonic()
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    during = {kind for kind, at in done if started <= at <= finished}
    assert during == {"upload", "download"}, "nothing overlapped the rotation"

    run("rotate_keys", "--resume", "--country", "US")  # uploads that chose the old key
    new_key = primary("US")
    assert set(Attachment.objects.values_list("key_id", flat=True)) == {new_key}
    for attachment in Attachment.objects.filter(pk__in=before):
        assert body_sha256(attachment) == before[attachment.pk]
    run("retire_key", old_key)
    for attachment_id, data in expected.items():
        response = client.get(CONTENT.format(attachment_id))
        assert b"".join(response.streaming_content) == data
    assert len(expected) > 60
