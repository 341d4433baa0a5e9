"""Personas and a drafted plan for the joint-operations tests."""

import datetime as dt

import pytest

from plans import services

# A security gap as its API takes it (tests/plans/test_gaps_api.py and the rotation tests).
GAP = {
    "border_segment": "MX-GT",
    "location": "Ciudad Hidalgo river crossing",
    "kind": "unmonitored_crossing",
    "severity": "high",
    "description": "Rafts cross at night, unwatched between 01:00 and 04:00",
}


@pytest.fixture
def draft_plan(us_liaison):
    """draft_plan(**fields) -> a plan on the MX-GT border, led by the US, MX and GT invited."""

    def build(actor=None, **fields):
        fields.setdefault("title", "Operation Río Suchiate")
        fields.setdefault("objective", "Dismantle the river-crossing smuggling route")
        fields.setdefault("border_segments", ["MX-GT"])
        fields.setdefault("starts_on", dt.date(2026, 12, 1))
        fields.setdefault("ends_on", dt.date(2027, 3, 31))
        fields.setdefault("invite", ["MX", "GT"])
        return services.plan_create(actor=actor or us_liaison, **fields)

    return build


@pytest.fixture
def joined_plan(draft_plan, mx_liaison, gt_liaison):
    """A plan MX took part in (its liaison accepted) and GT declined."""
    from plans import selectors

    plan = draft_plan()
    services.plan_join(participation=selectors.get_invitation_for(mx_liaison, plan.pk),
                       liaison=mx_liaison)
    services.plan_decline(participation=selectors.get_invitation_for(gt_liaison, plan.pk),
                          liaison=gt_liaison)
    return plan
