"""The access matrix for joint operations: every role of every country against a plan (led
by the US, MX taking part, GT declined), its task, its timeline and a gap naming US and MX,
over the API and the selectors alike."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from plans import selectors, services

pytestmark = pytest.mark.django_db

# (country, role) -> expected status for each object; administrators have no country.
EXPECTED = {
    ("US", "investigator"): 200, ("US", "liaison"): 200, ("US", "auditor"): 403,
    ("MX", "investigator"): 200, ("MX", "liaison"): 200, ("MX", "auditor"): 403,
    ("GT", "investigator"): 404, ("GT", "liaison"): 404, ("GT", "auditor"): 403,
    (None, "administrator"): 403,
}


@pytest.fixture
def objects(joined_plan, us_liaison):
    task = services.task_assign(plan=joined_plan, actor=us_liaison, country="MX", title="t",
                                due_on=dt.date(2026, 12, 20))
    gap = services.gap_create(actor=us_liaison, border_segment="US-MX", location="l",
                              kind="other", severity="low", description="d", countries=["MX"])
    return {"plan": joined_plan, "task": task, "gap": gap}


@pytest.mark.parametrize(("country", "role"), list(EXPECTED))
def test_api_and_selectors_agree(api, make_member, objects, country, role):
    user = make_member(country, role)
    expected = EXPECTED[(country, role)]
    plan, task, gap = objects["plan"], objects["task"], objects["gap"]
    client = api(user)
    for url in (f"/api/v1/plans/{plan.pk}/", f"/api/v1/plans/{plan.pk}/tasks/",
                f"/api/v1/plans/{plan.pk}/timeline/", f"/api/v1/plans/{plan.pk}/cases/",
                f"/api/v1/tasks/{task.pk}/", f"/api/v1/gaps/{gap.pk}/",
                f"/api/v1/gaps/{gap.pk}/evidence/"):
        assert client.get(url).status_code == expected, url
    for gate, pk in ((selectors.get_plan_for, plan.pk), (selectors.get_task_for, task.pk),
                     (selectors.get_gap_for, gap.pk)):
        if expected == 200:
            assert gate(user, pk).pk == pk
        else:
            with pytest.raises(PermissionDenied if expected == 403 else Http404):
                gate(user, pk)
    assert selectors.plans_visible_to(user).exists() == (expected == 200)
    assert selectors.gaps_visible_to(user).exists() == (expected == 200)


def test_unknown_and_malformed_ids_are_one_404(api, us_investigator):
    for url in ("/api/v1/plans/not-a-uuid/", "/api/v1/plans/0190e2a4-0000-7000-8000-000000000000/",
                "/api/v1/tasks/x/", "/api/v1/gaps/x/", "/api/v1/gap-evidence/x/content/"):
        response = api(us_investigator).get(url)
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
