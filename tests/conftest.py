"""Personas and services for the whole suite.

Personas: a member of each role in each country (`us_investigator`, `mx_liaison`,
`gt_auditor`, ...), the trilateral `oversight_auditor` and the `administrator`, built through
the member service. `api(user)` is an API client acting as that member.
"""

import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from rest_framework.test import APIClient

from workinggroup import members

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
COUNTRIES = ("US", "GT", "MX")
ROLES = ("investigator", "liaison", "auditor")
PERSONA_PASSWORD = "persona-Password-2026"


def service_missing(reason: str):
    """A test needing a service: fail under REQUIRE_SERVICES=1, otherwise skip saying why."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def restore_migrated_rows() -> None:
    """Make again the rows migrations make, if a transactional test's flush took them:
    permissions and role groups (post_migrate) and the founding countries (their data
    migration). pytest-django runs module-wide worlds and browser tests after such tests."""
    import importlib

    from django.apps import apps
    from django.core.management.sql import emit_post_migrate_signal

    from workinggroup.models import Country

    if not Country.objects.exists():
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
        importlib.import_module("workinggroup.migrations.0002_countries").add_founders(
            apps, None)


@pytest.fixture
def postgres(request):
    """Only on PostgreSQL (advisory locks, concurrency, triggers).

    Decided before any database set-up (the vendor needs no connection): a transactional
    test skipped on SQLite must not flush the database, or the next serialized-rollback test
    finds the groups post_migrate recreated. List it before `transactional_db`.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing("this test needs PostgreSQL (set DATABASE_URL)")
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        request.getfixturevalue("db")
    return connection


@pytest.fixture
def redis_url():
    """The Redis broker URL, reachable, or a skip/fail saying why."""
    url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")
    if not url or not url.startswith("redis"):
        service_missing("this test needs Redis (set CELERY_BROKER_URL)")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1).close()
    except OSError:
        service_missing(f"Redis at {parsed.hostname}:{parsed.port} is not reachable")
    return url


@pytest.fixture(scope="session", autouse=True)
def _light_argon2():
    """Argon2id with light parameters while testing: production's (100 MiB, 8 lanes) take a
    second per hash on a small box, and sign-in tests hash on every attempt. The algorithm,
    variant and hash format stay those of production (tests/signin/test_passwords.py)."""
    from django.contrib.auth.hashers import Argon2PasswordHasher as hasher

    saved = hasher.time_cost, hasher.memory_cost, hasher.parallelism
    hasher.time_cost, hasher.memory_cost, hasher.parallelism = 1, 1024, 1
    yield
    hasher.time_cost, hasher.memory_cost, hasher.parallelism = saved


@pytest.fixture(scope="session")
def persona_password_hash():
    """One real Argon2id hash shared by every persona (hashing once keeps the suite fast)."""
    return make_password(PERSONA_PASSWORD)


@pytest.fixture
def make_member(db, persona_password_hash):
    """Build a member through the member service: make_member("US", "investigator")."""
    counter = {"n": 0}

    def build(country, *roles, oversight=False, username=None):
        counter["n"] += 1
        username = username or f"{(country or 'xx').lower()}.{'-'.join(roles)}.{counter['n']}"
        members.validate_member(country_code=country, roles=list(roles), oversight=oversight)
        from workinggroup.models import Country, User

        user = User.objects.create(
            username=username,
            password=persona_password_hash,
            email=f"{username}@example.invalid",
            country=Country.objects.get(code=country) if country else None,
            oversight=oversight,
        )
        members.sync_member_groups(user, list(roles))
        return user

    return build


def _persona(country, role):
    @pytest.fixture
    def fixture(make_member):
        return make_member(country, role, username=f"{country.lower()}.{role}")

    return fixture


for _cc in COUNTRIES:
    for _role in ROLES:
        globals()[f"{_cc.lower()}_{_role}"] = _persona(_cc, _role)


@pytest.fixture
def make_case(make_member):
    """make_case("US", **fields) -> a case opened through case_create by that country."""
    from cases import services

    authors = {}

    def build(country="US", **fields):
        if country not in authors:
            authors[country] = make_member(country, "investigator",
                                           username=f"{country.lower()}.case-author")
        fields.setdefault("title", f"Operation Tecolote {len(authors)}")
        fields.setdefault("summary", "Recruitment ring moving people through Tapachula")
        fields.setdefault("case_type", "trafficking")
        return services.case_create(actor=authors[country], **fields)

    return build


