"""The notification centre driven through: a request opened -> the owner liaison's centre
shows it unread (and the navigation counts it) -> decided -> the requester's centre shows the
decision; the mails link to the pages; nobody reads another's notifications."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from sharing import centre
from sharing import services as sharing
from sharing.models import Notification

SITE = "https://wgx.example.invalid"


def nav(html):
    return html.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]


@pytest.fixture
def us_case(make_case):
    return make_case("US", title="Red Tapachula")


def test_a_request_reaches_the_owner_liaisons_centre_and_the_decision_the_requester(
    web, us_liaison, mx_investigator, gt_liaison, us_case, settings, audit_log,
    django_capture_on_commit_callbacks,
):
    settings.SITE_URL = SITE
    with django_capture_on_commit_callbacks(execute=True):
        share = sharing.share_request_open(
            requester=mx_investigator, case=us_case, recipient_country=mx_investigator.country,
            scope="summary", justification="Same recruiter", from_hit=True,
            expires_at=timezone.now() + dt.timedelta(days=30))
    [to_us] = [m for m in mail.outbox if m.to == ["us.liaison@example.invalid"]]
    assert f"{SITE}/liaison/#request-{share.pk}" in to_us.body and "/api/" not in to_us.body

    liaison = web(us_liaison)
    html = liaison.get("/notifications/").content.decode()
    assert "Notifications (1 unread)" in nav(html)
    item = re.search(r'<li id="notification-[^"]+" class="unread">(.*?)</li>', html, re.S)
    assert "A request to decide" in item.group(1)
    assert f'href="/liaison/#request-{share.pk}"' in item.group(1)
    assert us_case.reference in item.group(1)
    # Nobody else reads it: not the uninvolved liaison, not the requester.
    assert "notification-" not in web(gt_liaison).get("/notifications/").content.decode()
    assert "notification-" not in web(mx_investigator).get("/notifications/").content.decode()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        liaison.post(f"/liaison/requests/{share.pk}/decide/",
                     {"decision": "deny", "note": "Not now"})
    assert f"{SITE}/requests/#request-{share.pk}" in mail.outbox[0].body
    requester = web(mx_investigator).get("/notifications/").content.decode()
    item = re.search(r'<li id="notification-[^"]+" class="unread">(.*?)</li>', requester, re.S)
    assert "A decision on your request" in item.group(1) and "Denied" in item.group(1)
    # The hit's case stays unnamed to the requester after a denial.
    assert us_case.reference not in requester
    assert "Notifications (1 unread)" in nav(requester)

    assert liaison.post("/notifications/").status_code == 302
    html = liaison.get("/notifications/").content.decode()
    assert 'class="unread"' not in html and "unread)" not in nav(html)
    assert [e.details.get("count") for e in audit_log(action="notification.read")] == [1]
    assert Notification.objects.filter(member=mx_investigator, read_at=None).count() == 1


def test_the_member_who_took_the_step_is_not_notified_of_it(
    us_liaison, mx_investigator, us_case
):
    share = sharing.share_request_open(
        requester=mx_investigator, case=us_case, recipient_country=mx_investigator.country,
        scope="summary", justification="x", from_hit=True,
        expires_at=timezone.now() + dt.timedelta(days=30))
    sharing.share_request_approve(share_request=share, liaison=us_liaison)
    assert sorted(Notification.objects.values_list("member__username", "kind")) == [
        ("mx.investigator", "decided"), ("us.liaison", "to_decide")]
    assert centre.unread_count(us_liaison) == 1


def test_a_share_ending_within_7_days_is_told_to_both_sides_once(
    web, us_liaison, mx_liaison, mx_investigator, gt_liaison, us_case
):
    share = sharing.share_request_open(
        requester=mx_investigator, case=us_case, recipient_country=mx_investigator.country,
        scope="summary", justification="x", from_hit=True,
        expires_at=timezone.now() + dt.timedelta(days=10))
    sharing.share_request_approve(share_request=share, liaison=us_liaison)
    assert centre.notify_expiring() == 0  # ten days left: not yet
    in_four_days = timezone.now() + dt.timedelta(days=3)
    assert centre.notify_expiring(at=in_four_days) == 3  # both sides
    assert centre.notify_expiring(at=in_four_days) == 0  # once per share
    assert sorted(Notification.objects.filter(kind="expiring").values_list(
        "member__username", flat=True)) == ["mx.investigator", "mx.liaison", "us.liaison"]
    html = web(mx_investigator).get("/notifications/").content.decode()
    assert "A share your country holds or gave ends within 7 days" in html
    # The warning leads to the share's own page, where its investigators ask to renew it.
    assert f'href="/requests/{share.pk}/"' in html
    assert "ends on" in html


def test_the_expiry_warning_is_on_the_beat_schedule(settings):
    assert settings.CELERY_BEAT_SCHEDULE["sharing-notify-expiring"]["task"] == (
        "sharing.notify_expiring")
