"""Overdue and due-soon tasks of joint operations reach the notification centre page."""

import datetime as dt

from django.utils import timezone

from plans import services


def test_the_centre_lists_the_countrys_overdue_and_due_soon_tasks_only(
    web, joined_plan, us_liaison, mx_investigator, us_investigator, gt_investigator
):
    services.plan_activate(plan=joined_plan, liaison=us_liaison)
    today = timezone.localdate()
    for title, due in (("Watch the ferry landing", today - dt.timedelta(days=1)),
                       ("Brief the navy", today + dt.timedelta(days=2)),
                       ("Plan the spring rotation", today + dt.timedelta(days=60))):
        services.task_assign(plan=joined_plan, actor=us_liaison, country="MX", title=title,
                             due_on=due)

    page = web(mx_investigator).get("/notifications/").content.decode()
    assert "Tasks of joint operations due soon or overdue" in page
    assert "<strong>Overdue:</strong>" in page and "Watch the ferry landing" in page
    assert "<strong>Due soon:</strong>" in page and "Brief the navy" in page
    assert "Plan the spring rotation" not in page  # not due soon
    assert f"/plans/{joined_plan.pk}/" in page
    # The tasks are MX's: the lead country's and the declined country's centres list none.
    for member in (us_investigator, gt_investigator):
        page = web(member).get("/notifications/").content.decode()
        assert "Watch the ferry landing" not in page and "Brief the navy" not in page
