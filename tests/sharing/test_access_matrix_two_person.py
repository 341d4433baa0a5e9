"""The share-request API's access matrix for issue 18's states and steps: every role of every
country and the administrator, on an H2 request awaiting its second approval and on an
approved share (renewal). Unseen answers 404 like a missing id; refusals change nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from sharing.models import ShareRequest
from tests.cases.test_access_matrix import PEOPLE, role_of

URL = "/api/v1/share-requests/"


@pytest.fixture
def world(make_case, offer, shared, us_liaison):
    from sharing import services

    awaiting = offer(make_case("US", handling_code="H2"), "MX")
    services.share_request_approve(share_request=awaiting, liaison=us_liaison)
    grant = shared(make_case("US"), "MX", days=5)
    return awaiting, grant


def expected(person, step):
    """What the access model says: 403 for roles that read no requests, 404 for the country
    not involved, then who may do what."""
    if role_of(person) in ("auditor", "administrator"):
        return 403
    country, role = person.split("_", 1)
    if country == "gt":
        return 404
    if step == "get":
        return 200
    if step == "renew":
        return 201 if role == "investigator" else 403
    if step == "deny":
        return 200 if person == "us_liaison" else 403
    return 403  # approve: us.liaison already approved; nobody else may


@pytest.mark.parametrize("person", PEOPLE)
def test_the_two_person_steps_for_every_role_and_country(request, api, world, person):
    awaiting, grant = world
    client = api(request.getfixturevalue(person))
    later = (timezone.now() + dt.timedelta(days=40)).isoformat()
    calls = [
        ("get", lambda: client.get(f"{URL}{awaiting.pk}/")),
        ("approve", lambda: client.post(f"{URL}{awaiting.pk}/approve/")),
        ("renew", lambda: client.post(f"{URL}{grant.pk}/renew/", {
            "justification": "still needed", "expires_at": later}, format="json")),
        ("deny", lambda: client.post(f"{URL}{awaiting.pk}/deny/")),
    ]
    for step, call in calls:
        response = call()
        assert response.status_code == expected(person, step), (person, step, response.json())
        if response.status_code == 404:
            assert response.json() == {"detail": "Not found."}
        if step == "get" and response.status_code == 200:
            body = response.json()
            owner = person.startswith("us_")
            if owner:
                assert body["status"] == "awaiting_second_approval"
                assert (body["approvals_needed"], body["approvals_given"]) == (2, 1)
            else:  # the offer is not yet MX's to know: nothing tells the case's code
                assert body["status"] == "pending"
                assert (body["approvals_needed"], body["approvals_given"]) == (None, None)
                assert (body["case"], body["case_reference"], body["justification"]) == (
                    None, None, None)
            assert (body["approvals"] is None) is (not owner)
    awaiting.refresh_from_db()
    want = "denied" if person == "us_liaison" else "awaiting_second_approval"
    assert (awaiting.status, awaiting.approvals.count()) == (want, 1)
    renewals = ShareRequest.objects.filter(renews=grant).count()
    assert renewals == (1 if expected(person, "renew") == 201 else 0)
