"""Passwords: Argon2id at rest, the length and common-password rules, audited changes."""

import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.test import Client

from workinggroup import members
from workinggroup.models import User
from workinggroup.signin.models import MemberSession

PERSONA_PASSWORD = "persona-Password-2026"
NEW_PASSWORD = "river-Lantern-copper-71"


def test_every_stored_password_hash_is_argon2id(db, settings, us_investigator):
    settings.DEBUG = True
    members.member_create(username="ana", password="correct-Horse-battery-9",
                          roles=["investigator"], country_code="US")
    call_command("seed_demo", "--quiet")
    hashes = list(User.objects.values_list("username", "password"))
    assert len(hashes) == 22  # 20 demo members (6 per country, 2 more), ana, us_investigator
    for username, encoded in hashes:
        assert encoded.startswith("argon2$argon2id$"), username


def test_production_argon2_parameters_are_at_least_owasps():
    """Tests lighten the parameters (tests/conftest.py); production keeps Django's."""
    code = ("from django.contrib.auth.hashers import Argon2PasswordHasher as H;"
            "print(H.time_cost, H.memory_cost, H.parallelism)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    time_cost, memory_kib, lanes = map(int, out)
    assert time_cost >= 2 and memory_kib >= 19 * 1024 and lanes >= 1


def test_hashers_put_argon2_first(settings):
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_password_change_is_audited_and_ends_other_sessions(db, us_investigator, web,
                                                            audit_log):
    other = web(us_investigator)
    client = web(us_investigator)
    response = client.post("/account/password/", {
        "old_password": PERSONA_PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    })
    assert response["Location"] == "/account/"
    assert client.get("/account/").status_code == 200  # this session continues
    assert other.get("/account/").status_code == 302  # the other one ended
    [row] = MemberSession.objects.filter(user=us_investigator)
    assert row.session_key == client.cookies[settings.SESSION_COOKIE_NAME].value  # the new key
    us_investigator.refresh_from_db()
    assert us_investigator.check_password(NEW_PASSWORD)
    assert us_investigator.password.startswith("argon2$argon2id$")
    [changed] = audit_log(action="auth.password_changed")
    assert (changed.actor, changed.details["other_sessions_ended"]) == ("us.investigator", 1)


def test_weak_new_passwords_are_refused(db, us_investigator, web, audit_log):
    client = web(us_investigator)
    for weak in ["short-Pw1", "password1234", "123456789012"]:
        response = client.post("/account/password/", {
            "old_password": PERSONA_PASSWORD, "new_password1": weak, "new_password2": weak,
        })
        assert response.status_code == 200
        assert response.context["form"].errors["new_password2"]
        assert b'<div class="error" role="alert">' in response.content  # shown, announced
    us_investigator.refresh_from_db()
    assert us_investigator.check_password(PERSONA_PASSWORD)
    assert audit_log(action="auth.password_changed") == []


def test_admin_password_change_goes_to_the_audited_page(db, administrator, web):
    response = web(administrator).get("/admin/password_change/")
    assert response["Location"] == "/account/password/"


def test_a_changed_password_signs_in(db, us_investigator, web, sign_in):
    web(us_investigator).post("/account/password/", {
        "old_password": PERSONA_PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    })
    client = Client()
    sign_in(client, us_investigator, password=NEW_PASSWORD)  # asserts each step passed
    assert client.get("/account/").status_code == 200
