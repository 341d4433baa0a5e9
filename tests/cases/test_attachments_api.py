"""The attachment API as the personas use it: round trips, who may do what, refusals."""

import hashlib

import pytest

from cases.models import Attachment
from tests.cases.conftest import CONTENT, SEG, UPLOADS, multipart, pdf_bytes, storage_files

pytestmark = pytest.mark.usefixtures("wg_keyring")


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "filename"),
    [
        (1, "one.txt"),
        (SEG, "one-segment.pdf"),
        (SEG + 1, "one-segment-plus-one.pdf"),
        (50 * 1024 * 1024, "fifty-mib.pdf"),
    ],
)
def test_round_trip_gives_identical_bytes(size, filename, make_case, us_investigator, upload,
                                          download):
    data = b"a" * size if filename.endswith(".txt") else pdf_bytes(size)
    created = upload(us_investigator, make_case("US"), data, filename)
    assert created.status_code == 201, created.json()
    assert created.json()["size"] == size
    assert created.json()["sha256"] == sha(data)
    response, body = download(us_investigator, created.json()["id"])
    assert response.status_code == 200
    assert int(response["Content-Length"]) == size
    assert sha(body) == sha(data)
    assert body == data


def test_an_empty_file_is_refused_naming_the_field_and_nothing_is_kept(
        make_case, us_investigator, upload, audit_log, storage_root):
    case = make_case("US")
    response = upload(us_investigator, case, b"", "empty.txt")
    assert response.status_code == 400
    assert response.json() == {"detail": "file: the file is empty (0 bytes); nothing to keep"}
    assert not case.attachments.exists()
    assert storage_files(storage_root) == []
    [refused] = audit_log(action="attachment.upload", outcome="failure")
    assert refused.details["reason"] == "empty" and refused.details["status"] == 400


def test_upload_answers_the_metadata_and_where_to_fetch_it(make_case, us_investigator, upload):
    case = make_case("US")
    response = upload(us_investigator, case, pdf_bytes(1000), "statement.pdf")
    body = response.json()
    assert response.status_code == 201
    assert set(body) == {"id", "case", "filename", "content_type", "size", "sha256",
                         "uploaded_by", "uploaded_at", "content_url"}
    assert body["case"] == str(case.pk)
    assert body["content_type"] == "application/pdf"
    assert body["uploaded_by"] == "us.investigator"
    assert response["Location"] == CONTENT.format(body["id"]) == body["content_url"]


def test_download_headers_make_the_browser_save_and_not_cache(make_case, us_investigator,
                                                              upload, download):
    created = upload(us_investigator, make_case("US"), b"hola, mundo\n", "declaración.txt")
    response, body = download(us_investigator, created.json()["id"])
    assert body == b"hola, mundo\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"declaracion.txt\"; filename*=UTF-8''declaraci%C3%B3n.txt"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert "sandbox" in response["Content-Security-Policy"]


