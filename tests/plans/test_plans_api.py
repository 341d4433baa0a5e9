"""The plans API as the three countries' members use it: consent, tasks, linked cases."""

import datetime as dt

import pytest

from plans.models import ParticipationStatus

pytestmark = pytest.mark.django_db

PLAN = {
    "title": "Operation Río Suchiate",
    "objective": "Dismantle the river-crossing smuggling route",
    "border_segments": ["MX-GT"],
    "starts_on": "2026-12-01",
    "ends_on": "2027-03-31",
    "invite": ["MX", "GT"],
}


def _create(api, user, **changes):
    response = api(user).post("/api/v1/plans/", {**PLAN, **changes}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- consent -------------------------------------------------------------------------------


def test_an_invited_country_is_not_a_participant_until_its_liaison_accepts(
    api, us_investigator, mx_investigator, mx_liaison
):
    plan = _create(api, us_investigator)
    url = f"/api/v1/plans/{plan['id']}/"
    assert api(mx_investigator).get(url).status_code == 404
    assert api(mx_liaison).get(url).status_code == 404
    invitations = api(mx_liaison).get("/api/v1/plans/invitations/").json()["results"]
    assert [i["plan"]["id"] for i in invitations] == [plan["id"]]
    assert "tasks" not in invitations[0]["plan"]

    answer = api(mx_liaison).post(f"/api/v1/plans/{plan['id']}/join/")
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    detail = api(mx_investigator).get(url)
    assert detail.status_code == 200
    assert {p["country"]: p["status"] for p in detail.json()["participations"]} == {
        "US": "accepted", "MX": "accepted", "GT": "invited"}


def test_only_a_liaison_of_the_invited_country_answers(
    api, us_liaison, mx_investigator, gt_liaison, draft_plan
):
    plan = draft_plan(invite=["MX"])
    assert api(mx_investigator).post(f"/api/v1/plans/{plan.pk}/join/").status_code == 403
    assert api(gt_liaison).post(f"/api/v1/plans/{plan.pk}/join/").status_code == 404
    # The lead country takes part from the draft on: nothing is left to answer.
    assert api(us_liaison).post(f"/api/v1/plans/{plan.pk}/join/").status_code == 409


def test_declining_leaves_no_access(api, joined_plan, gt_liaison, gt_investigator):
    plan = joined_plan
    assert plan.participations.get(country="GT").status == ParticipationStatus.DECLINED
    for user in (gt_liaison, gt_investigator):
        client = api(user)
        assert client.get(f"/api/v1/plans/{plan.pk}/").status_code == 404
        assert client.get(f"/api/v1/plans/{plan.pk}/tasks/").status_code == 404
        assert client.get(f"/api/v1/plans/{plan.pk}/timeline/").status_code == 404
        assert client.get("/api/v1/plans/").json()["results"] == []
    # Answered once: a second answer is a conflict naming the state, not a change of mind.
    again = api(gt_liaison).post(f"/api/v1/plans/{plan.pk}/join/")
    assert again.status_code == 409 and again.json()["status"] == "declined"
    assert api(gt_liaison).get("/api/v1/plans/invitations/").json()["results"] == []


def test_only_a_lead_country_liaison_activates_and_closes(
    api, joined_plan, us_investigator, us_liaison, mx_liaison
):
    url = f"/api/v1/plans/{joined_plan.pk}/"
    assert api(us_investigator).post(url + "activate/").status_code == 403
    assert api(mx_liaison).post(url + "activate/").status_code == 403
    assert api(us_liaison).post(url + "activate/").json()["status"] == "active"
    assert api(us_liaison).post(url + "activate/").status_code == 409
    closed = api(us_liaison).post(url + "close/", {"status": "completed"}, format="json")
    assert closed.json()["status"] == "completed"
    edit = api(us_liaison).patch(url, {"title": "Later"}, format="json")
    assert edit.status_code == 409 and edit.json()["status"] == "completed"


def test_bad_input_names_the_field_and_stores_nothing(api, us_investigator):
    response = api(us_investigator).post("/api/v1/plans/", {
        **PLAN, "ends_on": "2026-01-01", "invite": ["ZZ"]}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"detail"}
    h3 = api(us_investigator).post("/api/v1/plans/", {**PLAN, "handling_code": "H3"},
                                   format="json")
    assert h3.status_code == 400
    assert h3.json()["errors"] == {"handling_note": ["H3 needs the restriction stated"]}
    unknown = api(us_investigator).post("/api/v1/plans/", {**PLAN, "colour": "red"},
                                        format="json")
    assert unknown.status_code == 400 and unknown.json()["detail"] == "colour: unknown field"
    assert api(us_investigator).get("/api/v1/plans/").json()["results"] == []
    assert api(us_investigator).get("/api/v1/plans/?colour=red").status_code == 400


def test_auditors_and_administrators_read_no_plan(
    api, joined_plan, us_auditor, mx_auditor, administrator
):
    for user in (us_auditor, mx_auditor, administrator):
        client = api(user)
        assert client.get(f"/api/v1/plans/{joined_plan.pk}/").status_code == 403
        assert client.get("/api/v1/plans/").status_code == 403
        assert client.get("/api/v1/gaps/").status_code == 403
        assert client.get("/api/v1/tasks/").status_code == 403


# --- tasks ---------------------------------------------------------------------------------


def test_tasks_per_country(api, joined_plan, us_liaison, mx_investigator, mx_liaison,
                           us_investigator, gt_investigator):
    url = f"/api/v1/plans/{joined_plan.pk}/tasks/"
    task = api(us_liaison).post(url, {"country": "MX", "title": "Watch the ferry landing",
                                      "due_on": "2026-12-20",
                                      "assignee": mx_investigator.username}, format="json")
    assert task.status_code == 201, task.json()
    task = task.json()
    # GT declined: not a participant, so no task for it; MX assigns only to itself.
    gt = api(us_liaison).post(url, {"country": "GT", "title": "x", "due_on": "2026-12-20"},
                              format="json")
    assert gt.status_code == 400
    assert gt.json()["errors"] == {"country": ["GT does not take part in the plan"]}
    assert api(mx_liaison).post(url, {"country": "US", "title": "x", "due_on": "2026-12-20"},
                                format="json").status_code == 403
    own = api(mx_liaison).post(url, {"country": "MX", "title": "Brief the navy",
                                     "due_on": "2026-12-22"}, format="json")
    assert own.status_code == 201

    # Everyone in the plan sees every task's status; members update their country's only.
    assert len(api(us_investigator).get(url).json()["results"]) == 2
    update = f"/api/v1/tasks/{task['id']}/updates/"
    assert api(us_investigator).post(update, {"status": "done"},
                                     format="json").status_code == 403
    assert api(gt_investigator).post(update, {"status": "done"},
                                     format="json").status_code == 404
    done = api(mx_investigator).post(update, {"status": "done", "note": "Landing watched"},
                                     format="json")
    assert done.status_code == 201
    assert done.json()["status"] == "done"
    assert done.json()["updates"][0]["note"] == "Landing watched"
    mine = api(mx_investigator).get("/api/v1/tasks/").json()["results"]
    assert sorted(t["title"] for t in mine) == ["Brief the navy", "Watch the ferry landing"]
    assert api(us_investigator).get("/api/v1/tasks/").json()["results"] == []
    assert api(gt_investigator).get(f"/api/v1/tasks/{task['id']}/").status_code == 404


def test_overdue_and_due_soon_tasks_for_the_notification_centre(
    joined_plan, us_liaison, mx_investigator, us_investigator
):
    from plans import selectors, services

    services.plan_activate(plan=joined_plan, liaison=us_liaison)
    today = dt.date(2026, 12, 10)
    for title, due in (("late", dt.date(2026, 12, 9)), ("soon", dt.date(2026, 12, 15)),
                       ("later", dt.date(2027, 1, 30))):
        services.task_assign(plan=joined_plan, actor=us_liaison, country="MX", title=title,
                             due_on=due)
    tasks = selectors.tasks_needing_attention(mx_investigator, today=today)
    assert [(t.title, t.is_overdue) for t in tasks] == [("late", True), ("soon", False)]
    assert selectors.tasks_needing_attention(us_investigator, today=today) == []


# --- linked cases --------------------------------------------------------------------------


def test_a_linked_case_reveals_nothing_to_a_participant_without_a_share(
    api, joined_plan, make_case, us_investigator, mx_investigator, drain
):
    case = make_case("US", title="Tapachula safe houses")
    link = api(us_investigator).post(f"/api/v1/plans/{joined_plan.pk}/cases/",
                                     {"case": str(case.pk)}, format="json")
    assert link.status_code == 201
    # The US sees its link; MX sees no trace: no row, no count, not in the plan's answer.
    assert [c["reference"] for c in api(us_investigator).get(
        f"/api/v1/plans/{joined_plan.pk}/cases/").json()["results"]] == [case.reference]
    mx = api(mx_investigator)
    listed = mx.get(f"/api/v1/plans/{joined_plan.pk}/cases/").json()
    assert listed["results"] == [] and listed["count"] == 0
    drain()
    for url in (f"/api/v1/plans/{joined_plan.pk}/", f"/api/v1/plans/{joined_plan.pk}/timeline/"):
        body = mx.get(url).content.decode()
        assert str(case.pk) not in body and case.reference not in body
        assert "link_case" not in body


def test_a_shared_case_is_shown_to_the_partner_holding_the_share(
    api, joined_plan, make_case, us_investigator, mx_investigator
):
    from cases import permissions

    case = make_case("US")
    api(us_investigator).post(f"/api/v1/plans/{joined_plan.pk}/cases/",
                              {"case": str(case.pk)}, format="json")
    permissions.set_country_grants(case, "MX", permissions.scope_perms("summary"))
    listed = api(mx_investigator).get(f"/api/v1/plans/{joined_plan.pk}/cases/").json()
    assert [c["case"] for c in listed["results"]] == [str(case.pk)]


def test_a_participant_links_only_its_own_cases(
    api, joined_plan, make_case, mx_investigator
):
    us_case = make_case("US")
    url = f"/api/v1/plans/{joined_plan.pk}/cases/"
    assert api(mx_investigator).post(url, {"case": str(us_case.pk)},
                                     format="json").status_code == 404
    mx_case = make_case("MX")
    assert api(mx_investigator).post(url, {"case": str(mx_case.pk)},
                                     format="json").status_code == 201
    again = api(mx_investigator).post(url, {"case": str(mx_case.pk)}, format="json")
    assert again.status_code == 409


def test_plans_are_in_the_openapi_schema(api, us_investigator):
    schema = api(us_investigator).get("/api/schema/?format=json").json()
    for path in ("/api/v1/plans/", "/api/v1/plans/{plan_id}/join/",
                 "/api/v1/plans/{plan_id}/tasks/", "/api/v1/tasks/{task_id}/updates/",
                 "/api/v1/gaps/", "/api/v1/gaps/{gap_id}/evidence/"):
        assert path in schema["paths"]
