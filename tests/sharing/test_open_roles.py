"""Only investigators open share requests: every other role is refused 403 before its body,
its case or its lookup hit is looked at, so the answer says nothing about any of them."""

import uuid

import pytest

from sharing.models import ShareRequest

URL = "/api/v1/share-requests/"


@pytest.mark.parametrize("who", ["us_liaison", "us_auditor", "administrator"])
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
    assert response.json() == {"detail": "only investigators open share requests"}
    assert not ShareRequest.objects.exists()
    [denied] = audit_log(action="access.denied")
    assert denied.actor == user.username and denied.case_id in ("", None)
