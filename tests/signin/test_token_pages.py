"""/account/tokens/: a verified member lists, creates and revokes their own API tokens."""

from rest_framework.test import APIClient

from workinggroup import members
from workinggroup.models import ApiToken


def me(key):
    return APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def test_a_new_token_is_shown_once_and_works(db, us_investigator, web, audit_log):
    client = web(us_investigator)
    response = client.post("/account/tokens/", {"name": "case export", "hours": 4})
    assert response.status_code == 200
    key = response.context["created"]["key"]
    assert key in response.content.decode()
    assert me(key).json()["username"] == "us.investigator"
    listing = client.get("/account/tokens/").content.decode()
    assert key not in listing
    assert "case export" in listing and key[:8] in listing
    token = ApiToken.objects.get(user=us_investigator)
    assert round((token.expires_at - token.created_at).total_seconds() / 3600) == 4
    [issued] = audit_log(action="token.issue")
    assert (issued.actor, issued.details["hours"]) == ("us.investigator", 4)


def test_default_lifetime_is_8_hours(db, us_investigator, web):
    page = web(us_investigator).get("/account/tokens/")
    assert page.context["form"]["hours"].initial == 8


def test_member_revokes_their_own_token(db, us_investigator, web, audit_log):
    client = web(us_investigator)
    key = client.post("/account/tokens/", {"hours": 8}).context["created"]["key"]
    token = ApiToken.objects.get(user=us_investigator)
    response = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response["Location"] == "/account/tokens/"
    assert me(key).status_code == 401
    assert [e.actor for e in audit_log(action="token.revoke")] == ["us.investigator"]


def test_member_cannot_revoke_someone_elses_token(db, us_investigator, mx_investigator, web):
    token, key = members.token_issue(user=mx_investigator, actor=None)
    response = web(us_investigator).post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    assert me(key).status_code == 200


def test_token_pages_need_a_signed_in_member(db, client):
    response = client.get("/account/tokens/")
    assert response["Location"] == "/signin/?next=/account/tokens/"
    assert client.post("/account/tokens/", {"hours": 8}).status_code == 302
    assert not ApiToken.objects.exists()


def test_revoke_is_post_only(db, us_investigator, web):
    token, _ = members.token_issue(user=us_investigator, actor=None)
    assert web(us_investigator).get(f"/account/tokens/{token.pk}/revoke/").status_code == 405
