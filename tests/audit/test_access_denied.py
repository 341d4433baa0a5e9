"""A refused read of the audit log is itself an event: exactly one access.denied entry."""

from audit.models import AuditEntry, OutboxEvent


def test_a_denied_read_leaves_exactly_one_access_denied_entry(db, api, us_investigator, audit_log):
    response = api(us_investigator).get("/api/v1/audit/entries/", {"actor": "someone"})

    assert response.status_code == 403
    assert OutboxEvent.objects.count() + AuditEntry.objects.count() == 1
    [entry] = audit_log()
    assert (entry.action, entry.actor, entry.actor_country, entry.outcome) == (
        "access.denied",
        "us.investigator",
        "US",
        "denied",
    )
    assert entry.details == {
        "method": "GET",
        "path": "/api/v1/audit/entries/",
        "status": 403,
        "reason": "Only auditors may read the audit log.",
    }


def test_each_audit_endpoint_refuses_a_liaison_once(db, api, mx_liaison, audit_log):
    for path in ("entries", "export", "verify", "checkpoints"):
        assert api(mx_liaison).get(f"/api/v1/audit/{path}/").status_code == 403

    entries = audit_log()
    assert [(e.action, e.details["path"]) for e in entries] == [
        ("access.denied", f"/api/v1/audit/{path}/")
        for path in ("entries", "export", "verify", "checkpoints")
    ]


def test_a_refusal_on_a_case_the_caller_sees_names_the_case_for_its_owner(
    db, api, make_case, us_investigator, audit_log, gt_auditor
):
    from cases import permissions

    case = make_case("GT")
    permissions.set_country_grants(case, "US", permissions.SCOPES["summary"])

    response = api(us_investigator).patch(f"/api/v1/cases/{case.pk}/", {"title": "x"},
                                          format="json")

    assert response.status_code == 403
    [entry] = audit_log(action="access.denied")
    assert (entry.actor_country, entry.case_id, entry.case_country) == ("US", str(case.pk), "GT")
    listed = api(gt_auditor).get("/api/v1/audit/entries/", {"action": "access.denied"}).json()
    assert [e["case_id"] for e in listed["results"]] == [str(case.pk)]


def test_a_refusal_on_an_unseen_case_names_no_case(db, api, make_case, us_investigator,
                                                   audit_log):
    case = make_case("GT")

    response = api(us_investigator).get(f"/api/v1/cases/{case.pk}/")

    assert response.status_code == 404
    [entry] = audit_log(action="access.denied")
    assert (entry.case_id, entry.case_country) == ("", "")
