"""API tokens: hashed at rest, expiring, revocable, dead with their member."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from audit.models import AuditEntry, OutboxEvent
from workinggroup import members
from workinggroup.models import ApiToken


def me(key):
    client = APIClient()
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def test_issue_token_prints_the_token_alone_and_it_reads_me(db, us_liaison):
    out = io.StringIO()
    call_command("issue_token", "us.liaison", stdout=out)
    key = out.getvalue().strip()
    assert out.getvalue() == key + "\n" and len(key) >= 40
    response = me(key)
    assert response.status_code == 200
    assert response.json() == {"username": "us.liaison", "country": "US",
                               "roles": ["liaison"], "oversight": False}


def test_database_holds_no_raw_token(db, us_investigator, drain):
    token, key = members.token_issue(user=us_investigator, actor=None)
    drain()
    assert token.key_hash != key and key not in token.key_hash
    stored = [str(row) for row in ApiToken.objects.values_list()]
    stored += [str(row) for row in AuditEntry.objects.values_list()]
    stored += [str(row) for row in OutboxEvent.objects.values_list()]
    assert not any(key in row for row in stored)


def test_expired_token_is_401(db, us_investigator):
    _, key = members.token_issue(user=us_investigator, actor=None, hours=8)
    with freeze_time(timezone.now() + dt.timedelta(hours=8, seconds=1)):
        response = me(key)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired token."}
    assert response["WWW-Authenticate"] == "Token"


def test_revoked_token_is_401(db, us_investigator):
    token, key = members.token_issue(user=us_investigator, actor=None)
    assert me(key).status_code == 200
    members.token_revoke(token=token, actor=us_investigator)
    assert me(key).status_code == 401


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token ñandú", "Token nope"])
def test_malformed_or_unknown_token_is_401(db, header):
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=header.encode("utf-8"))
    assert response.status_code == 401
    assert "detail" in response.json()


def test_disabling_a_member_kills_their_tokens(db, us_investigator, administrator):
    _, key = members.token_issue(user=us_investigator, actor=None)
    members.member_disable(member=us_investigator, actor=administrator)
    assert me(key).status_code == 401
    assert ApiToken.objects.filter(user=us_investigator, revoked_at__isnull=True).count() == 0


def test_issue_token_unknown_member_exits_2(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="username: no member 'ghost'") as excinfo:
        call_command("issue_token", "ghost")
    assert excinfo.value.returncode == 2


def test_anonymous_me_is_401(db):
    assert APIClient().get("/api/v1/me/").status_code == 401
