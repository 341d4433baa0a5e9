"""TOTP: enrolment on first sign-in, codes that cannot be replayed, and the reset command."""

import datetime as dt

from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from workinggroup.models import ApiToken
from workinggroup.signin.models import MemberSession

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_first_sign_in_shows_a_local_qr_code_and_the_manual_key(db, us_investigator,
                                                               password_only):
    client = password_only(us_investigator)
    response = client.get("/signin/enrol/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg width="' in html and 'class="segno"' in html  # rendered here, inline
    assert "<img" not in html and "http" not in html.split("<main", 1)[1].split("</main>")[0]
    device = TOTPDevice.objects.get(user=us_investigator, confirmed=False)
    assert response.context["manual_key"].replace(" ", "") in device.config_url
    # a reload shows the same key; a new sign-in gets a fresh one
    assert client.get("/signin/enrol/").context["manual_key"] == response.context["manual_key"]
    again = password_only(us_investigator).get("/signin/enrol/")
    assert again.context["manual_key"] != response.context["manual_key"]


def test_enrolment_confirms_the_device_and_is_audited(db, client, us_investigator, sign_in,
                                                      audit_log):
    device = sign_in(client, us_investigator)
    assert device.confirmed
    assert TOTPDevice.objects.filter(user=us_investigator).count() == 1
    assert client.get("/account/").status_code == 200
    actions = [e.action for e in audit_log(actor="us.investigator")]
    assert actions == ["auth.password_verified", "auth.mfa_enrolled", "auth.login"]
    # the enrolment page is gone once a device exists
    assert client.get("/signin/enrol/").status_code == 302


def test_a_wrong_code_at_enrolment_leaves_no_device(db, us_investigator, password_only,
                                                    audit_log):
    client = password_only(us_investigator)
    client.get("/signin/enrol/")
    response = client.post("/signin/enrol/", {"code": "000000"})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=us_investigator, confirmed=True).exists()
    [entry] = audit_log(action="auth.mfa_failed")
    assert entry.details["step"] == "enrol"


def test_a_replayed_code_is_refused_and_audited(db, us_investigator, sign_in, totp_code,
                                                password_only, audit_log):
    with freeze_time(START):
        device = sign_in(Client(), us_investigator)
        used = totp_code(device, steps=0)  # the code just accepted
        half = password_only(us_investigator)
        response = half.post("/signin/verify/", {"code": used})
        assert response.status_code == 200
        assert "used already" in response.content.decode()
        assert half.get("/account/")["Location"].startswith("/signin/verify/")
    [entry] = audit_log(action="auth.mfa_failed")
    assert (entry.actor, entry.outcome) == ("us.investigator", "denied")
    assert entry.details["reason"] == "replayed"


def test_a_replay_within_the_same_instant_from_two_browsers_lets_one_in(db, us_investigator,
                                                                       password_only,
                                                                       totp_code):
    TOTPDevice.objects.create(user=us_investigator, name="phone", confirmed=True)
    with freeze_time(START):
        first, second = password_only(us_investigator), password_only(us_investigator)
        code = totp_code(TOTPDevice.objects.get(user=us_investigator))
        answers = [c.post("/signin/verify/", {"code": code}).status_code
                   for c in (first, second)]
    assert sorted(answers) == [200, 302]


def test_wrong_code_is_refused_and_audited(db, us_investigator, password_only, audit_log):
    TOTPDevice.objects.create(user=us_investigator, name="phone", confirmed=True)
    client = password_only(us_investigator)
    response = client.post("/signin/verify/", {"code": "12345x"})
    assert response.status_code == 200
    assert client.get("/account/").status_code == 302
    [entry] = audit_log(action="auth.mfa_failed")
    assert entry.details["reason"] == "wrong_code"


def test_session_key_changes_at_the_password_and_at_the_code(db, client, us_investigator,
                                                            totp_code, settings):
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["planted"] = "by an attacker"
    store.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted = store.session_key
    client.post("/signin/", {"username": "us.investigator", "password": "persona-Password-2026"})
    after_password = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_password != planted
    assert not store.exists(planted)
    client.get("/signin/enrol/")
    device = TOTPDevice.objects.get(user=us_investigator)
    client.post("/signin/enrol/", {"code": totp_code(device)})
    after_code = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_code not in (planted, after_password)
    assert not store.exists(after_password)
    assert MemberSession.objects.get(user=us_investigator).session_key == after_code


def test_reset_mfa_deletes_devices_ends_everything_and_member_re_enrols(db, us_investigator,
                                                                        sign_in, audit_log):
    client = Client()
    old = sign_in(client, us_investigator)
    client.post("/account/tokens/", {"name": "script", "hours": 8})
    call_command("reset_mfa", "us.investigator", stdout=open("/dev/null", "w"))
    assert not TOTPDevice.objects.filter(user=us_investigator).exists()
    assert client.get("/account/")["Location"].startswith("/signin/?next=")
    assert not ApiToken.objects.filter(user=us_investigator, revoked_at__isnull=True).exists()
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)):
        new = sign_in(Client(), us_investigator)  # enrols again
    assert new.pk != old.pk and new.key != old.key
    [reset] = audit_log(action="auth.mfa_reset")
    assert reset.actor == "system:manage.py reset_mfa"
    assert reset.target_id == str(us_investigator.pk)
    assert reset.details == {"devices_deleted": 1, "sessions_ended": 1, "tokens_revoked": 1}
    assert len(audit_log(action="auth.mfa_enrolled")) == 2


def test_reset_mfa_unknown_member_exits_2(db):
    import pytest
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="username: no member 'ghost'") as excinfo:
        call_command("reset_mfa", "ghost")
    assert excinfo.value.returncode == 2
