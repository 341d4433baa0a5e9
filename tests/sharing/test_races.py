"""Races on PostgreSQL: concurrent decisions on one request, and on two shares of one case."""

import threading

import pytest
from django.db import connection

from cases.permissions import SCOPES
from sharing import selectors
from sharing.models import ShareRequest

URL = "/api/v1/share-requests/"

# The flush after each transactional test empties the seeded countries and role groups;
# serialized_rollback restores them before the next one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run_together(*calls):
    """Run the calls in threads started at the same instant; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # surfaced to the test through results
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def meet(monkeypatch):
    """meet(owner, name): racers calling owner.name wait there for each other (up to 1 s).

    Code that serialises them (a lock taken earlier) lets only one arrive: it waits out the
    second and goes on alone. Code that does not lets both arrive, and both go on together,
    so a missing lock fails every time rather than now and then.
    """

    def patch(owner, name, parties=2, timeout=1.0):
        original = getattr(owner, name)
        barrier = threading.Barrier(parties)

        def meeting(*args, **kwargs):
            try:
                barrier.wait(timeout)
            except threading.BrokenBarrierError:
                pass
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, meeting)

    return patch


def test_approve_and_deny_at_once_end_with_exactly_one_decision(
    postgres, api, us_case, offer, us_liaison, make_member, meet, group_perms, audit_log
):
    other_liaison = make_member("US", "liaison", username="us.liaison.b")
    share_request = offer(us_case, "MX")
    # The check happens after the lock; without the lock both would pass it together.
    meet(ShareRequest, "can_be_decided_by")

    def decide(user, step):
        return lambda: api(user).post(f"{URL}{share_request.pk}/{step}/").status_code

    approve_status, deny_status = run_together(
        decide(us_liaison, "approve"), decide(other_liaison, "deny")
    )
    assert sorted([approve_status, deny_status]) == [200, 409]
    share_request.refresh_from_db()
    assert share_request.status == ("approved" if approve_status == 200 else "denied")
    decisions = [
        e for e in audit_log(target_id=str(share_request.pk))
        if e.action in ("share.approve", "share.deny")
    ]
    assert [e.outcome for e in decisions].count("success") == 1
    assert [e.outcome for e in decisions].count("failure") == 1
    expected = SCOPES["full"] if share_request.status == "approved" else set()
    assert group_perms(us_case, "MX") == expected


def test_two_approvals_of_one_case_at_once_each_grant_their_scope(
    postgres, api, us_case, offer, us_liaison, make_member, meet, group_perms
):
    # One pending request per case and recipient: two approvals of one case at once are of
    # requests for two countries, each recomputed under the case's lock.
    other_liaison = make_member("US", "liaison", username="us.liaison.b")
    files = offer(us_case, "MX", "full_with_files", days=5)
    summary = offer(us_case, "GT", "summary", days=50)
    meet(selectors, "active_scopes")

    def approve(user, share_request):
        return lambda: api(user).post(f"{URL}{share_request.pk}/approve/").status_code

    assert run_together(approve(us_liaison, files), approve(other_liaison, summary)) == [200, 200]
    assert group_perms(us_case, "MX") == SCOPES["full_with_files"]
    assert group_perms(us_case, "GT") == SCOPES["summary"]


def test_a_revocation_and_an_approval_at_once_leave_exactly_the_remaining_share(
    postgres, api, us_case, offer, shared, us_liaison, make_member, meet, group_perms
):
    other_liaison = make_member("US", "liaison", username="us.liaison.b")
    full = shared(us_case, "MX", "full")
    summary = offer(us_case, "MX", "summary")
    # Without the case lock both would read the active shares together: the revoker would
    # see neither share, the approver both, and MX would end with nothing.
    meet(selectors, "active_scopes")

    def step(user, share_request, name):
        return lambda: api(user).post(f"{URL}{share_request.pk}/{name}/").status_code

    results = run_together(
        step(us_liaison, full, "revoke"), step(other_liaison, summary, "approve")
    )
    assert results == [200, 200]
    assert group_perms(us_case, "MX") == SCOPES["summary"]


def test_revoke_and_expire_at_once_leave_no_grant(
    postgres, us_case, offer, us_liaison, meet, group_perms
):
    import datetime as dt

    from django.utils import timezone

    from sharing import services

    share_request = offer(us_case, "MX", "full", expires_at=timezone.now() + dt.timedelta(
        seconds=1))
    services.share_request_approve(share_request=share_request, liaison=us_liaison)
    threading.Event().wait(1.05)
    meet(selectors, "active_scopes")
    results = run_together(
        lambda: services.share_request_revoke(share_request=share_request, liaison=us_liaison),
        services.share_expire_due,
    )
    share_request.refresh_from_db()
    assert share_request.status in ("revoked", "expired")
    if share_request.status == "revoked":
        assert results[1] == 0
    else:
        assert getattr(results[0], "status", None) == 409  # core.errors.Conflict
    assert group_perms(us_case, "MX") == set()


def test_two_liaisons_approving_an_h3_request_at_once_are_two_approvals_and_one_grant(
    postgres, api, make_case, offer, us_liaison, make_member, meet, group_perms, audit_log
):
    second = make_member("US", "liaison", username="us.liaison2")
    case = make_case("US", handling_code="H3", handling_note="Not for the consulates")
    share_request = offer(case, "MX")
    assert share_request.approvals_required == 2
    # The checks happen after the lock; without it both would count one approval, or two.
    meet(ShareRequest, "can_be_decided_by")

    def approve(user):
        return lambda: api(user).post(f"{URL}{share_request.pk}/approve/").status_code

    assert run_together(approve(us_liaison), approve(second)) == [200, 200]
    share_request.refresh_from_db()
    assert share_request.status == "approved"
    assert sorted(share_request.approvals.values_list("liaison__username", flat=True)) == [
        "us.liaison", "us.liaison2"]
    assert share_request.decided_by in (us_liaison, second)
    assert group_perms(case, "MX") == SCOPES["full"]
    approvals = audit_log(action="share.approve", target_id=str(share_request.pk))
    assert [(e.outcome, e.details["approval"]) for e in approvals] == [
        ("success", "1 of 2"), ("success", "2 of 2")]
    assert {e.actor for e in approvals} == {"us.liaison", "us.liaison2"}
    assert ["grants" in e.details for e in approvals] == [False, True]
    assert approvals[1].actor == share_request.decided_by.username


def test_one_liaison_approving_twice_at_once_is_one_approval_and_one_refusal(
    postgres, api, make_case, offer, us_liaison, meet, group_perms
):
    case = make_case("US", handling_code="H2")
    share_request = offer(case, "MX")
    meet(ShareRequest, "can_be_decided_by")

    def approve():
        return api(us_liaison).post(f"{URL}{share_request.pk}/approve/").status_code

    assert sorted(run_together(approve, approve)) == [200, 403]
    share_request.refresh_from_db()
    assert (share_request.status, share_request.approvals.count()) == (
        "awaiting_second_approval", 1)
    assert group_perms(case, "MX") == set()
