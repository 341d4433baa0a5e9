"""Fixtures for the attachment tests: a keyring of their own, cases, raw multipart uploads."""

import datetime as dt
import itertools
import os
import secrets
import uuid

import pytest
from django.contrib.auth.models import Permission

from workinggroup import keyring

UPLOADS = "/api/v1/cases/{}/attachments/"
CONTENT = "/api/v1/attachments/{}/content/"
SEG = 64 * 1024


@pytest.fixture
def wg_keyring(tmp_path, settings):
    """A fresh keyring file for this test (rotation rewrites it), loaded in this process."""
    path = tmp_path / "keyring.json"
    keyring.write(path, keyring.generate())
    settings.WG_KEYRING = str(path)
    keyring.reload()
    yield path
    keyring.get_keyring.cache_clear()


# placeholder: replaced by the cases branch at merge (cases.services.case_create and
# cases.permissions.grant_owner / set_country_grants write these rows there).
_OWNER_PERMS = ("view_case_summary", "view_case_full", "view_case_files", "change_case",
                "share_case")
_SCOPE_PERMS = {
    "summary": ("view_case_summary",),
    "full": ("view_case_summary", "view_case_full"),
    "full_with_files": ("view_case_summary", "view_case_full", "view_case_files"),
}
_numbers = itertools.count(1)


@pytest.fixture
def make_case(db):
    """make_case("US", shares={"MX": "full"}): a Case row and its group permission rows."""
    from cases.models import Case, CaseGroupObjectPermission
    from workinggroup.models import Country

    def grant(case, country, codenames):
        group = Country.objects.get(code=country).group
        for codename in codenames:
            CaseGroupObjectPermission.objects.create(
                group=group,
                content_object=case,
                permission=Permission.objects.get(
                    content_type__app_label="cases", codename=codename
                ),
            )

    def build(country="US", shares=None):
        number = next(_numbers)
        year = dt.date.today().year
        case = Case.objects.create(
            reference=f"{country}-{year}-{number:06d}", owner_country_id=country, year=year,
            number=number, title=f"Case {number}", case_type="trafficking",
        )
        grant(case, country, _OWNER_PERMS)
        for partner, scope in (shares or {}).items():
            grant(case, partner, _SCOPE_PERMS[scope])
        return case

    return build


def multipart(*parts, boundary=None):
    """(body, content type) for parts given as (field, filename or None, bytes)."""
    boundary = boundary or f"wgx{secrets.token_hex(12)}"
    chunks = []
    for field, filename, data in parts:
        disposition = f'form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + data + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def pdf_bytes(size: int) -> bytes:
    """A PDF-looking file of exactly `size` bytes (random after the magic)."""
    head = b"%PDF-1.7\n"
    if size <= len(head):
        return head[:size]
    return head + os.urandom(size - len(head))


@pytest.fixture
def upload(api):
    """upload(user, case, data, filename="evidence.pdf") -> the API response."""

    def send(user, case, data, filename="evidence.pdf", client=None):
        body, content_type = multipart(("file", filename, data))
        return (client or api(user)).post(
            UPLOADS.format(case.pk), data=body, content_type=content_type
        )

    return send


@pytest.fixture
def download(api):
    """download(user, attachment_id) -> (response, body bytes or None when not streaming)."""

    def fetch(user, attachment_id, client=None):
        response = (client or api(user)).get(CONTENT.format(attachment_id))
        if not response.streaming:
            return response, None
        return response, b"".join(response.streaming_content)

    return fetch


def storage_files(root):
    """Every file under the storage folder, as paths."""
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def storage_root(tmp_path):
    return tmp_path / "storage"


def new_id():
    return uuid.uuid4()
