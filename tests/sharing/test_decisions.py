"""Deciding and revoking: the right liaison, the right state, the union of overlapping shares."""

import pytest

from cases.permissions import SCOPES
from cases.selectors import visible_cases, visible_subjects
from sharing import services
from sharing.models import ShareRequest

URL = "/api/v1/share-requests/"


def post(api, user, share_request, step, note=""):
    return api(user).post(f"{URL}{share_request.pk}/{step}/", {"note": note}, format="json")


@pytest.mark.parametrize("step", ["approve", "deny", "revoke"])
def test_a_country_not_involved_gets_404(step, api, us_case, offer, gt_liaison):
    share_request = offer(us_case, "MX")
    assert post(api, gt_liaison, share_request, step).status_code == 404
    assert api(gt_liaison).get(f"{URL}{share_request.pk}/").status_code == 404


def test_malformed_and_unknown_ids_answer_404(api, us_liaison):
    assert api(us_liaison).post(f"{URL}nope/approve/").status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api(us_liaison).post(f"{URL}{unknown}/approve/").status_code == 404


@pytest.mark.parametrize("step", ["approve", "deny"])
def test_owner_investigator_and_recipient_liaison_cannot_decide(
    step, api, us_case, offer, make_member, mx_liaison
):
    share_request = offer(us_case, "MX")
    other_us_investigator = make_member("US", "investigator")
    assert post(api, other_us_investigator, share_request, step).status_code == 403
    assert post(api, mx_liaison, share_request, step).status_code == 403
    share_request.refresh_from_db()
    assert share_request.status == "pending"


def test_requester_who_is_also_liaison_cannot_decide_own_request(
    api, us_case, offer, us_requester
):
    share_request = offer(us_case, "MX", by=us_requester)
    response = post(api, us_requester, share_request, "approve")
    assert response.status_code == 403
    assert "did not ask" in response.data["detail"]


def test_deny_keeps_history_and_grants_nothing(api, us_case, offer, us_liaison, group_perms):
    share_request = offer(us_case, "MX")
    response = post(api, us_liaison, share_request, "deny", "not enough grounds")
    assert response.status_code == 200
    assert response.data["status"] == "denied"
    assert response.data["decision_note"] == "not enough grounds"
    assert group_perms(us_case, "MX") == set()
    assert ShareRequest.objects.get(pk=share_request.pk).status == "denied"


@pytest.mark.parametrize(
    ("first", "then", "state"),
    [
        ("deny", "approve", "denied"),
        ("approve", "approve", "approved"),
        ("approve", "deny", "approved"),
    ],
)
def test_deciding_twice_answers_409_naming_the_state(
    first, then, state, api, us_case, offer, us_liaison, audit_log
):
    share_request = offer(us_case, "MX")
    assert post(api, us_liaison, share_request, first).status_code == 200
    response = post(api, us_liaison, share_request, then)
    assert response.status_code == 409
    assert f"is {state}" in response.data["detail"]
    assert response.data["status"] == state
    [refusal] = audit_log(action=f"share.{then}", outcome="failure")
    assert refusal.case_id == str(us_case.pk)


def test_approving_a_revoked_request_answers_409(api, us_case, shared, us_liaison, group_perms):
    share_request = shared(us_case, "MX")
    assert post(api, us_liaison, share_request, "revoke").status_code == 200
    response = post(api, us_liaison, share_request, "approve")
    assert response.status_code == 409
    assert "is revoked" in response.data["detail"]
    assert group_perms(us_case, "MX") == set()


def test_only_approved_shares_can_be_revoked(api, us_case, offer, us_liaison):
    share_request = offer(us_case, "MX")
    response = post(api, us_liaison, share_request, "revoke")
    assert response.status_code == 409
    assert "is pending" in response.data["detail"]


def test_recipient_liaison_cannot_revoke(api, us_case, shared, mx_liaison, group_perms):
    share_request = shared(us_case, "MX")
    assert post(api, mx_liaison, share_request, "revoke").status_code == 403
    assert group_perms(us_case, "MX") == SCOPES["full"]


def test_overlapping_shares_give_the_union_and_revoking_one_leaves_the_other(
    us_case, shared, us_liaison, mx_investigator, subject, group_perms
):
    summary = shared(us_case, "MX", "summary", days=60)
    full = shared(us_case, "MX", "full", days=10, named=[subject(us_case, "victim")])
    assert group_perms(us_case, "MX") == SCOPES["full"]
    assert len(visible_subjects(mx_investigator, us_case)) == 2

    services.share_request_revoke(share_request=full, liaison=us_liaison)
    assert group_perms(us_case, "MX") == SCOPES["summary"]
    assert visible_cases(mx_investigator, "summary").filter(pk=us_case.pk).exists()
    assert not visible_cases(mx_investigator, "full").filter(pk=us_case.pk).exists()
    assert list(visible_subjects(mx_investigator, us_case)) == []

    services.share_request_revoke(share_request=summary, liaison=us_liaison)
    assert group_perms(us_case, "MX") == set()
    statuses = sorted(ShareRequest.objects.values_list("status", flat=True))
    assert statuses == ["revoked", "revoked"]


def test_a_share_to_one_partner_leaves_another_partner_untouched(
    us_case, shared, us_liaison, group_perms
):
    to_mx = shared(us_case, "MX", "full")
    shared(us_case, "GT", "summary")
    services.share_request_revoke(share_request=to_mx, liaison=us_liaison)
    assert group_perms(us_case, "MX") == set()
    assert group_perms(us_case, "GT") == SCOPES["summary"]
    assert "change_case" in group_perms(us_case, "US")


def test_pending_request_past_its_expiry_cannot_be_approved(
    us_case, offer, us_liaison, group_perms
):
    from freezegun import freeze_time

    from core.errors import Conflict

    share_request = offer(us_case, "MX", days=1)
    with freeze_time(share_request.expires_at), pytest.raises(Conflict) as refused:
        services.share_request_approve(share_request=share_request, liaison=us_liaison)
    assert refused.value.status == 409 and refused.value.extra == {"status": "pending"}
    assert group_perms(us_case, "MX") == set()
