"""Investigators and liaisons open share requests: every other role is refused 403 before its
body, its case or its lookup hit is looked at, so the answer says nothing about any of them.
Liaisons only offer their own country's cases; asking for a partner's case is the
investigators'."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied

from sharing.models import ShareRequest

URL = "/api/v1/share-requests/"


@pytest.mark.parametrize("who", ["us_auditor", "administrator"])
@pytest.mark.parametrize("body", [
    "case", "hit", "garbage",
])
def test_no_one_but_investigators_opens_a_request(who, body, request, api, us_case, later,
                                                  audit_log):
    payload = {
        "case": {"case": str(us_case.pk), "recipient_country": "MX", "scope": "full",
                 "justification": "j", "expires_at": later().isoformat()},
        "hit": {"hit_id": str(uuid.uuid4()), "scope": "full", "justification": "j",
                "expires_at": later().isoformat()},
        "garbage": {"colour": "red"},
    }[body]
    user = request.getfixturevalue(who)
    response = api(user).post(URL, payload, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "only investigators and liaisons open share requests"}
    assert not ShareRequest.objects.exists()
    [denied] = audit_log(action="access.denied")
    assert denied.actor == user.username and denied.case_id in ("", None)


def test_a_liaison_offers_their_countrys_case_and_cannot_decide_that_offer(
    api, us_case, us_liaison, make_member, later
):
    from sharing import services

    response = api(us_liaison).post(URL, {
        "case": str(us_case.pk), "recipient_country": "MX", "scope": "summary",
        "justification": "Joint operation", "expires_at": later().isoformat()}, format="json")
    assert response.status_code == 201
    offer = ShareRequest.objects.get(pk=response.json()["id"])
    assert (offer.origin, offer.requested_by) == ("offer", us_liaison)
    with pytest.raises(PermissionDenied, match="who did not ask for it"):
        services.share_request_approve(share_request=offer, liaison=us_liaison)
    other = make_member("US", "liaison", username="us.liaison.2")
    assert services.share_request_approve(share_request=offer, liaison=other).status == (
        "approved")


@pytest.mark.parametrize("body", ["case", "hit"])
def test_a_liaison_does_not_ask_for_a_partners_case(body, api, make_case, mx_liaison, later,
                                                    us_case):
    payload = {
        "case": {"case": str(us_case.pk), "recipient_country": "MX", "scope": "full",
                 "justification": "j", "expires_at": later().isoformat()},
        "hit": {"hit_id": str(uuid.uuid4()), "scope": "full", "justification": "j",
                "expires_at": later().isoformat()},
    }[body]
    response = api(mx_liaison).post(URL, payload, format="json")
    assert response.status_code == (404 if body == "case" else 403)
    assert not ShareRequest.objects.exists()
