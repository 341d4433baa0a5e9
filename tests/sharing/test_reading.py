"""Reading share requests and a case's holdings: who sees which, and what each one shows."""

import pytest

from sharing import services
from sharing.models import ShareRequest

URL = "/api/v1/share-requests/"


def ids(response):
    return {r["id"] for r in response.data["results"]}


def test_each_country_lists_the_requests_that_involve_it(
    api, us_case, make_case, offer, shared, us_liaison, mx_investigator, gt_investigator,
    audit_log,
):
    to_mx = offer(us_case, "MX")
    to_gt = shared(us_case, "GT", "summary")
    mx_case = make_case("MX")
    mx_to_us = offer(mx_case, "US", by=mx_investigator)

    us = api(us_liaison).get(URL)
    assert us.status_code == 200
    assert set(us.data) >= {"results", "next", "previous", "count"}
    assert ids(us) == {str(to_mx.pk), str(to_gt.pk), str(mx_to_us.pk)}
    assert ids(api(mx_investigator).get(URL)) == {str(to_mx.pk), str(mx_to_us.pk)}
    assert ids(api(gt_investigator).get(URL)) == {str(to_gt.pk)}
    assert audit_log(action="share.list", actor=us_liaison.username)


def test_list_filters_by_status_and_case(api, us_case, make_case, offer, shared, us_liaison):
    pending = offer(us_case, "MX")
    approved = shared(make_case("US"), "GT", "summary")
    client = api(us_liaison)
    assert ids(client.get(URL, {"status": "pending"})) == {str(pending.pk)}
    assert ids(client.get(URL, {"status": "approved"})) == {str(approved.pk)}
    assert ids(client.get(URL, {"case": str(us_case.pk)})) == {str(pending.pk)}
    assert client.get(URL, {"status": "bogus"}).status_code == 400


@pytest.mark.parametrize("persona", ["us_auditor", "administrator"])
def test_auditors_and_administrators_do_not_use_share_requests(persona, request, api, us_case,
                                                               offer):
    share_request = offer(us_case, "MX")
    member = request.getfixturevalue(persona)
    assert api(member).get(URL).status_code == 403
    assert api(member).get(f"{URL}{share_request.pk}/").status_code == 403


def test_handling_code_and_h3_note_travel_with_the_request(
    api, make_case, offer, us_liaison, mx_liaison, make_member
):
    case = make_case("US", handling_code="H3", handling_note="Not to be shown to consulates")
    share_request = offer(case, "MX")
    # The recipient of an offer learns which case it is once the share is approved.
    before = api(mx_liaison).get(f"{URL}{share_request.pk}/").data
    assert [before[f] for f in ("case", "case_reference", "handling_code", "handling_note",
                                "justification")] == [None] * 5
    assert before["owner_country"] == "US"
    us_liaison2 = make_member("US", "liaison", username="us.liaison.second")
    for liaison in (us_liaison, us_liaison2):  # H3 asks two by default
        services.share_request_approve(share_request=share_request, liaison=liaison)
    for member in (us_liaison, mx_liaison):
        data = api(member).get(f"{URL}{share_request.pk}/").data
        assert data["case"] == str(case.pk)
        assert data["case_reference"] == case.reference
        assert data["handling_code"] == "H3"
        assert data["handling_note"] == "Not to be shown to consulates"
        assert data["owner_country"] == "US"
        assert "title" not in data and "summary" not in data


def test_a_request_from_a_lookup_hit_names_the_case_only_to_the_owner_until_approved(
    api, us_case, gt_investigator, us_liaison, later
):
    share_request = services.share_request_open(
        requester=gt_investigator, case=us_case, recipient_country=None, scope="summary",
        justification="Passport hit", expires_at=later(5), from_hit=True,
    )
    partner = api(gt_investigator).get(f"{URL}{share_request.pk}/")
    assert partner.status_code == 200
    for field in ("case", "case_reference", "handling_code", "handling_note"):
        assert partner.data[field] is None
    raw = partner.content.decode()
    assert str(us_case.pk) not in raw and us_case.reference not in raw
    # Filtering by the case id confirms nothing either.
    assert ids(api(gt_investigator).get(URL, {"case": str(us_case.pk)})) == set()

    owner = api(us_liaison).get(f"{URL}{share_request.pk}/")
    assert owner.data["case_reference"] == us_case.reference

    services.share_request_approve(share_request=share_request, liaison=us_liaison)
    partner = api(gt_investigator).get(f"{URL}{share_request.pk}/")
    assert partner.data["case_reference"] == us_case.reference


def test_a_denied_hit_request_never_names_the_case_to_the_partner(
    api, us_case, gt_investigator, us_liaison, later
):
    share_request = services.share_request_open(
        requester=gt_investigator, case=us_case, recipient_country=None, scope="summary",
        justification="Passport hit", expires_at=later(5), from_hit=True,
    )
    services.share_request_deny(share_request=share_request, liaison=us_liaison)
    raw = api(gt_investigator).get(URL).content.decode()
    assert us_case.reference not in raw and str(us_case.pk) not in raw


def test_owner_sees_who_holds_the_case_until_when(
    api, us_case, offer, shared, us_investigator, us_liaison, audit_log
):
    summary = shared(us_case, "MX", "summary", days=40)
    full = shared(us_case, "MX", "full", days=10)
    revoked = shared(us_case, "GT", "summary")
    services.share_request_revoke(share_request=revoked, liaison=us_liaison)
    offer(us_case, "GT")  # pending: holds nothing (one pending request per recipient)

    response = api(us_investigator).get(f"/api/v1/cases/{us_case.pk}/shares/")
    assert response.status_code == 200
    rows = [(r["id"], r["recipient_country"], r["scope"]) for r in response.data["results"]]
    assert rows == [(str(full.pk), "MX", "full"), (str(summary.pk), "MX", "summary")]
    assert response.data["results"][0]["expires_at"]
    assert audit_log(action="share.list", case_id=str(us_case.pk))


def test_case_holdings_are_the_owners_business(
    api, us_case, shared, mx_investigator, gt_investigator
):
    shared(us_case, "MX", "summary")
    assert api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/shares/").status_code == 403
    assert api(gt_investigator).get(f"/api/v1/cases/{us_case.pk}/shares/").status_code == 404
    assert api(gt_investigator).get("/api/v1/cases/nope/shares/").status_code == 404


def test_schema_describes_the_share_endpoints(api, us_investigator):
    response = api(us_investigator).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/share-requests/{id}/approve/" in paths
    assert "/api/v1/cases/{case_id}/shares/" in paths


def test_history_is_kept(us_case, offer, shared, us_liaison):
    denied = offer(us_case, "MX")
    services.share_request_deny(share_request=denied, liaison=us_liaison, note="no")
    revoked = shared(us_case, "MX", "summary")
    services.share_request_revoke(share_request=revoked, liaison=us_liaison, note="over")
    rows = {r.pk: r for r in ShareRequest.objects.all()}
    assert rows[denied.pk].status == "denied" and rows[denied.pk].decision_note == "no"
    assert rows[revoked.pk].status == "revoked" and rows[revoked.pk].revoked_by == us_liaison
    assert rows[revoked.pk].decided_by == us_liaison and rows[revoked.pk].revocation_note == "over"
