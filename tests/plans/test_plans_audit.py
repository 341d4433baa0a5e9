"""Every step of a joint operation is audited, and each entry is read by the right auditors:
the plan's participating countries (and an invited country for its invitation), a case
link by the linking country alone, a gap's entries by the countries it names."""

import datetime as dt

import pytest

from audit.selectors import entries_visible_to
from plans import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(draft_plan, make_case, us_liaison, us_investigator, mx_liaison, mx_investigator,
             gt_liaison, drain):
    """Every audited step of plans, tasks, links and gaps, once."""
    plan = draft_plan()
    services.plan_join(participation=selectors.get_invitation_for(mx_liaison, plan.pk),
                       liaison=mx_liaison)
    services.plan_decline(participation=selectors.get_invitation_for(gt_liaison, plan.pk),
                          liaison=gt_liaison)
    services.plan_activate(plan=plan, liaison=us_liaison)
    services.plan_update(plan=plan, actor=us_investigator, locations="Ciudad Hidalgo")
    task = services.task_assign(plan=plan, actor=us_liaison, country="MX", title="Watch",
                                due_on=dt.date(2026, 12, 20))
    services.task_update(task=task, actor=mx_investigator, status="done", note="watched")
    secret = make_case("US", title="Unshared US case")
    services.plan_link_case(plan=plan, actor=us_investigator, case_id=secret.pk)
    gap = services.gap_create(actor=mx_investigator, border_segment="MX-GT", location="river",
                              kind="other", severity="low", description="d", countries=["GT"])
    services.gap_update(gap=gap, actor=mx_investigator, status="mitigated")
    us_gap = services.gap_create(actor=us_investigator, border_segment="US-MX", location="x",
                                 kind="other", severity="low", description="d")
    services.plan_close(plan=plan, liaison=us_liaison, status="completed")
    drain()
    return {"plan": plan, "task": task, "case": secret, "gap": gap, "us_gap": us_gap}


def _actions(user, **filters):
    return [e.action for e in entries_visible_to(user).filter(**filters).order_by("seq")]


def test_every_step_is_audited_once(scenario, oversight_auditor):
    actions = _actions(oversight_auditor, action__regex=r"^(plan|task|gap)\.")
    assert actions == [
        "plan.create", "plan.invite", "plan.invite", "plan.join", "plan.decline",
        "plan.activate", "plan.update", "task.assign", "task.update", "plan.link_case",
        "gap.create", "gap.update", "gap.create", "plan.close",
    ]


def test_each_country_reads_what_it_takes_part_in(
    scenario, us_auditor, mx_auditor, gt_auditor
):
    plan_steps = r"^(plan|task|gap)\."
    assert _actions(us_auditor, action__regex=plan_steps) == [
        "plan.create", "plan.invite", "plan.invite", "plan.join", "plan.decline",
        "plan.activate", "plan.update", "task.assign", "task.update", "plan.link_case",
        "gap.create", "plan.close",
    ]
    # MX joined: the plan's steps from then on, its own invitation, its gap; not the link.
    assert _actions(mx_auditor, action__regex=plan_steps) == [
        "plan.create", "plan.invite", "plan.join", "plan.decline", "plan.activate",
        "plan.update",
        "task.assign", "task.update", "gap.create", "gap.update", "plan.close",
    ]
    # GT declined: the draft it was told of, its invitation, its answer, and the gap naming it.
    assert _actions(gt_auditor, action__regex=plan_steps) == [
        "plan.create", "plan.invite", "plan.decline", "gap.create", "gap.update",
    ]


def test_the_audit_leak_invariant_holds_for_plans(scenario, api, mx_auditor, gt_auditor):
    """No entry a partner's auditors read names the US case they could not see: not in the
    list, not through the filter by case, not in the export."""
    case = scenario["case"]
    for auditor in (mx_auditor, gt_auditor):
        client = api(auditor)
        listed = client.get("/api/v1/audit/entries/?page_size=1000").json()["results"]
        assert listed and all(e["case_id"] != str(case.pk) for e in listed)
        assert client.get(f"/api/v1/audit/entries/?case={case.pk}").json()["results"] == []
        export = b"".join(client.get("/api/v1/audit/export/").streaming_content).decode()
        assert str(case.pk) not in export and case.reference not in export
    # The entries carry no plan text: auditors read the trail, not the content.
    body = b"".join(api(mx_auditor).get("/api/v1/audit/export/").streaming_content).decode()
    assert "Operation Río Suchiate" not in body and "watched" not in body


def test_the_timeline_shows_each_country_its_readable_steps(
    scenario, us_investigator, mx_investigator
):
    plan = scenario["plan"]
    assert "plan.link_case" in [e.action for e in selectors.plan_timeline(us_investigator,
                                                                          plan)]
    mx = [e.action for e in selectors.plan_timeline(mx_investigator, plan)]
    assert mx == ["plan.create", "plan.invite", "plan.join", "plan.decline", "plan.activate",
                  "plan.update", "task.assign", "task.update", "plan.close"]


def test_explicit_readers_cannot_name_a_case_or_leave_out_the_actor(us_investigator,
                                                                    make_case):
    import audit

    with pytest.raises(ValueError, match="cannot name its own readers"):
        audit.record("plan.update", us_investigator, case=make_case("US"), readers=["MX"])
    with pytest.raises(ValueError, match="does not name its own readers"):
        audit.record("case.view", us_investigator, readers=["MX"])


def test_the_auditor_pages_show_partners_no_trace_of_the_linked_case(
    scenario, web, mx_auditor, gt_auditor, us_auditor
):
    """The same invariant through the auditors' pages: the log, the filter by case, the
    case's trail and both exports."""
    case = scenario["case"]
    for auditor in (mx_auditor, gt_auditor):
        client = web(auditor)
        log = client.get("/audit/").content.decode()
        assert "plan.join" in log or "plan.decline" in log  # the plan's trail is theirs to read
        filtered = client.get(f"/audit/?case={case.pk}").content.decode()
        assert 'href="/audit/entries/' not in filtered  # no row (the form echoes the id typed)
        pages = [log, b"".join(client.get("/audit/export.jsonl").streaming_content).decode(),
                 b"".join(client.get("/audit/export.csv").streaming_content).decode()]
        for page in pages:
            assert str(case.pk) not in page and case.reference not in page
        # The filter form lists every action's name: in the log, look at the rows only.
        assert '<span class="hint">plan.link_case</span>' not in log
        assert "plan.link_case" not in pages[1] and "plan.link_case" not in pages[2]
        trail = client.get(f"/audit/cases/{case.pk}/")
        assert 'href="/audit/entries/' not in trail.content.decode()  # not one entry of it
    # The linking country's auditors see the link.
    us_log = web(us_auditor).get("/audit/?action=plan.link_case").content.decode()
    assert '<span class="hint">plan.link_case</span>' in us_log
