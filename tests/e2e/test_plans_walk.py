"""The joint-operations walk of issue 19, in a real browser, in English and in Spanish.

A US liaison drafts a plan on the MX-GT border inviting MX and GT; MX's liaison accepts and
GT's declines; the US liaison activates it and assigns a task to MX, which an MX investigator
marks done. A US investigator links a US case that MX cannot see: the MX plan page, its
timeline and the MX auditors' view of the audit log show no trace of it. Every page is
checked with axe-core and photographed.
"""

from __future__ import annotations

import pytest

from plans.models import ParticipationStatus, Plan, TaskStatus

TEXT = {
    "en": {"draft": "Draft a plan", "draft_button": "Draft the plan", "accept":
           "Accept: my country takes part", "decline": "Decline the invitation",
           "activate": "Activate the plan", "assign": "Assign the task", "link": "Link the case",
           "tasks": "Tasks by country", "timeline": "Timeline", "took_part": "MX takes part",
           "done_label": "Done", "my_tasks": "My country's tasks",
           "linked": "linked one of their country's cases"},
    "es": {"draft": "Redactar un plan", "draft_button": "Redactar el plan",
           "accept": "Aceptar: mi país participa", "decline": "Rechazar la invitación",
           "activate": "Activar el plan", "assign": "Asignar la tarea",
           "link": "Vincular el caso", "tasks": "Tareas por país", "timeline": "Cronología",
           "took_part": "MX participa", "done_label": "Hecha",
           "my_tasks": "Tareas de mi país", "linked": "vinculó uno de los casos de su país"},
}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_joint_operation_walk(
    language, browser_page, sign_in_page, axe_check, screenshot, make_case,
    us_liaison, us_investigator, mx_liaison, mx_investigator, gt_liaison, mx_auditor,
):
    t = TEXT[language]
    step = iter(range(1, 100))

    def look(page, name):
        axe_check(page)
        screenshot(page, f"plans-{language}-{next(step):02d}-{name}")

    def signed_in(user):
        page = browser_page(language)
        sign_in_page(page, user)
        return page

    # --- the US liaison drafts the plan, inviting MX and GT ------------------------------------
    us = signed_in(us_liaison)
    us.goto("/plans/")
    look(us, "plans-empty")
    us.get_by_role("link", name=t["draft"]).click()
    look(us, "plan-new")
    us.fill("#id_title", "Operación Río Suchiate")
    us.fill("#id_objective", "Dismantle the river-crossing smuggling route.")
    us.check("input[name=border_segments][value=MX-GT]")
    us.fill("#id_locations", "Ciudad Hidalgo, Tecún Umán")
    us.fill("#id_starts_on", "2026-12-01")
    us.fill("#id_ends_on", "2027-03-31")
    us.check("input[name=invite][value=MX]")
    us.check("input[name=invite][value=GT]")
    us.get_by_role("button", name=t["draft_button"]).click()
    plan = Plan.objects.get(title="Operación Río Suchiate")
    assert us.url.endswith(f"/plans/{plan.pk}/")
    look(us, "plan-draft")

    # --- MX's liaison accepts, GT's declines --------------------------------------------------
    mx_l = signed_in(mx_liaison)
    mx_l.goto("/plans/")
    assert "Operación Río Suchiate" in mx_l.locator(".invitations").inner_text()
    look(mx_l, "mx-invitation")
    mx_l.get_by_role("button", name=t["accept"]).click()
    assert mx_l.url.endswith(f"/plans/{plan.pk}/")
    gt = signed_in(gt_liaison)
    gt.goto("/plans/")
    gt.get_by_role("button", name=t["decline"]).click()
    look(gt, "gt-declined")
    states = dict(plan.participations.values_list("country_id", "status"))
    assert states == {"US": ParticipationStatus.ACCEPTED, "MX": ParticipationStatus.ACCEPTED,
                      "GT": ParticipationStatus.DECLINED}
    response = gt.goto(f"/plans/{plan.pk}/")
    assert response.status == 404

    # --- the US liaison activates it and assigns a task to MX ---------------------------------
    us.goto(f"/plans/{plan.pk}/")
    us.get_by_role("button", name=t["activate"]).click()
    us.select_option("#id_country", "MX")
    us.fill("#id_title", "Watch the ferry landing at night")
    us.fill("#id_due_on", "2026-12-20")
    us.get_by_role("button", name=t["assign"]).click()
    task = plan.tasks.get()
    assert task.country_id == "MX"
    look(us, "plan-active-with-task")

    # --- an MX investigator marks it done from "my country's tasks" ---------------------------
    mx = signed_in(mx_investigator)
    mx.goto("/plans/tasks/")
    assert mx.get_by_role("heading", level=1).inner_text() == t["my_tasks"]
    look(mx, "mx-tasks")
    mx.select_option(f"#status-{task.pk}", "done")
    mx.fill(f"#note-{task.pk}", "Landing watched three nights.")
    mx.locator("form.task-update button[type=submit]").click()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE

    # --- a US investigator links a US case that MX cannot see ---------------------------------
    secret = make_case("US", title="Casas de seguridad en Tapachula")
    us_i = signed_in(us_investigator)
    us_i.goto(f"/plans/{plan.pk}/")
    us_i.select_option("#id_case", str(secret.pk))
    us_i.get_by_role("button", name=t["link"]).click()
    assert secret.reference in us_i.locator(".linked-cases").inner_text()
    look(us_i, "us-plan-with-link")

    # --- the MX plan page and its timeline show no trace of it ---------------------------------
    mx.goto(f"/plans/{plan.pk}/")
    html = mx.content()
    for trace in (secret.reference, str(secret.pk), secret.title):
        assert trace not in html
    assert mx.locator(".linked-cases").count() == 0
    assert t["tasks"] in html and t["timeline"] in html
    timeline = mx.locator("ol.timeline").inner_text()
    assert t["took_part"] in timeline
    assert t["linked"] in us_i.locator("ol.timeline").inner_text()
    assert t["linked"] not in timeline
    # Drafted, MX invited, MX joined, GT declined, activated, task assigned, task done: GT's
    # invitation came before MX took part, and the link is the US's alone.
    assert mx.locator("ol.timeline li").count() == 7
    assert t["done_label"] in mx.locator("#tasks-MX + ul").inner_text()
    look(mx, "mx-plan")

    # --- the MX auditors' view of the audit log shows no trace either -------------------------
    auditor = signed_in(mx_auditor)
    entries = auditor.goto("/api/v1/audit/entries/?page_size=1000").text()
    origin = auditor.url.split("/api/")[0]
    export = auditor.request.get(origin + "/api/v1/audit/export/").text()  # a download
    assert "plan.join" in entries and "task.update" in entries
    for body in (entries, export):
        assert str(secret.pk) not in body and secret.reference not in body
        assert "plan.link_case" not in body
