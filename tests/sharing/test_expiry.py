"""Expiry: reads refuse an expired share at once; the beat task then tidies its grants away."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone
from freezegun import freeze_time

from cases.permissions import SCOPES
from cases.selectors import CaseNotFound, get_case_for, visible_cases, visible_subjects
from sharing import services, tasks
from sharing.models import ShareRequest


def test_a_grant_expiring_in_two_seconds_stops_opening_the_case_before_the_task_runs(
    api, us_case, offer, us_liaison, mx_investigator, group_perms, subject, audit_log
):
    with freeze_time(timezone.now()) as clock:
        share_request = offer(
            us_case, "MX", "full", expires_at=timezone.now() + dt.timedelta(seconds=2),
            named=[subject(us_case, "victim")],
        )
        services.share_request_approve(share_request=share_request, liaison=us_liaison)
        assert get_case_for(mx_investigator, us_case.pk, "full") == us_case
        assert len(visible_subjects(mx_investigator, us_case)) == 2

        clock.tick(dt.timedelta(seconds=2, milliseconds=1))
        # The task has not run: the row still says approved, the permission rows are there...
        assert ShareRequest.objects.get(pk=share_request.pk).status == "approved"
        assert group_perms(us_case, "MX") == SCOPES["full"]
        # ...and yet the next read opens nothing.
        with pytest.raises(CaseNotFound):
            get_case_for(mx_investigator, us_case.pk, "summary")
        assert not visible_cases(mx_investigator, "summary").exists()
        listed = api(mx_investigator).get("/api/v1/cases/").json()
        assert (listed["count"], listed["results"]) == (0, [])
        assert list(visible_subjects(mx_investigator, us_case)) == []
        detail = api(mx_investigator).get(f"/api/v1/share-requests/{share_request.pk}/")
        assert detail.data["active"] is False

        # The beat task marks it expired and removes the rows; running it again does nothing.
        assert tasks.expire_due() == 1
        assert tasks.expire_due() == 0

    share_request.refresh_from_db()
    assert share_request.status == "expired"
    assert group_perms(us_case, "MX") == set()
    [entry] = audit_log(action="share.expire")
    assert entry.actor == "system:task sharing.expire_due"
    assert (entry.case_id, entry.outcome) == (str(us_case.pk), "success")


def test_expiry_of_one_share_leaves_an_overlapping_one(
    us_case, shared, mx_investigator, group_perms
):
    with freeze_time(timezone.now()) as clock:
        shared(us_case, "MX", "full", days=1)
        shared(us_case, "MX", "summary", days=30)
        clock.tick(dt.timedelta(days=2))
        # Before the task: the expired full share no longer opens subjects, summary still reads.
        assert visible_cases(mx_investigator, "summary").filter(pk=us_case.pk).exists()
        assert not visible_cases(mx_investigator, "full").filter(pk=us_case.pk).exists()
        assert services.share_expire_due() == 1
        assert group_perms(us_case, "MX") == SCOPES["summary"]


def test_expire_skips_a_share_revoked_meanwhile(us_case, shared, us_liaison, group_perms):
    share_request = shared(us_case, "MX", "summary", days=1)
    services.share_request_revoke(share_request=share_request, liaison=us_liaison)
    with freeze_time(timezone.now() + dt.timedelta(days=2)):
        assert services.share_expire_due() == 0
    assert ShareRequest.objects.get(pk=share_request.pk).status == "revoked"
    assert group_perms(us_case, "MX") == set()


def test_the_task_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["sharing-expire-due"]
    assert entry["task"] == tasks.expire_due.name == "sharing.expire_due"
    assert entry["schedule"] <= 300


def test_expiry_holds_in_real_time_too(us_case, offer, us_liaison, mx_investigator):
    import time

    share_request = offer(us_case, "MX", "summary",
                          expires_at=timezone.now() + dt.timedelta(seconds=2))
    services.share_request_approve(share_request=share_request, liaison=us_liaison)
    assert get_case_for(mx_investigator, us_case.pk) == us_case
    time.sleep(max(0.0, (share_request.expires_at - timezone.now()).total_seconds()) + 0.05)
    with pytest.raises(CaseNotFound):
        get_case_for(mx_investigator, us_case.pk)
