"""The two-person rule: how many liaisons approve, recorded at open, the stricter applies."""

import pytest
from django.db import IntegrityError, transaction

from cases.permissions import SCOPES
from cases.selectors import CaseNotFound, get_case_for
from cases.services import case_update
from sharing import services
from sharing.models import SharePolicy, ShareRequest
from sharing.policy import approvals_required, share_policy_update
from workinggroup.models import Country

URL = "/api/v1/share-requests/"


def post(api, user, share_request, step, note=""):
    return api(user).post(f"{URL}{share_request.pk}/{step}/", {"note": note}, format="json")


@pytest.fixture
def us_liaison2(make_member):
    return make_member("US", "liaison", username="us.liaison2")


@pytest.fixture
def h2_case(make_case):
    return make_case("US", handling_code="H2")


@pytest.mark.parametrize(("code", "needed"), [("H0", 1), ("H1", 1), ("H2", 2), ("H3", 2)])
def test_the_default_policy_is_one_approval_for_h0_h1_and_two_for_h2_h3(db, code, needed):
    assert approvals_required("US", code) == needed


def test_an_h2_case_approved_by_one_liaison_stays_invisible_to_the_partner(
    api, h2_case, offer, us_liaison, us_liaison2, mx_investigator, group_perms, audit_log
):
    share_request = offer(h2_case, "MX")
    assert (share_request.approvals_required, share_request.handling_code_at_open) == (2, "H2")
    response = post(api, us_liaison, share_request, "approve", "grounds are clear")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["approvals_given"], body["approvals_needed"]) == (
        "awaiting_second_approval", 1, 2)
    assert [(a["liaison"], a["note"]) for a in body["approvals"]] == [
        ("us.liaison", "grounds are clear")]
    assert body["decided_by"] is None and body["active"] is False
    # The partner: nothing granted, the case answers 404 through the gate and the API.
    assert group_perms(h2_case, "MX") == set()
    with pytest.raises(CaseNotFound):
        get_case_for(mx_investigator, h2_case.pk, "summary")
    assert api(mx_investigator).get(f"/api/v1/cases/{h2_case.pk}/").status_code == 404
    # The partner never learns who approved, nor (an offer not yet approved: the case is not
    # named to it) that a first approval came, which would tell the case's code.
    seen = api(mx_investigator).get(f"{URL}{share_request.pk}/").json()
    assert (seen["status"], seen["approvals"], seen["approvals_given"], seen["case"]) == (
        "pending", None, None, None)
    assert "us.liaison" not in str(seen)

    response = post(api, us_liaison2, share_request, "approve")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"] == "us.liaison2"
    assert [a["liaison"] for a in response.json()["approvals"]] == ["us.liaison", "us.liaison2"]
    assert group_perms(h2_case, "MX") == SCOPES["full"]
    assert api(mx_investigator).get(f"/api/v1/cases/{h2_case.pk}/").status_code == 200
    assert [e.details["approval"] for e in audit_log(action="share.approve")] == [
        "1 of 2", "2 of 2"]
    assert "grants" not in audit_log(action="share.approve")[0].details


def test_one_approval_suffices_under_h0_and_is_audited_as_1_of_1(
    api, us_case, offer, us_liaison, audit_log
):
    share_request = offer(us_case, "MX")
    assert post(api, us_liaison, share_request, "approve").json()["status"] == "approved"
    [entry] = audit_log(action="share.approve")
    assert entry.details["approval"] == "1 of 1"


def test_the_same_liaison_approving_twice_is_refused_with_403_and_the_reason(
    api, h2_case, offer, us_liaison, audit_log
):
    share_request = offer(h2_case, "MX")
    assert post(api, us_liaison, share_request, "approve").status_code == 200
    response = post(api, us_liaison, share_request, "approve")
    assert response.status_code == 403
    assert "you already approved this request" in response.json()["detail"]
    share_request.refresh_from_db()
    assert share_request.status == "awaiting_second_approval"
    assert share_request.approvals.count() == 1
    [refusal] = audit_log(action="share.approve", outcome="denied")
    assert "already approved" in refusal.details["reason"]
    assert refusal.case_id == str(h2_case.pk)


