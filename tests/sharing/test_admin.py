"""The admin shows share metadata only, read-only."""



def test_admin_lists_share_metadata_without_content(administrator, us_case, offer, web):
    share_request = offer(us_case, "MX")
    client = web(administrator)
    listing = client.get("/admin/sharing/sharerequest/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert us_case.reference in page
    assert us_case.title not in page and share_request.justification not in page
    detail = client.get(f"/admin/sharing/sharerequest/{share_request.pk}/change/")
    assert detail.status_code == 200
    assert share_request.justification not in detail.content.decode()
    assert client.post(f"/admin/sharing/sharerequest/{share_request.pk}/delete/").status_code \
        == 403



def test_the_approval_policy_is_set_in_the_admin_never_below_one_and_audited(
    administrator, web, audit_log, api, us_auditor, mx_auditor
):
    from sharing.models import SharePolicy
    from sharing.policy import approvals_required

    client = web(administrator)
    form = {"owner_country": "US", "handling_code": "H2", "approvals_required": "0"}
    refused = client.post("/admin/sharing/sharepolicy/add/", form)
    assert refused.status_code == 200  # the form again, with its error
    assert "at least 1" in refused.content.decode()
    assert not SharePolicy.objects.exists()
    assert audit_log(action="share.policy_update") == []

    response = client.post("/admin/sharing/sharepolicy/add/", {**form, "approvals_required": "3"})
    assert response.status_code == 302
    policy = SharePolicy.objects.get()
    assert approvals_required("US", "H2") == 3
    response = client.post(f"/admin/sharing/sharepolicy/{policy.pk}/change/",
                           {"approvals_required": "1"})
    assert response.status_code == 302
    assert approvals_required("US", "H2") == 1
    entries = audit_log(action="share.policy_update")
    assert [(e.actor, e.details["approvals_required"], e.details["previous"]) for e in entries] \
        == [("administrator", 3, 2), ("administrator", 1, 3)]
    assert {e.details["owner_country"] for e in entries} == {"US"}
    # Read by the country's own auditors, not by its partners'.
    def read(auditor):
        body = api(auditor).get("/api/v1/audit/entries/",
                                {"action": "share.policy_update"}).json()
        return len(body["results"])

    assert (read(us_auditor), read(mx_auditor)) == (2, 0)
    assert client.post(f"/admin/sharing/sharepolicy/{policy.pk}/delete/").status_code == 403
