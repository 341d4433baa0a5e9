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
        self._share_states()

    def _share_states(self):
        """Cases in the states issue 18 added, reached through the sharing services (the
        matrix's SHARE_STATES says what each must open): an H2 offer approved by one liaison
        of two; an offer to GT and MX at once, GT's approved and MX's denied; a share whose
        renewal was cancelled when it was revoked; a share renewed and past its old expiry."""
        import datetime as dt

        from django.utils import timezone
        from freezegun import freeze_time

        from sharing import services as sharing

        us, liaison = self.people["us_investigator"], self.people["us_liaison"]
        mx, gt = Country.objects.get(code="MX"), Country.objects.get(code="GT")
        soon = timezone.now() + dt.timedelta(days=30)

        def offer(case, country, scope="summary", expires_at=soon):
            return sharing.share_request_open(
                requester=us, case=case, recipient_country=country, scope=scope,
                justification="matrix", expires_at=expires_at)

        case = self.cases["US>MX awaiting"] = new_case(us, title="H2 awaiting",
                                                       handling_code="H2")
        sharing.share_request_approve(share_request=offer(case, mx), liaison=liaison)
        case = self.cases["US>GT+MX"] = new_case(us, title="offered to two")
        to_gt, to_mx = sharing.share_requests_offer(
            requester=us, case=case, recipient_countries=[mx, gt], scope="summary",
            justification="matrix", expires_at=soon)
        assert (to_gt.recipient_country_id, to_mx.recipient_country_id) == ("GT", "MX")
        sharing.share_request_approve(share_request=to_gt, liaison=liaison)
        sharing.share_request_deny(share_request=to_mx, liaison=liaison)
        case = self.cases["US>MX cancelled"] = new_case(us, title="renewal cancelled")
        grant = sharing.share_request_approve(share_request=offer(case, mx), liaison=liaison)
        sharing.share_request_renew(requester=self.people["mx_investigator"], grant=grant,
                                    justification="more", expires_at=soon + dt.timedelta(days=1))
        sharing.share_request_revoke(share_request=grant, liaison=liaison)
        case = self.cases["US>MX renewed"] = new_case(us, title="renewed")
        start = timezone.now() - dt.timedelta(days=3)
        with freeze_time(start):
            grant = sharing.share_request_approve(
                share_request=offer(case, mx, expires_at=start + dt.timedelta(days=2)),
                liaison=liaison)
            renewal = sharing.share_request_renew(
                requester=us, grant=grant, justification="more", expires_at=soon)
            sharing.share_request_approve(share_request=renewal, liaison=liaison)
        assert sharing.share_expire_due() >= 1

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
