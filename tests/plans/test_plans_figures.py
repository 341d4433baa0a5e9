"""Dashboard figures of joint operations: exact numbers for the plans a country is in,
nothing for a country in no plan, and nothing about linked cases."""

import datetime as dt

import pytest

from plans import services
from plans.figures import plan_figures

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 10)


def test_figures_count_active_plans_per_segment_and_tasks_per_country(
    joined_plan, draft_plan, us_liaison, mx_investigator, make_case, us_investigator
):
    services.plan_activate(plan=joined_plan, liaison=us_liaison)
    other = draft_plan(border_segments=["US-MX", "MX-GT"], invite=[])
    services.plan_activate(plan=other, liaison=us_liaison)
    draft_plan(border_segments=["US-MX"], invite=[])  # a draft is not active
    services.task_assign(plan=joined_plan, actor=us_liaison, country="MX", title="a",
                                due_on=dt.date(2026, 12, 1))
    done = services.task_assign(plan=joined_plan, actor=us_liaison, country="MX", title="b",
                                due_on=dt.date(2026, 12, 1))
    services.task_update(task=done, actor=mx_investigator, status="done")
    services.task_assign(plan=joined_plan, actor=us_liaison, country="US", title="c",
                         due_on=dt.date(2026, 12, 30))
    services.plan_link_case(plan=joined_plan, actor=us_investigator,
                            case_id=make_case("US").pk)

    us = plan_figures(us_liaison, today=TODAY)
    assert us.active_per_segment == {"US-MX": 1, "MX-GT": 2}
    assert us.tasks_per_country == {"MX": {"done": 1, "overdue": 1},
                                    "US": {"done": 0, "overdue": 0}}
    mx = plan_figures(mx_investigator, today=TODAY)
    assert mx.active_per_segment == {"US-MX": 0, "MX-GT": 1}  # MX is not in the second plan
    assert mx.tasks_per_country == us.tasks_per_country
    assert "case" not in repr(mx).lower()


def test_a_country_in_no_plan_sees_nothing_of_plans(joined_plan, gt_investigator, us_auditor):
    assert plan_figures(gt_investigator) is None
    assert plan_figures(us_auditor) is None
