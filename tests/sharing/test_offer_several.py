"""An offer to several partners in one call: one independent request each, all or nothing,
and no recipient ever learns of the other."""

import json

import pytest

from cases.permissions import SCOPES
from sharing import centre, services
from sharing.models import Notification, ShareRequest

URL = "/api/v1/share-requests/"


@pytest.fixture
def offer_both(api, us_investigator, later):
    """offer_both(case, countries=("MX", "GT")) -> the API's answer to one offer."""

    def post(case, countries=("MX", "GT"), **more):
        return api(us_investigator).post(URL, {
            "case": str(case.pk), "recipient_countries": list(countries), "scope": "full",
            "justification": "Same recruiter on both borders",
            "expires_at": later(30).isoformat(), **more,
        }, format="json")

    return post


def test_an_offer_to_mx_and_gt_opens_two_independent_requests(
    us_case, offer_both, audit_log
):
    response = offer_both(us_case)
    assert response.status_code == 201, response.json()
    results = response.json()["results"]
    assert sorted(r["recipient_country"] for r in results) == ["GT", "MX"]
    assert {r["status"] for r in results} == {"pending"}
    assert len({r["id"] for r in results}) == 2
    rows = ShareRequest.objects.filter(case=us_case)
    assert sorted(rows.values_list("recipient_country", flat=True)) == ["GT", "MX"]
    opened = audit_log(action="share.open", outcome="success")
    assert sorted(e.details["recipient_country"] for e in opened) == ["GT", "MX"]
    assert sorted(e.target_id for e in opened) == sorted(r["id"] for r in results)


def test_a_pending_request_to_one_recipient_refuses_the_whole_offer(
    us_case, offer, offer_both, audit_log
):
    waiting = offer(us_case, "GT")
    response = offer_both(us_case)
    assert response.status_code == 409
    assert "already pending" in response.json()["detail"]
    # Nothing opened for MX either: the offer is all or nothing.
    assert list(ShareRequest.objects.filter(case=us_case)) == [waiting]
    assert [e.details["recipient_country"] for e in audit_log(action="share.open",
                                                              outcome="success")] == ["GT"]
    [refusal] = audit_log(action="share.open", outcome="failure")
    assert refusal.case_id == str(us_case.pk)


@pytest.mark.parametrize(("countries", "field"), [
    ([], "recipient_countries"),
    (["MX", "mx"], "recipient_countries"),
    (["MX", "ZZ"], "recipient_countries"),
    (["MX", "US"], "recipient_country"),  # the case's own country
])
def test_a_bad_list_opens_nothing(us_case, offer_both, countries, field):
    response = offer_both(us_case, countries)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ShareRequest.objects.filter(case=us_case).exists()


def test_recipient_countries_goes_with_neither_recipient_country_nor_hit_id(
    us_case, offer_both
):
    response = offer_both(us_case, recipient_country="MX")
    assert response.status_code == 400
    assert "recipient_countries" in response.json()["errors"]


def test_a_partner_cannot_offer_a_case_to_others(
    api, us_case, shared, mx_investigator, later
):
    shared(us_case, "MX")
    response = api(mx_investigator).post(URL, {
        "case": str(us_case.pk), "recipient_countries": ["MX", "GT"], "scope": "summary",
        "justification": "pass it on", "expires_at": later(10).isoformat()}, format="json")
    assert response.status_code == 403
    assert not ShareRequest.objects.filter(case=us_case, recipient_country="GT").exists()


def test_revoking_mx_leaves_gt_and_neither_learns_of_the_other(
    api, us_case, offer_both, us_liaison, group_perms, mx_investigator, mx_liaison,
    gt_investigator, gt_liaison, mx_auditor, gt_auditor, web, drain
):
    results = offer_both(us_case).json()["results"]
    ids = {r["recipient_country"]: r["id"] for r in results}
    for share_id in ids.values():
        response = api(us_liaison).post(f"{URL}{share_id}/approve/")
        assert response.json()["status"] == "approved"
    assert group_perms(us_case, "MX") == group_perms(us_case, "GT") == SCOPES["full"]

    response = api(us_liaison).post(f"{URL}{ids['MX']}/revoke/", {"note": "done"},
                                    format="json")
    assert response.json()["status"] == "revoked"
    assert group_perms(us_case, "MX") == set()
    assert group_perms(us_case, "GT") == SCOPES["full"]
    assert api(gt_investigator).get(f"/api/v1/cases/{us_case.pk}/").status_code == 200
    assert api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/").status_code == 404
    centre.notify_expiring(at=ShareRequest.objects.get(pk=ids["GT"]).expires_at
                           - __import__("datetime").timedelta(days=6))
    drain()

    for mine, other, people in (("MX", "GT", (mx_investigator, mx_liaison)),
                                ("GT", "MX", (gt_investigator, gt_liaison))):
        for member in people:
            client = api(member)
            listed = client.get(URL).json()
            assert [r["id"] for r in listed["results"]] == [ids[mine]]
            reads = [json.dumps(listed), json.dumps(client.get(f"{URL}{ids[mine]}/").json()),
                     json.dumps(client.get(f"/api/v1/cases/{us_case.pk}/").json())]
            assert client.get(f"{URL}{ids[other]}/").status_code == 404
            mine_notes = Notification.objects.filter(member=member)
            assert {n.share_request_id for n in mine_notes if n.share_request_id} <= {
                ShareRequest.objects.get(pk=ids[mine]).pk}
            reads.append(web(member).get("/notifications/").content.decode())
            for text in reads:
                assert ids[other] not in text
                assert f'"{other}"' not in text and f"({other})" not in text
    for auditor, other in ((mx_auditor, "GT"), (gt_auditor, "MX")):
        entries = api(auditor).get("/api/v1/audit/entries/", {"page_size": 1000}).json()
        text = json.dumps(entries["results"])
        assert entries["results"], "the auditor reads its country's entries"
        assert ids[other] not in text
        assert f'"recipient_country": "{other}"' not in text


def test_the_service_is_all_or_nothing_too(us_case, offer, us_investigator, later):
    from core.errors import Conflict
    from workinggroup.models import Country

    offer(us_case, "MX")
    with pytest.raises(Conflict):
        services.share_requests_offer(
            requester=us_investigator, case=us_case,
            recipient_countries=list(Country.objects.filter(code__in=["GT", "MX"])),
            scope="summary", justification="both", expires_at=later(10))
    assert ShareRequest.objects.filter(case=us_case).count() == 1
