"""Sessions end after 30 minutes idle and 12 hours absolute, at sign-out, when the account is
disabled and when an administrator ends them; the old cookie and the old token then fail."""

import datetime as dt

from django.conf import settings
from django.test import Client
from freezegun import freeze_time
from rest_framework.test import APIClient

from workinggroup import members
from workinggroup.models import ApiToken
from workinggroup.signin.models import MemberSession

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def mint_token(client, hours=8) -> str:
    response = client.post("/account/tokens/", {"name": "script", "hours": hours})
    assert response.status_code == 200
    return response.context["created"]["key"]


def token_works(key) -> bool:
    status = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code
    assert status in (200, 401)
    return status == 200


def cookie_works(client) -> bool:
    """The account page answers 200, or the sign-in page (a redirect to /signin/)."""
    response = client.get("/account/")
    if response.status_code == 302:
        assert response["Location"].startswith("/signin/")
        return False
    assert response.status_code == 200
    return True


def old_cookie(client) -> Client:
    """A fresh client carrying only the session cookie the given client had."""
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return stale


def test_idle_for_30_minutes_and_1_second_ends_session_and_token(db, us_investigator, sign_in,
                                                                 audit_log):
    with freeze_time(START) as clock:
        client = Client()
        sign_in(client, us_investigator)
        key = mint_token(client)
        stale = old_cookie(client)
        clock.tick(dt.timedelta(minutes=30, seconds=1))
        assert not cookie_works(stale)
        assert not token_works(key)
        assert not cookie_works(client)
        assert client.get("/api/v1/me/").status_code == 401
    [expired] = audit_log(action="auth.session_expired")
    assert expired.details["reason"] == "idle"
    rejected = audit_log(action="auth.token_rejected")
    assert rejected[0].details["reason"] == "idle"
    assert not MemberSession.objects.filter(user=us_investigator).exists()


def test_activity_keeps_a_session_and_a_token_alive(db, us_investigator, sign_in):
    with freeze_time(START) as clock:
        client = Client()
        sign_in(client, us_investigator)
        key = mint_token(client)
        for _ in range(4):
            clock.tick(dt.timedelta(minutes=29))
            assert cookie_works(client)
            assert token_works(key)


def test_twelve_hours_absolute_even_when_busy(db, us_investigator, sign_in, audit_log):
    with freeze_time(START) as clock:
        client = Client()
        sign_in(client, us_investigator)
        key = mint_token(client, hours=12)
        stale = old_cookie(client)
        elapsed = dt.timedelta(0)
        while elapsed + dt.timedelta(minutes=25) < dt.timedelta(hours=12):
            clock.tick(dt.timedelta(minutes=25))
            elapsed += dt.timedelta(minutes=25)
            assert cookie_works(client)
            assert token_works(key)
        clock.tick(dt.timedelta(hours=12) - elapsed + dt.timedelta(seconds=1))
        assert not token_works(key)
        assert not cookie_works(stale)
        assert not cookie_works(client)
    [expired] = audit_log(action="auth.session_expired")
    assert expired.details["reason"] == "absolute"


def test_no_token_lives_longer_than_12_hours(db, us_investigator, web):
    client = web(us_investigator)
    response = client.post("/account/tokens/", {"name": "long", "hours": 13})
    assert response.status_code == 200
    assert response.context["created"] is None
    assert "hours" in response.context["form"].errors
    assert not ApiToken.objects.filter(user=us_investigator).exists()
    import pytest

    with pytest.raises(members.MemberError, match="hours: between 1 and 12"):
        members.token_issue(user=us_investigator, actor=None, hours=24)


def test_sign_out_ends_every_session_and_token_of_the_member(db, us_investigator, sign_in,
                                                             audit_log):
    laptop, desktop = Client(), Client()
    sign_in(laptop, us_investigator)
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31)):
        sign_in(desktop, us_investigator)
        key = mint_token(desktop)
        stale = old_cookie(laptop)
        response = laptop.post("/signin/out/")
        assert response["Location"] == "/signin/?signed_out=1"
        assert not cookie_works(stale)
        assert not cookie_works(laptop)
        assert not cookie_works(desktop)
        assert not token_works(key)
    [logout] = audit_log(action="auth.logout")
    assert logout.details == {"verified": True, "sessions_ended": 2, "tokens_revoked": 1}
    assert "signed out" in Client().get("/signin/?signed_out=1").content.decode()


def test_a_password_only_session_signs_out_alone(db, us_investigator, sign_in, password_only):
    client = Client()
    sign_in(client, us_investigator)
    key = mint_token(client)
    half = password_only(us_investigator)
    half.post("/signin/out/")
    assert cookie_works(client) and token_works(key)


def test_disabling_a_member_ends_their_sessions_and_tokens(db, us_investigator, administrator,
                                                           sign_in, audit_log):
    client = Client()
    sign_in(client, us_investigator)
    key = mint_token(client)
    stale = old_cookie(client)
    members.member_disable(member=us_investigator, actor=administrator)
    assert not cookie_works(stale)
    assert not token_works(key)
    [disable] = audit_log(action="member.disable")
    assert (disable.details["sessions_ended"], disable.details["tokens_revoked"]) == (1, 1)


def test_administrator_ends_a_members_sessions_and_tokens(db, us_investigator, administrator,
                                                          sign_in, web, audit_log):
    client = Client()
    sign_in(client, us_investigator)
    key = mint_token(client)
    response = web(administrator).post(
        "/admin/workinggroup/user/",
        {"action": "end_sessions", "_selected_action": [us_investigator.pk]},
    )
    assert response.status_code == 302
    assert not cookie_works(client)
    assert not token_works(key)
    [ended] = audit_log(action="auth.sessions_ended")
    assert ended.actor == "administrator"
    assert ended.details == {"sessions_ended": 1, "tokens_revoked": 1}


def test_member_sees_their_sessions_and_ends_one(db, us_investigator, gt_investigator, sign_in,
                                                 audit_log):
    phone, desk = Client(), Client()
    sign_in(phone, us_investigator, HTTP_USER_AGENT="Phone browser", REMOTE_ADDR="192.0.2.10")
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31)):
        sign_in(desk, us_investigator, HTTP_USER_AGENT="Desk browser", REMOTE_ADDR="192.0.2.20")
        sign_in(Client(), gt_investigator)
        page = desk.get("/account/sessions/")
        rows = page.context["rows"]
        assert len(rows) == 2  # not the other member's
        assert [r["current"] for r in rows] == [True, False]
        html = page.content.decode()
        assert "Phone browser" in html and "192.0.2.10" in html
        phone_session = rows[1]["session"]
        response = desk.post(f"/account/sessions/{phone_session.pk}/end/")
        assert response["Location"] == "/account/sessions/"
        assert not cookie_works(phone)
        assert cookie_works(desk)
        gt_session = MemberSession.objects.get(user=gt_investigator)
        assert desk.post(f"/account/sessions/{gt_session.pk}/end/").status_code == 404
    [ended] = audit_log(action="auth.session_ended")
    assert ended.details["ip"] == "192.0.2.10"


def test_ending_this_session_from_the_list_signs_this_browser_out(db, us_investigator, web):
    client = web(us_investigator)
    row = MemberSession.objects.get(user=us_investigator)
    response = client.post(f"/account/sessions/{row.pk}/end/")
    assert response["Location"] == "/signin/?signed_out=1"
    assert not cookie_works(client)


def test_a_session_without_its_record_is_signed_out(db, us_investigator, web):
    client = web(us_investigator)
    MemberSession.objects.filter(user=us_investigator).delete()
    assert not cookie_works(client)
