"""Renewal before expiry: approved, access never lapses; denied or undecided, it ends at the
old expiry; revoking the share cancels a pending renewal. And the 7-day warning."""

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from cases.permissions import SCOPES
from cases.selectors import CaseNotFound, get_case_for
from sharing import centre, services, tasks
from sharing.models import Notification, ShareRequest

URL = "/api/v1/share-requests/"


@pytest.fixture
def us_liaison2(make_member):
    return make_member("US", "liaison", username="us.liaison2")


def renew(api, user, grant, days=60, justification="The ring is still active"):
    return api(user).post(f"{URL}{grant.pk}/renew/", {
        "justification": justification,
        "expires_at": (timezone.now() + dt.timedelta(days=days)).isoformat()}, format="json")


def test_a_renewal_approved_before_expiry_keeps_access_at_the_old_expiry(
    api, us_case, shared, us_liaison, mx_investigator, group_perms, subject, audit_log
):
    grant = shared(us_case, "MX", "full", days=2, named=[subject(us_case, "victim")])
    response = renew(api, mx_investigator, grant)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["renews"], body["status"], body["scope"], body["recipient_country"]) == (
        str(grant.pk), "pending", "full", "MX")
    assert body["named_subjects"] == [str(subject(us_case, "victim").pk)]
    renewal = ShareRequest.objects.get(pk=body["id"])
    assert renewal.origin == grant.origin and renewal.requested_by == mx_investigator
    [opened] = audit_log(action="share.renew")
    assert opened.details["renews"] == str(grant.pk)

    assert api(us_liaison).post(f"{URL}{renewal.pk}/approve/").json()["status"] == "approved"
    # The instant the old share ends, with the expiry task run at that very instant.
    with freeze_time(grant.expires_at):
        assert tasks.expire_due() == 1
        grant.refresh_from_db()
        assert grant.status == "expired"
        assert get_case_for(mx_investigator, us_case.pk, "full") == us_case
        assert group_perms(us_case, "MX") == SCOPES["full"]
        assert api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/").status_code == 200
    # And just before it, both were active: no instant without a share.
    with freeze_time(grant.expires_at - dt.timedelta(microseconds=1)):
        assert get_case_for(mx_investigator, us_case.pk, "full") == us_case


def test_a_denied_renewal_lets_access_end_at_the_old_expiry(
    api, us_case, shared, us_liaison, mx_investigator, group_perms
):
    grant = shared(us_case, "MX", "full", days=2)
    renewal = ShareRequest.objects.get(pk=renew(api, mx_investigator, grant).json()["id"])
    assert api(us_liaison).post(f"{URL}{renewal.pk}/deny/").json()["status"] == "denied"
    with freeze_time(grant.expires_at - dt.timedelta(microseconds=1)):
        assert get_case_for(mx_investigator, us_case.pk, "full") == us_case
    with freeze_time(grant.expires_at):
        with pytest.raises(CaseNotFound):
            get_case_for(mx_investigator, us_case.pk, "summary")
        assert tasks.expire_due() == 1
    assert group_perms(us_case, "MX") == set()


def test_an_undecided_renewal_lets_access_end_at_the_old_expiry(
    api, us_case, shared, mx_investigator, group_perms
):
    grant = shared(us_case, "MX", "full", days=2)
    assert renew(api, mx_investigator, grant).status_code == 201
    with freeze_time(grant.expires_at):
        assert tasks.expire_due() == 1
        with pytest.raises(CaseNotFound):
            get_case_for(mx_investigator, us_case.pk, "summary")
    assert group_perms(us_case, "MX") == set()


def test_revoking_the_share_cancels_its_pending_renewal(
    api, us_case, shared, us_liaison, mx_investigator, group_perms, audit_log
):
    grant = shared(us_case, "MX", "full", days=5)
    renewal_id = renew(api, mx_investigator, grant).json()["id"]
    assert api(us_liaison).post(f"{URL}{grant.pk}/revoke/").json()["status"] == "revoked"
    renewal = ShareRequest.objects.get(pk=renewal_id)
    assert renewal.status == "cancelled" and renewal.decided_at is not None
    assert api(us_liaison).post(f"{URL}{renewal_id}/approve/").status_code == 409
    assert group_perms(us_case, "MX") == set()
    [cancel] = audit_log(action="share.cancel")
    assert (cancel.target_id, cancel.actor, cancel.details["revoked"]) == (
        renewal_id, "us.liaison", str(grant.pk))
    assert Notification.objects.filter(member=mx_investigator, share_request=renewal,
                                       kind="decided").count() == 1
    seen = api(mx_investigator).get(f"{URL}{renewal_id}/").json()
    assert seen["status"] == "cancelled"


