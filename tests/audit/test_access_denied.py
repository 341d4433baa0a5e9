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
