"""A session that passed only the password step reaches the MFA step and nothing else.

The walk covers every URL the resolver knows (admin, API, docs, account pages, health and
whatever other apps add later), with dummy values generated from each pattern's own regex.
"""

import re
import re._constants as sre_c
import re._parser as sre_parse

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django_otp.plugins.otp_totp.models import TOTPDevice

# The sign-in steps themselves, and switching the language, stay open.
OPEN = {"signin:login", "signin:verify", "signin:enrol", "signin:logout", "set_language"}

_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W", "CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S",
}


def _char_in(items) -> str:
    negate = bool(items) and items[0][0] is sre_c.NEGATE

    def member(char):
        for op, value in items:
            if op is sre_c.LITERAL and ord(char) == value:
                return True
            if op is sre_c.RANGE and value[0] <= ord(char) <= value[1]:
                return True
            if op is sre_c.CATEGORY and re.fullmatch(_CATEGORIES[str(value)], char):
                return True
        return False

    return next(c for c in "0aAx1-_." if member(c) != negate)


def _sample(parsed) -> str:
    """One string the parsed regex matches: zeros for UUIDs and ints, 'x' for slugs."""
    out = []
    for op, value in parsed:
        if op is sre_c.LITERAL:
            out.append(chr(value))
        elif op is sre_c.NOT_LITERAL:
            out.append("x" if chr(value) != "x" else "y")
        elif op is sre_c.ANY:
            out.append("x")
        elif op is sre_c.IN:
            out.append(_char_in(value))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            low, _, sub = value
            out.append(_sample(sub) * max(low, 1))
        elif op is sre_c.SUBPATTERN:
            out.append(_sample(value[-1]))
        elif op is sre_c.BRANCH:
            out.append(_sample(value[1][0]))
        elif op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue
        else:
            raise AssertionError(f"regex construct {op} not handled by the URL walk")
    return "".join(out)


def _strip(regex: str) -> str:
    return re.sub(r"(\\Z|\$)$", "", regex.removeprefix("^"))


def every_url(patterns=None, prefix=""):
    """(path, pattern) for every leaf pattern of the URL resolver, recursively."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + _strip(pattern.pattern.regex.pattern)
        if isinstance(pattern, URLResolver):
            yield from every_url(pattern.url_patterns, regex)
        else:
            yield "/" + _sample(sre_parse.parse(regex)), pattern


def test_the_walk_covers_admin_api_docs_and_account_pages():
    paths = [path for path, _ in every_url()]
    assert len(paths) > 40
    for expected in ["/api/v1/me/", "/api/docs/", "/account/tokens/", "/admin/", "/healthz",
                     "/admin/workinggroup/user/x/change/", "/account/sessions/"
                     "00000000-0000-0000-0000-000000000000/end/"]:
        assert expected in paths
    for path in paths:
        resolve(path)  # every sample is a real URL


@pytest.mark.parametrize("method", ["get", "post"])
def test_password_only_session_reaches_nothing_but_the_mfa_step(db, method, us_investigator,
                                                              password_only):
    TOTPDevice.objects.create(user=us_investigator, name="phone", confirmed=True)
    client = password_only(us_investigator)
    walked = 0
    for path, _ in every_url():
        if resolve(path).view_name in OPEN:
            continue
        response = getattr(client, method)(path)
        walked += 1
        if path.startswith("/api/"):
            assert response.status_code == 401, path
            assert response.json()["detail"].startswith("Two-factor verification required")
        else:
            assert response.status_code == 302, (path, response.status_code)
            assert response["Location"].startswith("/signin/verify/"), path
    assert walked > 40
    # and the session is still only half signed in
    assert client.get("/account/").status_code == 302


def test_member_without_a_device_is_sent_to_enrolment_everywhere(db, gt_liaison, password_only):
    client = password_only(gt_liaison)
    for path in ["/account/", "/admin/", "/", "/account/tokens/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/signin/enrol/?next=")


def test_the_mfa_step_is_reachable_with_the_password_only(db, us_investigator, password_only):
    TOTPDevice.objects.create(user=us_investigator, name="phone", confirmed=True)
    client = password_only(us_investigator)
    response = client.get("/signin/verify/")
    assert response.status_code == 200
    assert b'name="code"' in response.content


def test_api_session_authentication_ignores_unverified_sessions(db, us_investigator,
                                                               password_only):
    """Past the middleware (an Authorization header lets the request through to DRF)."""
    TOTPDevice.objects.create(user=us_investigator, name="phone", confirmed=True)
    client = password_only(us_investigator)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Basic eDp5")
    assert response.status_code == 401


def test_verified_session_reaches_pages_and_api(db, client, us_investigator, sign_in):
    sign_in(client, us_investigator)
    assert client.get("/account/").status_code == 200
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "us.investigator"


def test_admin_needs_a_verified_session(db, administrator, sign_in, password_only):
    TOTPDevice.objects.create(user=administrator, name="phone", confirmed=True)
    half = password_only(administrator)
    assert half.get("/admin/")["Location"].startswith("/signin/verify/")
    client = Client()
    sign_in(client, administrator)
    assert client.get("/admin/").status_code == 200


def test_admin_login_page_sends_everyone_to_the_one_sign_in(db, client, us_investigator, web):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/admin/"
    # a verified member who is not an administrator gets a plain refusal, not a loop
    assert web(us_investigator).get("/admin/login/").status_code == 403
    assert web(us_investigator).get("/admin/")["Location"].startswith("/admin/login/")


def test_admin_site_refuses_unverified_staff_even_without_the_middleware(rf, administrator):
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = administrator
    administrator.is_verified = lambda: False
    assert admin.site.has_permission(request) is False
    administrator.is_verified = lambda: True
    assert admin.site.has_permission(request) is True
