"""Lockout: five failures lock a username from any address until an administrator releases
it, and locked, unknown and wrong sign-ins all get the same answer."""

import datetime as dt
import io
import re

from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

PERSONA_PASSWORD = "persona-Password-2026"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
WRONG = "wrong-Password-0000"


def attempt(username, password, ip="198.51.100.7", client=None):
    client = client or Client()
    return client.post("/signin/", {"username": username, "password": password},
                       REMOTE_ADDR=ip)


def without_csrf(content: bytes) -> bytes:
    """A page body with its CSRF tokens blanked (they differ on every answer by design)."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def signed_in(response) -> bool:
    return response.status_code == 302


def test_five_failures_lock_from_any_address_until_unlock_member(db, us_investigator, sign_in,
                                                                 audit_log):
    for _ in range(5):
        assert attempt("us.investigator", WRONG).status_code == 200
    assert not signed_in(attempt("us.investigator", PERSONA_PASSWORD))
    assert not signed_in(attempt("us.investigator", PERSONA_PASSWORD, ip="203.0.113.250"))
    out = io.StringIO()
    call_command("unlock_member", "us.investigator", stdout=out)
    assert "released us.investigator (7 failure(s) cleared)" in out.getvalue()
    assert signed_in(attempt("us.investigator", PERSONA_PASSWORD, ip="203.0.113.250"))
    sign_in(Client(), us_investigator)

    failed = audit_log(action="auth.login_failed")
    assert [e.details["reason"] for e in failed] == ["wrong_password"] * 5 + ["locked"] * 2
    assert {e.ip for e in failed} == {"198.51.100.7", "203.0.113.250"}
    [lock] = audit_log(action="auth.lockout")
    assert (lock.actor, lock.target_id, lock.details["failures"]) == (
        "us.investigator", str(us_investigator.pk), 5)
    [release] = audit_log(action="auth.unlock")
    assert release.actor == "system:manage.py unlock_member"
    assert release.details == {"failures_cleared": 7}


def test_unlocking_an_unlocked_member_changes_nothing(db, us_investigator, audit_log):
    out = io.StringIO()
    call_command("unlock_member", "us.investigator", stdout=out)
    assert "was not locked" in out.getvalue()
    assert audit_log(action="auth.unlock") == []


def test_locked_unknown_and_wrong_answers_are_identical_apart_from_csrf(db, us_investigator,
                                                                        mx_liaison):
    for _ in range(5):
        attempt("mx.liaison", WRONG)
    with freeze_time(START):  # so that Date and Expires match too
        answers = {
            "unknown": attempt("nobody.at.all", WRONG),
            "unknown_other": attempt("x" * 150, PERSONA_PASSWORD),
            "wrong_password": attempt("us.investigator", WRONG),
            "locked_right_password": attempt("mx.liaison", PERSONA_PASSWORD),
            "locked_wrong_password": attempt("mx.liaison", WRONG),
        }
    reference = answers.pop("unknown")
    assert reference.status_code == 200
    assert b"Sign-in failed" in reference.content
    for name, answer in answers.items():
        assert answer.status_code == reference.status_code, name
        assert without_csrf(answer.content) == without_csrf(reference.content), name
        assert answer["Content-Length"] == reference["Content-Length"], name
        same = {k for k in reference.headers if k not in {"X-Request-ID"}}
        assert {k for k in answer.headers if k != "X-Request-ID"} == same, name
        for header in same - {"Set-Cookie"}:
            assert answer[header] == reference[header], (name, header)


def test_disabled_member_gets_the_same_answer_with_the_right_password(db, us_investigator,
                                                                      administrator, audit_log):
    from workinggroup import members

    members.member_disable(member=us_investigator, actor=administrator)
    reference = attempt("nobody.at.all", WRONG)
    answer = attempt("us.investigator", PERSONA_PASSWORD)
    assert without_csrf(answer.content) == without_csrf(reference.content)
    assert audit_log(action="auth.login_failed")[-1].details["reason"] == "disabled"


def test_unknown_usernames_are_audited_and_lock_like_real_ones(db, audit_log):
    for _ in range(5):
        attempt("ghost", WRONG)
    failed = audit_log(action="auth.login_failed")
    assert [(e.actor, e.target_type, e.target_id) for e in failed][0] == (
        "ghost", "username", "ghost")
    assert failed[0].details["reason"] == "unknown_username"
    assert len(audit_log(action="auth.lockout")) == 1


def test_the_count_starts_over_after_15_quiet_minutes(db, us_investigator):
    with freeze_time(START) as clock:
        for _ in range(4):
            attempt("us.investigator", WRONG)
            clock.tick(dt.timedelta(minutes=1))
        clock.tick(dt.timedelta(minutes=15, seconds=1))
        attempt("us.investigator", WRONG)  # the first of a new count
        assert signed_in(attempt("us.investigator", PERSONA_PASSWORD))


def test_five_failures_inside_15_minutes_lock(db, us_investigator):
    with freeze_time(START) as clock:
        for _ in range(5):
            attempt("us.investigator", WRONG)
            clock.tick(dt.timedelta(minutes=3))
        clock.tick(dt.timedelta(days=30))  # a lock does not wear off
        assert not signed_in(attempt("us.investigator", PERSONA_PASSWORD))


def test_a_full_sign_in_resets_the_count(db, us_investigator, sign_in):
    for _ in range(4):
        attempt("us.investigator", WRONG)
    sign_in(Client(), us_investigator)
    for _ in range(4):
        attempt("us.investigator", WRONG)
    assert signed_in(attempt("us.investigator", PERSONA_PASSWORD))


def test_wrong_codes_count_too_and_end_the_half_signed_in_session(db, us_investigator,
                                                                  password_only, audit_log):
    TOTPDevice.objects.create(user=us_investigator, name="phone", confirmed=True)
    attempt("us.investigator", WRONG)
    client = password_only(us_investigator)
    answers = [client.post("/signin/verify/", {"code": "000000"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert b"Sign-in failed" in answers[-1].content  # the fifth failure: back to sign-in
    assert client.get("/signin/verify/")["Location"] == "/signin/"
    assert not signed_in(attempt("us.investigator", PERSONA_PASSWORD))
    assert len(audit_log(action="auth.mfa_failed")) == 4
    [lock] = audit_log(action="auth.lockout")
    assert lock.actor == "us.investigator"


def test_administrator_releases_a_lockout_from_the_admin(db, us_investigator, administrator,
                                                         web, audit_log):
    for _ in range(5):
        attempt("us.investigator", WRONG)
    response = web(administrator).post(
        "/admin/workinggroup/user/",
        {"action": "release_lockout", "_selected_action": [us_investigator.pk]},
    )
    assert response.status_code == 302
    assert signed_in(attempt("us.investigator", PERSONA_PASSWORD))
    [release] = audit_log(action="auth.unlock")
    assert release.actor == "administrator"
