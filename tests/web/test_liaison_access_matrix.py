"""The liaison pages' access matrix: every role of every country, and the administrator.

A US case has a pending request from MX and an approved share with MX. Only liaisons see an
inbox, grants or hits, always their own country's; only a US liaison decides or revokes;
the recipient country's members see the request but cannot decide it (403); members of the
uninvolved country do not learn it exists (404); auditors and administrators read no
requests (403). Nothing is changed by any refused attempt."""

import datetime as dt

import pytest
from django.utils import timezone

from sharing import services as sharing
from sharing.models import ShareStatus
from tests.cases.test_access_matrix import PEOPLE, role_of


@pytest.fixture
def world(make_case, mx_investigator, us_liaison):
    case = make_case("US", title="Red Tapachula")
    other = make_case("US", title="Ruta Norte")
    later = timezone.now() + dt.timedelta(days=30)
    pending = sharing.share_request_open(
        requester=mx_investigator, case=case, recipient_country=mx_investigator.country,
        scope="summary", justification="x", expires_at=later, from_hit=True)
    approved = sharing.share_request_open(
        requester=mx_investigator, case=other, recipient_country=mx_investigator.country,
        scope="summary", justification="y", expires_at=later, from_hit=True)
    sharing.share_request_approve(share_request=approved, liaison=us_liaison)
    return pending, approved


def refusal(person):
    """What a member who is not a US liaison gets when deciding or revoking a US share."""
    if role_of(person) in ("auditor", "administrator"):
        return 403
    country = person.split("_", 1)[0]
    return 404 if country == "gt" else 403


@pytest.mark.parametrize("person", PEOPLE)
def test_the_liaison_pages_for_every_role_and_country(request, web, world, person):
    pending, approved = world
    member = request.getfixturevalue(person)
    client = web(member)
    for url in ("/liaison/", "/liaison/grants/", "/liaison/grants/?tab=history",
                "/liaison/hits/"):
        response = client.get(url)
        assert response.status_code == (200 if role_of(person) == "liaison" else 403), url
        html = response.content.decode()
        if person != "us_liaison":
            assert f"request-{pending.pk}" not in html and pending.case.reference not in html
    assert client.get("/notifications/").status_code == 200
    if person == "us_liaison":
        return
    decide = client.post(f"/liaison/requests/{pending.pk}/decide/", {"decision": "approve"})
    assert decide.status_code == refusal(person)
    revoke = client.post(f"/liaison/grants/{approved.pk}/revoke/", {"note": "n"})
    assert revoke.status_code == refusal(person)
    pending.refresh_from_db()
    approved.refresh_from_db()
    assert (pending.status, approved.status) == (ShareStatus.PENDING, ShareStatus.APPROVED)


def test_the_owner_liaison_decides_and_revokes(web, world, us_liaison):
    pending, approved = world
    client = web(us_liaison)
    html = client.get("/liaison/").content.decode()
    assert f"request-{pending.pk}" in html
    assert f"share-{approved.pk}" in client.get("/liaison/grants/").content.decode()
    assert client.post(f"/liaison/requests/{pending.pk}/decide/",
                       {"decision": "deny"}).status_code == 302
    assert client.post(f"/liaison/grants/{approved.pk}/revoke/").status_code == 302
    pending.refresh_from_db()
    approved.refresh_from_db()
    assert (pending.status, approved.status) == (ShareStatus.DENIED, ShareStatus.REVOKED)