def test_download_ignores_the_accept_header(make_case, us_investigator, upload, api):
    created = upload(us_investigator, make_case("US"), pdf_bytes(100))
    response = api(us_investigator).get(CONTENT.format(created.json()["id"]),
                                        HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"


def test_list_shows_metadata_only(make_case, us_investigator, upload, api):
    case = make_case("US")
    for name in ("a.pdf", "b.pdf"):
        upload(us_investigator, case, pdf_bytes(100), name)
    upload(us_investigator, make_case("US"), pdf_bytes(100), "other-case.pdf")
    response = api(us_investigator).get(UPLOADS.format(case.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [a["filename"] for a in body["results"]] == ["a.pdf", "b.pdf"]
    for forbidden in ("key_id", "wrapped_key", "storage_name"):
        assert forbidden not in body["results"][0]


def test_upload_download_and_list_are_audited(make_case, us_investigator, upload, download,
                                              api, audit_log):
    case = make_case("US")
    created = upload(us_investigator, case, pdf_bytes(100), "a.pdf").json()
    download(us_investigator, created["id"])
    api(us_investigator).get(UPLOADS.format(case.pk))
    (up,) = audit_log(action="attachment.upload")
    assert (up.actor, up.target_id, up.case_id, up.outcome) == (
        "us.investigator", created["id"], str(case.pk), "success")
    assert up.details["sha256"] == created["sha256"]
    (down,) = audit_log(action="attachment.download")
    assert (down.target_id, down.case_country) == (created["id"], "US")
    assert len(audit_log(action="attachment.list", case_id=str(case.pk))) == 1


# --- who may do what ---------------------------------------------------------------------------


@pytest.fixture
def shared_files(make_case, us_investigator, upload):
    """One US case per share scope given to MX (and one unshared), each with one file."""
    files = {}
    for scope in (None, "summary", "full", "full_with_files"):
        case = make_case("US", shares={"MX": scope} if scope else None)
        files[scope] = (case, upload(us_investigator, case, pdf_bytes(100)).json()["id"])
    return files


@pytest.mark.parametrize(
    ("scope", "listing", "content", "adding"),
    [
        (None, 404, 404, 404),
        # Summary holders see the case, so its file list is refused (403); they cannot see
        # a file itself (it is listed from `full` on), so its content is as unseen as a missing one.
        ("summary", 403, 404, 403),
        ("full", 200, 403, 403),
        ("full_with_files", 200, 200, 403),
    ],
)
def test_partner_access_follows_the_share_scope(scope, listing, content, adding, shared_files,
                                                mx_investigator, upload, api, audit_log):
    case, attachment_id = shared_files[scope]
    client = api(mx_investigator)
    assert client.get(UPLOADS.format(case.pk)).status_code == listing
    assert client.get(CONTENT.format(attachment_id)).status_code == content
    assert upload(mx_investigator, case, pdf_bytes(100)).status_code == adding
    denied = audit_log(action="access.denied", actor="mx.investigator")
    assert len(denied) == [listing, content, adding].count(404) + [
        listing, content, adding].count(403)


def test_unseen_missing_and_malformed_ids_look_the_same(shared_files, mx_investigator, api):
    client = api(mx_investigator)
    unseen = client.get(CONTENT.format(shared_files[None][1]))
    missing = client.get(CONTENT.format("0d6f4a52-8f55-4ad6-9d1d-3c3a1f1f0b8e"))
    malformed = client.get(CONTENT.format("not-a-uuid"))
    assert unseen.status_code == missing.status_code == malformed.status_code == 404
    assert unseen.json() == missing.json() == malformed.json()
    assert client.get(UPLOADS.format("not-a-uuid")).status_code == 404


def test_owner_liaison_reads_files_but_only_investigators_add_them(shared_files, us_liaison,
                                                                   upload, api):
    case, attachment_id = shared_files[None]
    client = api(us_liaison)
    assert client.get(UPLOADS.format(case.pk)).status_code == 200
    assert client.get(CONTENT.format(attachment_id)).status_code == 200
    assert upload(us_liaison, case, pdf_bytes(100)).status_code == 403


def test_auditors_and_administrators_never_see_files(shared_files, us_auditor, administrator,
                                                     upload, api):
    """Their role never reads case content: 403 on every file endpoint, whatever the id."""
    case, attachment_id = shared_files[None]
    for user in (us_auditor, administrator):
        assert api(user).get(UPLOADS.format(case.pk)).status_code == 403
        assert api(user).get(CONTENT.format(attachment_id)).status_code == 403
        assert api(user).get(CONTENT.format("not-a-uuid")).status_code == 403
        assert upload(user, case, pdf_bytes(100)).status_code == 403
    assert Attachment.objects.filter(case=case).count() == 1


def test_anonymous_callers_are_asked_to_sign_in(shared_files, api, upload):
    case, attachment_id = shared_files[None]
    assert api(None).get(CONTENT.format(attachment_id)).status_code == 401
    assert upload(None, case, pdf_bytes(100)).status_code == 401
    assert not Attachment.objects.filter(case=case).exclude(pk=attachment_id).exists()


def test_session_upload_needs_the_csrf_header(make_case, us_investigator, web):
    case = make_case("US")
    client = web(us_investigator)  # an MFA-verified session
    client.handler.enforce_csrf_checks = True
    token = "a" * 32
    client.cookies["csrftoken"] = token
    body, content_type = multipart(("file", "a.pdf", pdf_bytes(100)))
    refused = client.post(UPLOADS.format(case.pk), data=body, content_type=content_type)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    accepted = client.post(UPLOADS.format(case.pk), data=body, content_type=content_type,
                           HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_uploads_accept_exactly_the_apis_sign_in_methods():
    from rest_framework.settings import api_settings

    from cases.attachment_api import CaseAttachmentsView, UploadSessionAuthentication

    configured = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    ours = CaseAttachmentsView.authentication_classes
    assert len(ours) == len(configured)
    for mine, theirs in zip(ours, configured, strict=True):
        # the session class is the project's own (MFA-verified, say), CSRF from the header
        assert mine is theirs or (mine is UploadSessionAuthentication and issubclass(mine, theirs))


# --- refusals leave nothing behind -------------------------------------------------------------


def assert_nothing_kept(case, storage_root):
    assert not Attachment.objects.filter(case=case).exists()
    assert storage_files(storage_root) == []


def test_oversize_upload_is_413_and_leaves_nothing(make_case, us_investigator, upload,
                                                   settings, storage_root, audit_log):
    settings.ATTACHMENT_MAX_BYTES = 3 * SEG
    case = make_case("US")
    response = upload(us_investigator, case, pdf_bytes(3 * SEG + 1))
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]
    assert_nothing_kept(case, storage_root)
    (refused,) = audit_log(action="attachment.upload", outcome="failure")
    assert refused.details["reason"] == "too_large"
    assert upload(us_investigator, case, pdf_bytes(3 * SEG)).status_code == 201


def test_a_body_announcing_too_much_is_refused_unread(make_case, us_investigator, api,
                                                      settings, storage_root):
    settings.ATTACHMENT_MAX_BYTES = 1000
    case = make_case("US")
    body, content_type = multipart(("file", "a.pdf", pdf_bytes(200_000)))
    response = api(us_investigator).post(UPLOADS.format(case.pk), data=body,
                                         content_type=content_type)
    assert response.status_code == 413
    assert_nothing_kept(case, storage_root)


@pytest.mark.parametrize(
    ("filename", "data", "reason"),
    [
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "executable"),
        ("report.pdf", b"\x7fELF\x02\x01\x01" + bytes(200), "executable"),
        ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "executable"),
        ("report", b"\xcf\xfa\xed\xfe" + bytes(200), "executable"),
        ("statement.docx", pdf_bytes(300), "name_mismatch"),
        ("page.html", b"<html><script>alert(1)</script></html>", "name_mismatch"),
        ("data.bin", bytes(range(256)) * 40, "not_allowed"),
        ("notes.txt", b"plain text" * 1000 + b"\x00binary tail", "not_allowed"),
    ],
)
def test_refused_types_are_415_and_leave_nothing(filename, data, reason, make_case,
                                                 us_investigator, upload, storage_root,
                                                 audit_log):
    case = make_case("US")
    response = upload(us_investigator, case, data, filename)
    assert response.status_code == 415, response.json()
    assert_nothing_kept(case, storage_root)
    (refused,) = audit_log(action="attachment.upload", outcome="failure")
    assert refused.details["reason"] == reason


def test_a_large_executable_is_refused_before_it_is_all_encrypted(make_case, us_investigator,
                                                                  upload, storage_root):
    case = make_case("US")
    response = upload(us_investigator, case, b"MZ" + bytes(20 * 1024 * 1024), "setup.pdf")
    assert response.status_code == 415
    assert_nothing_kept(case, storage_root)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.txt", "win.txt"),
        ("C:\\evidence\\scan.pdf", "scan.pdf"),
        ("/var/lib/x/.hidden.pdf", "hidden.pdf"),
        ("invoice\u202efdp.exe.pdf", "invoicefdp.exe.pdf"),
        (" tab\tand  spaces .pdf. ", "taband spaces .pdf"),  # Django drops the tab
        ("scan", "scan.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_file_names_are_sanitised(sent, kept, make_case, us_investigator, upload):
    data = b"some notes\n" if kept.endswith(".txt") else pdf_bytes(100)
    response = upload(us_investigator, make_case("US"), data, sent)
    assert response.status_code == 201, response.json()
    assert response.json()["filename"] == kept


def test_other_parts_before_and_after_the_file_are_ignored(make_case, us_investigator, api):
    body, content_type = multipart(
        ("note", None, b"for the record"), ("file", "a.pdf", pdf_bytes(2 * SEG)),
        ("photo", "b.png", b"\x89PNG\r\n\x1a\n"),
    )
    response = api(us_investigator).post(UPLOADS.format(make_case("US").pk), data=body,
                                         content_type=content_type)
    assert response.status_code == 201, response.json()
    assert response.json()["filename"] == "a.pdf"
    assert Attachment.objects.count() == 1


def test_a_name_that_is_only_a_path_gets_no_file_through(make_case, us_investigator, upload,
                                                         storage_root):
    # Django's parser drops parts named "", "." or "..": then there is no file at all.
    case = make_case("US")
    response = upload(us_investigator, case, pdf_bytes(100), "..")
    assert response.status_code == 400
    assert "multipart file part named 'file'" in response.json()["detail"]
    assert_nothing_kept(case, storage_root)


def test_malformed_multipart_bodies_are_400_and_leave_nothing(make_case, us_investigator, api,
                                                              storage_root, audit_log):
    case = make_case("US")
    client = api(us_investigator)
    url = UPLOADS.format(case.pk)
    body, content_type = multipart(("file", "a.pdf", pdf_bytes(3 * SEG)))
    truncated = client.post(url, data=body[: len(body) // 2], content_type=content_type)
    assert truncated.status_code == 400
    assert "ended inside the file" in truncated.json()["detail"]
    no_boundary = client.post(url, data=body, content_type="multipart/form-data")
    assert no_boundary.status_code == 400
    two_files, content_type = multipart(("file", "a.pdf", pdf_bytes(100)),
                                        ("file", "b.pdf", pdf_bytes(100)))
    assert client.post(url, data=two_files, content_type=content_type).status_code == 400
    wrong_field, content_type = multipart(("document", "a.pdf", pdf_bytes(100)))
    assert client.post(url, data=wrong_field, content_type=content_type).status_code == 400
    not_multipart = client.post(url, data={"file": "x"}, format="json")
    assert not_multipart.status_code == 415
    assert_nothing_kept(case, storage_root)
    reasons = [e.details["reason"] for e in audit_log(action="attachment.upload")]
    assert reasons == ["truncated", "malformed", "several_files", "no_file", "not_multipart"]


@pytest.mark.parametrize(("threaded", "error", "status"), [
    (True, OSError(28, "No space left on device"), 507),
    (False, OSError(28, "No space left on device"), 507),
    (False, OSError(30, "Read-only file system"), 503),
])
def test_a_storage_failure_mid_upload_fails_it_and_leaves_nothing(threaded, error, status,
                                                                  make_case, us_investigator,
                                                                  api, settings, storage_root,
                                                                  monkeypatch, audit_log):
    from cases import upload as upload_module

    settings.ATTACHMENT_UPLOAD_THREADED = threaded
    opened = upload_module.open_for_writing

    class DiskFull:
        def __init__(self, fh):
            self.fh, self.written = fh, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 3 * SEG:
                raise error
            return self.fh.write(data)

        def close(self):
            self.fh.close()

    monkeypatch.setattr(upload_module, "open_for_writing",
                        lambda storage, name: DiskFull(opened(storage, name)))
    case = make_case("US")
    client = api(us_investigator)
    client.raise_request_exception = False
    body, content_type = multipart(("file", "a.pdf", pdf_bytes(40 * SEG)))
    response = client.post(UPLOADS.format(case.pk), data=body, content_type=content_type)
    assert response.status_code == status
    assert "nothing was stored" in response.json()["detail"]
    assert (response.get("Retry-After") == "5") == (status == 503)
    assert_nothing_kept(case, storage_root)
    [entry] = audit_log(action="attachment.upload")
    assert entry.outcome == "failure" and entry.details["status"] == status
    assert entry.details["reason"] == ("storage_full" if status == 507 else "storage_unavailable")


def test_uploads_work_with_the_helper_thread(make_case, us_investigator, upload, download,
                                             settings):
    settings.ATTACHMENT_UPLOAD_THREADED = True
    data = pdf_bytes(5 * SEG + 7)
    created = upload(us_investigator, make_case("US"), data)
    assert download(us_investigator, created.json()["id"])[1] == data


def test_the_schema_describes_the_endpoints_without_warnings(db, tmp_path):
    from django.core.management import call_command

    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))
    text = schema.read_text()
    assert "/api/v1/cases/{case_id}/attachments/:" in text
    assert "multipart/form-data" in text and "format: binary" in text