def test_the_requester_is_never_an_approver_even_holding_the_liaison_role(
    api, h2_case, offer, us_requester, us_liaison, us_liaison2, group_perms
):
    share_request = offer(h2_case, "MX", by=us_requester)
    response = post(api, us_requester, share_request, "approve")
    assert response.status_code == 403
    assert "who did not ask for it" in response.json()["detail"]
    assert post(api, us_liaison, share_request, "approve").status_code == 200
    # Still not, once another liaison approved: the second approval is someone else's.
    assert post(api, us_requester, share_request, "approve").status_code == 403
    share_request.refresh_from_db()
    assert share_request.status == "awaiting_second_approval"
    assert list(share_request.approvals.values_list("liaison__username", flat=True)) == [
        "us.liaison"]
    assert group_perms(h2_case, "MX") == set()
    assert post(api, us_liaison2, share_request, "approve").json()["status"] == "approved"


def test_a_denial_after_one_approval_ends_it(
    api, h2_case, offer, us_liaison, us_liaison2, group_perms, audit_log
):
    share_request = offer(h2_case, "MX")
    post(api, us_liaison, share_request, "approve")
    response = post(api, us_liaison2, share_request, "deny", "not this one")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_by"]) == ("denied",
                                                                          "us.liaison2")
    response = post(api, us_liaison2, share_request, "approve")
    assert response.status_code == 409
    assert response.json()["status"] == "denied"
    assert group_perms(h2_case, "MX") == set()
    [denial] = audit_log(action="share.deny", outcome="success")
    assert denial.details["approvals"] == 1


def test_a_liaison_of_another_country_cannot_be_the_second_approver(
    api, h2_case, offer, us_liaison, mx_liaison, gt_liaison
):
    share_request = offer(h2_case, "MX")
    post(api, us_liaison, share_request, "approve")
    assert post(api, mx_liaison, share_request, "approve").status_code == 403
    assert post(api, gt_liaison, share_request, "approve").status_code == 404
    assert ShareRequest.objects.get(pk=share_request.pk).approvals.count() == 1


def test_a_policy_change_after_opening_does_not_change_what_the_request_needs(
    h2_case, make_case, offer, us_liaison, us_liaison2, administrator, group_perms
):
    strict = offer(make_case("US"), "MX")  # H0: one approval, recorded now
    relaxed = offer(h2_case, "MX")  # H2: two, recorded now
    us = Country.objects.get(code="US")
    share_policy_update(actor=administrator, owner_country=us, handling_code="H0",
                        approvals_required=2)
    share_policy_update(actor=administrator, owner_country=us, handling_code="H2",
                        approvals_required=1)
    assert services.share_request_approve(share_request=strict, liaison=us_liaison).status \
        == "approved"
    assert services.share_request_approve(share_request=relaxed, liaison=us_liaison).status \
        == "awaiting_second_approval"
    assert services.share_request_approve(share_request=relaxed, liaison=us_liaison2).status \
        == "approved"
    # A request opened now follows the new policy.
    later_one = offer(make_case("US", handling_code="H2"), "GT")
    assert later_one.approvals_required == 1


def test_a_raised_handling_code_makes_the_stricter_policy_apply(
    make_case, offer, us_investigator, us_liaison, us_liaison2, group_perms
):
    case = make_case("US", handling_code="H1")
    share_request = offer(case, "MX")
    assert share_request.approvals_needed() == 1
    case_update(case=case, actor=us_investigator, handling_code="H3",
                handling_note="Not for the consulates")
    share_request.refresh_from_db()
    assert (share_request.approvals_required, share_request.approvals_needed()) == (1, 2)
    assert services.share_request_approve(share_request=share_request,
                                          liaison=us_liaison).status == \
        "awaiting_second_approval"
    assert group_perms(case, "MX") == set()
    assert services.share_request_approve(share_request=share_request,
                                          liaison=us_liaison2).status == "approved"


def test_a_lowered_handling_code_never_asks_less_than_recorded(
    h2_case, offer, us_investigator, us_liaison
):
    share_request = offer(h2_case, "MX")
    case_update(case=h2_case, actor=us_investigator, handling_code="H0")
    share_request.refresh_from_db()
    assert share_request.approvals_needed() == 2
    assert services.share_request_approve(share_request=share_request,
                                          liaison=us_liaison).status == \
        "awaiting_second_approval"


def test_the_database_refuses_a_policy_below_one_or_above_five(db):
    us = Country.objects.get(code="US")
    for value in (0, 6):
        with pytest.raises(IntegrityError), transaction.atomic():
            SharePolicy.objects.create(owner_country=us, handling_code="H2",
                                       approvals_required=value)


def test_the_database_refuses_a_request_needing_no_approval(us_case, offer):
    share_request = offer(us_case, "MX")
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareRequest.objects.filter(pk=share_request.pk).update(approvals_required=0)


