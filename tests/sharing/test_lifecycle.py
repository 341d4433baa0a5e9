"""The whole life of a share, as the working group lives it, through the API.

The case endpoints are not on this branch yet, so reads go through the case selectors (the
one gate the case API will use): get_case_for, visible_cases, visible_subjects.
"""

import pytest
from guardian.core import ObjectPermissionChecker

from cases.permissions import SCOPES
from cases.selectors import CaseNotFound, get_case_for, visible_cases, visible_subjects
from sharing.models import ShareRequest

URL = "/api/v1/share-requests/"


def names(subjects):
    return sorted(s.full_name for s in subjects)


def can_read(user, case, scope):
    return visible_cases(user, scope).filter(pk=case.pk).exists()


def test_the_life_of_a_share(
    api, us_case, us_requester, us_liaison, mx_investigator, mx_liaison, gt_investigator,
    subject, group_perms, later, audit_log,
):
    case = us_case
    victim = subject(case, "victim")

    # A US member (investigator and liaison) offers the case to Mexico, naming the victim.
    response = api(us_requester).post(URL, {
        "case": str(case.pk), "recipient_country": "MX", "scope": "full",
        "justification": "Same recruiter seen in Tapachula", "expires_at": later(30).isoformat(),
        "named_subjects": [str(victim.pk)],
    }, format="json")
    assert response.status_code == 201, response.data
    share_id = response.data["id"]
    assert response.data["status"] == "pending"
    assert response.data["origin"] == "offer"
    assert response.data["case_reference"] == case.reference

    # Pending grants nothing.
    assert group_perms(case, "MX") == set()
    assert not can_read(mx_investigator, case, "summary")
    with pytest.raises(CaseNotFound):
        get_case_for(mx_investigator, case.pk, "summary")

    # Neither the requester nor the recipient's liaison can approve.
    assert api(us_requester).post(f"{URL}{share_id}/approve/").status_code == 403
    assert api(mx_liaison).post(f"{URL}{share_id}/approve/").status_code == 403
    # A third country does not even see the request.
    assert api(gt_investigator).get(f"{URL}{share_id}/").status_code == 404
    assert group_perms(case, "MX") == set()

    # A US liaison who did not ask approves it.
    response = api(us_liaison).post(f"{URL}{share_id}/approve/", {"note": "ok"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "approved"
    assert response.data["decided_by"] == us_liaison.username
    assert group_perms(case, "MX") == SCOPES["full"]

    # Mexico reads exactly its scope: summary and full, not files; the named victim, not the
    # unnamed witness.
    assert get_case_for(mx_investigator, case.pk, "full") == case
    assert not can_read(mx_investigator, case, "full_with_files")
    assert names(visible_subjects(mx_investigator, case)) == [
        "Ana Lucia Choc Tzul", "Rigoberto Salazar Cruz",
    ]
    assert not can_read(gt_investigator, case, "summary")

    # Mexico can neither edit nor pass the case on.
    checker = ObjectPermissionChecker(mx_investigator)
    assert not checker.has_perm("change_case", case)
    assert not checker.has_perm("share_case", case)
    response = api(mx_investigator).post(URL, {
        "case": str(case.pk), "recipient_country": "GT", "scope": "summary",
        "justification": "Pass it on", "expires_at": later(5).isoformat(),
    }, format="json")
    assert response.status_code == 403
    assert not ShareRequest.objects.filter(recipient_country="GT").exists()

    # The owner revokes: nothing is left.
    response = api(us_liaison).post(f"{URL}{share_id}/revoke/", {"note": "done"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "revoked"
    assert group_perms(case, "MX") == set()
    assert not can_read(mx_investigator, case, "summary")
    assert list(visible_subjects(mx_investigator, case)) == []

    # Every step is in the audit log with actor, case and outcome.
    steps = [
        (e.action, e.actor, e.outcome)
        for e in audit_log(case_id=str(case.pk), action__startswith="share.")
        if e.action != "share.list"
    ]
    assert steps == [
        ("share.open", us_requester.username, "success"),
        ("share.approve", us_requester.username, "denied"),
        ("share.approve", mx_liaison.username, "denied"),
        ("share.approve", us_liaison.username, "success"),
        ("share.open", mx_investigator.username, "denied"),
        ("share.revoke", us_liaison.username, "success"),
    ]
    for entry in audit_log(case_id=str(case.pk), action__startswith="share."):
        assert entry.case_country == "US"
    denied_http = audit_log(action="access.denied", actor=gt_investigator.username)
    assert [e.details["status"] for e in denied_http] == [404]


@pytest.mark.parametrize(
    ("scope", "reads", "sees_subjects"),
    [
        ("summary", {"summary"}, False),
        ("full", {"summary", "full"}, True),
        ("full_with_files", {"summary", "full", "full_with_files"}, True),
    ],
)
def test_recipient_reads_exactly_its_scope(
    scope, reads, sees_subjects, us_case, shared, mx_investigator, group_perms
):
    shared(us_case, "MX", scope)
    assert group_perms(us_case, "MX") == SCOPES[scope]
    for each in ("summary", "full", "full_with_files"):
        assert can_read(mx_investigator, us_case, each) is (each in reads), each
    expected = ["Rigoberto Salazar Cruz"] if sees_subjects else []
    assert names(visible_subjects(mx_investigator, us_case)) == expected


def test_protected_subjects_travel_only_when_named(
    us_case, shared, subject, mx_investigator, gt_investigator
):
    witness = subject(us_case, "witness")
    shared(us_case, "MX", "full", named=[witness])
    shared(us_case, "GT", "full")
    assert names(visible_subjects(mx_investigator, us_case)) == [
        "Mateo Pop Caal", "Rigoberto Salazar Cruz",
    ]
    assert names(visible_subjects(gt_investigator, us_case)) == ["Rigoberto Salazar Cruz"]


def test_owner_sees_every_subject_and_keeps_everything(us_case, us_investigator, group_perms):
    assert len(visible_subjects(us_investigator, us_case)) == 3
    assert "change_case" in group_perms(us_case, "US")
    assert "share_case" in group_perms(us_case, "US")