def test_revoking_a_renewed_share_ends_the_renewal_too(
    api, us_case, shared, us_liaison, mx_investigator, group_perms, audit_log
):
    grant = shared(us_case, "MX", "full", days=5)
    renewal_id = renew(api, mx_investigator, grant).json()["id"]
    api(us_liaison).post(f"{URL}{renewal_id}/approve/")
    assert api(us_liaison).post(f"{URL}{grant.pk}/revoke/").status_code == 200
    assert ShareRequest.objects.get(pk=renewal_id).status == "revoked"
    assert group_perms(us_case, "MX") == set()
    assert sorted(e.target_id for e in audit_log(action="share.revoke")) == sorted(
        [str(grant.pk), renewal_id])


def test_a_renewal_follows_the_same_approval_policy(
    api, make_case, shared, us_liaison, us_liaison2, mx_investigator, offer
):
    case = make_case("US", handling_code="H2")
    grant = offer(case, "MX", days=3)
    services.share_request_approve(share_request=grant, liaison=us_liaison)
    services.share_request_approve(share_request=grant, liaison=us_liaison2)
    body = renew(api, mx_investigator, grant).json()
    assert body["approvals_needed"] == 2
    first = api(us_liaison).post(f"{URL}{body['id']}/approve/").json()
    assert first["status"] == "awaiting_second_approval"
    second = api(us_liaison2).post(f"{URL}{body['id']}/approve/").json()
    assert second["status"] == "approved"


def test_the_owner_investigator_may_renew_too(api, us_case, shared, us_investigator):
    grant = shared(us_case, "MX", days=5)
    assert renew(api, us_investigator, grant).status_code == 201


@pytest.mark.parametrize(("person", "status"), [
    ("mx_liaison", 403), ("us_liaison", 403), ("gt_investigator", 404),
    ("mx_auditor", 403), ("administrator", 403),
])
def test_only_investigators_of_the_two_countries_renew(
    request, api, us_case, shared, person, status
):
    grant = shared(us_case, "MX", days=5)
    assert renew(api, request.getfixturevalue(person), grant).status_code == status
    assert not ShareRequest.objects.filter(renews=grant).exists()


def test_a_renewal_must_end_later_than_the_share_and_within_a_year(
    api, us_case, shared, mx_investigator
):
    grant = shared(us_case, "MX", days=30)
    response = renew(api, mx_investigator, grant, days=20)
    assert response.status_code == 400
    assert "later than the share's current expiry" in str(response.json()["errors"])
    assert renew(api, mx_investigator, grant, days=366).status_code == 400
    assert renew(api, mx_investigator, grant, justification=" ").status_code == 400
    assert not ShareRequest.objects.filter(renews=grant).exists()


def test_only_an_active_share_is_renewed_and_one_renewal_at_a_time(
    api, us_case, offer, shared, us_liaison, mx_investigator, audit_log
):
    pending = offer(us_case, "GT")
    response = renew(api, mx_investigator, pending)
    assert response.status_code == 404  # MX is not involved in a share to GT
    grant = shared(us_case, "MX", days=5)
    assert renew(api, mx_investigator, grant).status_code == 201
    again = renew(api, mx_investigator, grant)
    assert again.status_code == 409 and "already pending" in again.json()["detail"]
    api(us_liaison).post(f"{URL}{grant.pk}/revoke/")
    assert renew(api, mx_investigator, grant).status_code == 409
    # The last refusal names a case MX no longer sees: its auditors get a copy without it.
    assert [e.outcome for e in audit_log(action="share.renew") if e.case_id] == [
        "success", "failure", "failure"]


# --- The 7-day warning -----------------------------------------------------------------------


def test_both_sides_are_warned_7_days_before_expiry_once(
    us_case, shared, us_liaison, us_liaison2, mx_investigator, mx_liaison, gt_liaison,
    us_investigator
):
    grant = shared(us_case, "MX", days=10)
    assert centre.notify_expiring(at=grant.expires_at - dt.timedelta(days=8)) == 0
    at = grant.expires_at - dt.timedelta(days=7)
    assert centre.notify_expiring(at=at) == 3  # both sides' liaisons (no GT, no investigator)
    warned = set(Notification.objects.filter(kind="expiring", share_request=grant)
                 .values_list("member__username", flat=True))
    assert warned == {"mx.liaison", "us.liaison", "us.liaison2"}
    assert centre.notify_expiring(at=at) == 0


def test_the_recipient_investigator_who_asked_is_warned_and_a_renewed_share_is_not(
    api, us_case, mx_investigator, us_liaison, later
):
    from workinggroup.models import Country

    asked = services.share_request_open(
        requester=mx_investigator, case=us_case, recipient_country=Country.objects.get(
            code="MX"), scope="summary", justification="x", expires_at=later(5),
        from_hit=True)
    services.share_request_approve(share_request=asked, liaison=us_liaison)
    assert centre.notify_expiring() == 2  # mx.investigator and us.liaison
    other = ShareRequest.objects.get(pk=asked.pk)
    renewal = services.share_request_renew(requester=mx_investigator, grant=other,
                                           justification="more", expires_at=later(40))
    services.share_request_approve(share_request=renewal, liaison=us_liaison)
    Notification.objects.filter(kind="expiring").delete()
    assert centre.notify_expiring() == 0  # it goes on: nothing to warn of