def test_the_policy_service_refuses_zero_and_non_administrators(db, administrator, us_liaison):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(ValidationError, match="at least 1"):
        share_policy_update(actor=administrator, owner_country="US", handling_code="H2",
                            approvals_required=0)
    with pytest.raises(PermissionDenied):
        share_policy_update(actor=us_liaison, owner_country="US", handling_code="H2",
                            approvals_required=1)
    assert not SharePolicy.objects.exists()


def test_the_migration_gives_older_requests_their_code_and_their_one_approval(
    h2_case, offer, shared, us_liaison, us_case
):
    """Requests from before the rule: the case's code as it stands; a decided one needed one
    approval (the policy then) and keeps the approval that decided it as an approval row; an
    undecided one needs the default for its code from now on."""
    import importlib

    from django.apps import apps

    from sharing.models import ShareApproval

    approved = shared(us_case, "MX")
    pending = offer(h2_case, "GT")
    ShareApproval.objects.all().delete()
    ShareRequest.objects.update(handling_code_at_open="H0", approvals_required=1)
    importlib.import_module("sharing.migrations.0006_two_person_rule").backfill(apps, None)
    pending.refresh_from_db()
    # Still undecided when the rule arrives: it needs the rule (two for H2), or one liaison
    # alone could still release an H2 case opened the day before the upgrade.
    assert (pending.handling_code_at_open, pending.approvals_needed()) == ("H2", 2)
    assert pending.approvals.count() == 0
    [approval] = ShareApproval.objects.filter(share_request=approved)
    assert (approval.liaison, approval.approved_at) == (us_liaison, ShareRequest.objects.get(
        pk=approved.pk).decided_at)


@pytest.mark.parametrize("code", ["H0", "H2"])
def test_a_request_from_a_lookup_hit_does_not_tell_the_partner_how_many_approvals_it_needs(
    api, make_case, mx_investigator, us_liaison, code
):
    """approvals_needed follows from the handling code (2 for H2 and H3 by default), which a
    partner asking from a hit must not learn before the request is approved."""
    case = make_case("US", handling_code=code)
    share_request = services.share_request_open(
        requester=mx_investigator, case=case, recipient_country=None, scope="summary",
        justification="Same passport in our case", from_hit=True,
        expires_at=share_request_expiry())
    seen = api(mx_investigator).get(f"{URL}{share_request.pk}/").json()
    assert (seen["handling_code"], seen["approvals_needed"]) == (None, None)
    listed = api(mx_investigator).get(URL).json()["results"]
    assert [(r["handling_code"], r["approvals_needed"]) for r in listed] == [(None, None)]
    # The owner's liaisons see it, as they see the code.
    assert api(us_liaison).get(f"{URL}{share_request.pk}/").json()["approvals_needed"] == (
        2 if code == "H2" else 1)



def test_a_request_from_a_lookup_hit_awaiting_its_second_approval_reads_pending_to_the_partner(
    api, make_case, mx_investigator, us_liaison, us_liaison2
):
    """'Awaiting a second approval' would tell the partner the case's policy asks two, so
    roughly its withheld handling code: the partner reads 'pending', in the rows and in the
    status filter, until the request is decided; the owner reads the state as it is."""
    case = make_case("US", handling_code="H2")
    share_request = services.share_request_open(
        requester=mx_investigator, case=case, recipient_country=None, scope="summary",
        justification="Same passport in our case", from_hit=True,
        expires_at=share_request_expiry())
    services.share_request_approve(share_request=share_request, liaison=us_liaison)
    assert ShareRequest.objects.get(pk=share_request.pk).status == "awaiting_second_approval"

    partner = api(mx_investigator)
    assert partner.get(f"{URL}{share_request.pk}/").json()["status"] == "pending"
    assert [r["status"] for r in partner.get(URL).json()["results"]] == ["pending"]
    assert [r["id"] for r in partner.get(URL, {"status": "pending"}).json()["results"]] == [
        str(share_request.pk)]
    assert partner.get(URL, {"status": "awaiting_second_approval"}).json()["results"] == []
    owner = api(us_liaison)
    assert owner.get(f"{URL}{share_request.pk}/").json()["status"] == "awaiting_second_approval"
    assert owner.get(URL, {"status": "pending"}).json()["results"] == []

    services.share_request_approve(share_request=share_request, liaison=us_liaison2)
    assert partner.get(f"{URL}{share_request.pk}/").json()["status"] == "approved"


def share_request_expiry():
    import datetime as dt

    from django.utils import timezone

    return timezone.now() + dt.timedelta(days=30)
