"""Case factories, and a module-wide world of members and cases built once per module.

`module_world` builds its rows inside a transaction that stays open for the module and is
rolled back at its end; each test runs in a savepoint inside it (pytest-django supports
higher-scoped transactions), so a matrix of many tests costs one set-up.
"""

import os
import secrets
import uuid

import pytest
from django.db import transaction

from cases import permissions, services
from cases.models import SubjectRole
from core import keyring
from workinggroup import members
from workinggroup.models import Country, User

COUNTRIES = ("US", "GT", "MX")
ROLES = ("investigator", "liaison", "auditor")


def new_case(actor, **fields):
    """A case through the service, with plain defaults."""
    fields.setdefault("title", f"Network {actor.country_id}")
    fields.setdefault("case_type", "trafficking")
    fields.setdefault("summary", "Recruitment through fake job offers.")
    return services.case_create(actor=actor, **fields)


def new_subject(case, actor, **fields):
    fields.setdefault("full_name", "Juan Pérez")
    fields.setdefault("role", SubjectRole.ORGANISER)
    return services.subject_add(case=case, actor=actor, **fields)


@pytest.fixture
def case_factory():
    return new_case


@pytest.fixture
def subject_factory():
    return new_subject


class World:
    """Members of every role in every country, an administrator, and cases of each country."""

    def __init__(self, password_hash):
        self.people = {}
        for cc in COUNTRIES:
            for role in ROLES:
                self.people[f"{cc.lower()}_{role}"] = self._member(cc, role, password_hash)
        self.people["administrator"] = self._member(None, "administrator", password_hash)
        self.cases = {}
        for cc in COUNTRIES:
            owner = self.people[f"{cc.lower()}_investigator"]
            case = new_case(owner, title=f"{cc} network", summary=f"{cc} summary")
            new_subject(case, owner, full_name="Organiser Uno", role=SubjectRole.ORGANISER)
            new_subject(case, owner, full_name="Victima Dos", role=SubjectRole.VICTIM)
            self.cases[cc] = case
        # Shares as the sharing app will make them: US -> MX summary, US -> GT full.
        us = self.people["us_investigator"]
        self.cases["US>MX"] = new_case(us, title="shared with MX", summary="s")
        permissions.set_country_grants(self.cases["US>MX"], "MX", permissions.SCOPES["summary"])
        self.cases["US>GT"] = shared = new_case(us, title="shared with GT", summary="s")
        new_subject(shared, us, full_name="Organiser Tres", role=SubjectRole.ORGANISER)
        new_subject(shared, us, full_name="Testigo Cuatro", role=SubjectRole.WITNESS)
        permissions.set_country_grants(shared, "GT", permissions.SCOPES["full"])

    @staticmethod
    def _member(country, role, password_hash):
        username = f"{(country or 'admin').lower()}.{role}.w"
        user = User.objects.create(
            username=username,
            password=password_hash,
            country=Country.objects.get(code=country) if country else None,
        )
        members.sync_member_groups(user, [role])
        return user

    def scope_of(self, person, case) -> str | None:
        """What the person's country holds on the case: owner, a scope, or None."""
        user = self.people[person]
        if user.country_id is None:
            return None
        if case.owner_country_id == user.country_id:
            return "owner"
        return permissions.scope_held(permissions.country_perms(case, user.country_id))


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, persona_password_hash):
    from tests.conftest import restore_migrated_rows

    with django_db_blocker.unblock():
        restore_migrated_rows()  # pytest-django may run this after a transactional flush
        with transaction.atomic():
            world = World(persona_password_hash)
            yield world
            transaction.set_rollback(True)


# --- Attachments -----------------------------------------------------------------------------

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


@pytest.fixture
def make_case(make_case):
    """make_case("US", shares={"MX": "full"}): a case through case_create, and partner scopes
    granted through the permissions module (the share flow itself is tested in sharing)."""

    def build(country="US", shares=None, **fields):
        case = make_case(country, **fields)
        for partner, scope in (shares or {}).items():
            permissions.set_country_grants(case, partner, permissions.SCOPES[scope])
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
