"""The joint-operations pages: the same gates as the API, the linked case that leaves no
trace for a participant without a share, the steps from the pages, English and Spanish."""

import datetime as dt

import pytest

from plans import selectors, services
from plans.models import ParticipationStatus, TaskStatus

pytestmark = pytest.mark.django_db


def test_a_plan_page_shows_tasks_by_country_and_its_timeline(
    web, joined_plan, us_liaison, mx_investigator, drain
):
    services.task_assign(plan=joined_plan, actor=us_liaison, country="MX",
                         title="Watch the ferry landing", due_on=dt.date(2026, 12, 20))
    drain()
    page = web(mx_investigator).get(f"/plans/{joined_plan.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Watch the ferry landing" in html and 'id="tasks-MX"' in html
    assert "assigned a task to MX" in html and "accepted: MX takes part" in html


def test_the_linked_case_leaves_no_trace_for_a_partner_without_a_share(
    web, joined_plan, make_case, us_investigator, mx_investigator, mx_auditor, drain
):
    case = make_case("US", title="Safe houses in Tapachula")
    response = web(us_investigator).post(f"/plans/{joined_plan.pk}/cases/",
                                         {"case": str(case.pk)})
    assert response.status_code == 302
    drain()
    us_page = web(us_investigator).get(f"/plans/{joined_plan.pk}/").content.decode()
    assert case.reference in us_page and "linked one of their country" in us_page
    mx_page = web(mx_investigator).get(f"/plans/{joined_plan.pk}/").content.decode()
    for trace in (case.reference, str(case.pk), case.title, "linked one of their country"):
        assert trace not in mx_page
    assert "No linked case that you may see." in mx_page


def test_outsiders_get_the_not_found_page_and_auditors_403(
    web, joined_plan, gt_investigator, us_auditor, administrator
):
    assert web(gt_investigator).get(f"/plans/{joined_plan.pk}/").status_code == 404
    assert web(us_auditor).get(f"/plans/{joined_plan.pk}/").status_code == 403
    assert web(administrator).get("/plans/").status_code == 403


def test_a_liaison_answers_the_invitation_from_the_plans_page(
    web, draft_plan, mx_liaison, gt_liaison
):
    plan = draft_plan()
    listing = web(mx_liaison).get("/plans/").content.decode()
    assert "Operation Río Suchiate" in listing and "Accept: my country takes part" in listing
    assert web(mx_liaison).post(f"/plans/{plan.pk}/answer/",
                                {"answer": "join"}).status_code == 302
    assert web(gt_liaison).post(f"/plans/{plan.pk}/answer/",
                                {"answer": "decline"}).status_code == 302
    states = dict(plan.participations.values_list("country_id", "status"))
    assert states == {"US": "accepted", "MX": ParticipationStatus.ACCEPTED,
                      "GT": ParticipationStatus.DECLINED}
    assert web(gt_liaison).get(f"/plans/{plan.pk}/").status_code == 404


def test_drafting_a_plan_from_the_page_shows_the_services_errors(web, us_liaison):
    client = web(us_liaison)
    bad = client.post("/plans/new/", {
        "title": "Op", "objective": "o", "border_segments": ["MX-GT"],
        "starts_on": "2027-01-10", "ends_on": "2027-01-01", "handling_code": "H0"})
    assert bad.status_code == 400 and "the end is before the start" in bad.content.decode()
    good = client.post("/plans/new/", {
        "title": "Op", "objective": "o", "border_segments": ["MX-GT"],
        "starts_on": "2027-01-01", "ends_on": "2027-01-10", "handling_code": "H0",
        "invite": ["MX"]})
    assert good.status_code == 302


def test_my_countrys_tasks_and_updating_one(web, joined_plan, us_liaison, mx_investigator):
    task = services.task_assign(plan=joined_plan, actor=us_liaison, country="MX",
                                title="Brief the navy", due_on=dt.date(2026, 12, 20))
    client = web(mx_investigator)
    assert "Brief the navy" in client.get("/plans/tasks/").content.decode()
    assert client.post(f"/plans/tasks/{task.pk}/update/",
                       {"status": "done", "note": "done", "next": "my_tasks"}).status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert web(us_liaison).post(f"/plans/tasks/{task.pk}/update/",
                                {"status": "open"}).status_code == 403


def test_the_gaps_register_filters_and_shows_only_named_countries(
    web, mx_investigator, us_investigator
):
    for severity in ("low", "high"):
        services.gap_create(actor=mx_investigator, border_segment="MX-GT",
                            location=f"Ford {severity}", kind="other", severity=severity,
                            description="d")
    client = web(mx_investigator)
    html = client.get("/gaps/?severity=high").content.decode()
    assert "Ford high" in html and "Ford low" not in html
    assert "Ford" not in web(us_investigator).get("/gaps/").content.decode()


def test_the_pages_in_spanish(web, joined_plan, mx_investigator):
    client = web(mx_investigator)
    client.cookies["django_language"] = "es"
    html = client.get(f"/plans/{joined_plan.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Tareas por país" in html and "Cronología" in html
    assert selectors.reads_plans(mx_investigator)
