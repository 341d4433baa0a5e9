"""Evidence from the case page: the same encrypting handler and service as the API, the CSRF
token in the form, refusals in words, nothing kept of a refused or forged upload."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Attachment

PDF = b"%PDF-1.4\n" + b"plaintext evidence line that must never reach a disk\n" * 200 + b"%%EOF\n"


def storage_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def us_case(make_case):
    return make_case("US", title="Red Tapachula")


@pytest.fixture
def strict(web):
    """strict(user) -> (client that enforces CSRF as a browser meets it, the form's token)."""

    def client_for(user, case):
        signed_in = web(user)
        client = Client(enforce_csrf_checks=True)
        client.cookies = signed_in.cookies
        html = client.get(f"/cases/{case.pk}/").content.decode()
        token = re.search(r'data-upload>\s*<input type="hidden" name="csrfmiddlewaretoken" '
                          r'value="([^"]+)"', html).group(1)
        return client, token

    return client_for


def send(client, case, data, name="evidence.pdf", token=None, **extra):
    body = {"csrfmiddlewaretoken": token} if token else {}  # first, as the form sends it
    body["file"] = SimpleUploadedFile(name, data)
    return client.post(f"/cases/{case.pk}/evidence/", body, follow=True, **extra)


def test_an_upload_from_the_page_is_stored_encrypted_and_downloads_intact(
    strict, us_investigator, us_case, tmp_path
):
    client, token = strict(us_investigator, us_case)
    response = send(client, us_case, PDF, token=token)
    assert response.status_code == 200
    assert "evidence.pdf uploaded" in response.content.decode()
    attachment = Attachment.objects.get(case=us_case)
    assert attachment.size == len(PDF) and attachment.content_type == "application/pdf"
    for path in storage_files(tmp_path / "storage"):
        assert b"plaintext evidence line" not in path.read_bytes()
    download = client.get(f"/evidence/{attachment.pk}/")
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="evidence.pdf"'


def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_kept(
    strict, us_investigator, us_case, tmp_path
):
    client, _token = strict(us_investigator, us_case)
    response = send(client, us_case, PDF)
    assert response.status_code == 403
    assert not Attachment.objects.exists()
    assert storage_files(tmp_path / "storage") == []


@pytest.mark.parametrize("name, data, words", [
    ("empty.pdf", b"", "The file is empty"),
    ("tool.pdf", b"MZ\x90\x00" + b"\x00" * 200, "Programs are not accepted"),
    ("notes.pdf", b"just some text, not a PDF at all\n" * 5, "does not match its name"),
])
def test_refusals_are_said_in_words_and_keep_nothing(
    strict, us_investigator, us_case, tmp_path, name, data, words
):
    client, token = strict(us_investigator, us_case)
    response = send(client, us_case, data, name=name, token=token)
    assert response.status_code == 200  # back on the case page, the refusal in words
    assert words in response.content.decode()
    assert not Attachment.objects.exists()
    assert storage_files(tmp_path / "storage") == []


def test_a_file_over_the_limit_is_refused_in_spanish(
    strict, us_investigator, us_case, settings, tmp_path
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    client, token = strict(us_investigator, us_case)
    response = send(client, us_case, PDF, token=token, HTTP_ACCEPT_LANGUAGE="es")
    assert "El archivo supera el límite de 1,0" in response.content.decode()
    assert not Attachment.objects.exists()


def test_partners_and_other_roles_cannot_upload_and_see_no_form(
    web, us_case, us_liaison, mx_investigator, us_auditor
):
    assert "data-upload" not in web(us_liaison).get(f"/cases/{us_case.pk}/").content.decode()
    for member, status in ((us_liaison, 403), (mx_investigator, 404), (us_auditor, 403)):
        response = web(member).post(f"/cases/{us_case.pk}/evidence/",
                                    {"file": SimpleUploadedFile("e.pdf", PDF)})
        assert response.status_code == status, member
    assert not Attachment.objects.exists()