@pytest.fixture
def oversight_auditor(make_member):
    return make_member("US", "auditor", oversight=True, username="oversight.auditor")


@pytest.fixture
def administrator(make_member):
    return make_member(None, members.ADMINISTRATOR, username="administrator")


@pytest.fixture
def wg_keyring(tmp_path, settings):
    """A fresh keyring file for this test (rotation rewrites it), loaded in this process."""
    from core import keyring

    path = tmp_path / "keyring.json"
    keyring.write(path, keyring.generate())
    settings.WG_KEYRING = str(path)
    keyring.reload()
    yield path


@pytest.fixture
def api():
    """api(user) -> an APIClient authenticated as that member (api(None): anonymous)."""

    def client_for(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture(autouse=True)
def _isolated_files(tmp_path, settings):
    """Uploaded files go to a fresh folder per test."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "storage")},
        },
    }


@pytest.fixture(autouse=True)
def _eager_tasks():
    """Tasks run in-process on commit unless a test starts a real worker."""
    from workinggroup.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _audit_tables_emptied_after_transactional_tests(request):
    """Empty the append-only audit tables before Django's flush ends a transactional test.

    Their triggers reject deleting rows, and the flush at the end of a `transactional_db` test
    deletes every row; so the rows go first, with the triggers briefly lifted.
    """
    marker = request.node.get_closest_marker("django_db")
    if "postgres" in request.fixturenames:
        request.getfixturevalue("postgres")  # skip on SQLite before any transactional set-up
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")  # so this teardown runs before the flush
    elif marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("_django_db_helper")
    else:
        yield
        return
    yield
    from django.db import connection, transaction

    from audit import triggers

    with transaction.atomic():
        triggers.drop(connection)
        with connection.cursor() as cursor:
            for table in (*triggers.TABLES, "audit_outboxevent"):
                cursor.execute(f"DELETE FROM {table}")
        triggers.install(connection)


@pytest.fixture
def drain():
    """Chain every waiting audit event now (tests in a transaction never reach on-commit)."""
    from audit.drain import drain_outbox

    return drain_outbox


@pytest.fixture
def audit_log(db):
    """audit_log(**filters) -> chained entries matching the filters, in order (drains first)."""
    from audit.drain import drain_outbox
    from audit.models import AuditEntry

    def entries(**filters):
        drain_outbox()
        return list(AuditEntry.objects.filter(**filters).order_by("seq"))

    return entries


assert settings.AUTH_USER_MODEL == "workinggroup.User"


# --- Sign-in (MFA) -------------------------------------------------------------------------


@pytest.fixture
def totp_code():
    """totp_code(device) -> the code the member's app shows now, never one already used."""
    import time

    from django_otp.oath import TOTP

    def code(device, steps=None):
        device.refresh_from_db()
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        if steps is None:  # the first time step the device still accepts
            steps = max(0, device.last_t + 1 - totp.t())
            assert steps <= device.tolerance, "no unused code left now: move the clock on"
        totp.time += steps * device.step
        return f"{totp.token():0{device.digits}d}"

    return code


@pytest.fixture
def sign_in(totp_code):
    """sign_in(client, user) walks the real sign-in (password, then enrolment or the code)
    and returns the member's TOTP device; extra keywords go to every request."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def walk(client, user, password=PERSONA_PASSWORD, **extra):
        response = client.post("/signin/", {"username": user.get_username(),
                                            "password": password}, **extra)
        assert response.status_code == 302, "the password step failed"
        step = response.url.split("?")[0]
        if step == "/signin/enrol/":
            client.get(step, **extra)
            device = TOTPDevice.objects.get(user=user, confirmed=False)
        else:
            device = TOTPDevice.objects.get(user=user, confirmed=True)
        response = client.post(step, {"code": totp_code(device)}, **extra)
        assert response.status_code == 302 and not response.url.startswith("/signin/"), \
            "the TOTP step failed"
        device.refresh_from_db()
        return device

    return walk


@pytest.fixture
def web(db):
    """web(user) -> a test Client whose session passed the TOTP step (pages as that member)."""
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from workinggroup.signin.models import MemberSession
    from workinggroup.signin.services import SESSION_ID_KEY

    def client_for(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        client = Client()
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        MemberSession.objects.filter(pk=session[SESSION_ID_KEY]).update(
            verified_at=timezone.now()
        )
        return client

    return client_for



@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A page request in Spanish leaves its language active in the thread (LocaleMiddleware
    does not switch back); the next test starts in the site's default, whatever ran before."""
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)
