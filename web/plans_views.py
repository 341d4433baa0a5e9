"""Joint-operations pages: the plans list with invitations, a plan page (tasks by country,
linked cases, timeline), drafting a plan, my country's tasks, and the gaps register.

Thin: parse the form, call plans.selectors or plans.services, render. Small step forms
(invite, answer, activate, close, assign, update, link) post to their own URL and come back
to the plan page with the service's answer as a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.downloads import file_response
from cases.selectors import visible_cases
from core.errors import Conflict
from plans import evidence, selectors, services
from plans.models import ParticipationStatus, PlanStatus, TaskStatus
from web.forms import add_service_errors
from web.pages import countries
from web.plans_forms import (
    CloseForm,
    GapFilterForm,
    GapForm,
    GapMitigateForm,
    InviteForm,
    LinkCaseForm,
    PlanForm,
    TaskForm,
    TaskUpdateForm,
)
from web.views import member_page

PAGE_SIZE = 25
LINKABLE_CASES = 200  # the newest of the country's own cases offered for linking

# A timeline entry in words; %(country)s is the country the step concerned.
TIMELINE_LABELS = {
    "plan.create": gettext_lazy("drafted the plan"),
    "plan.invite": gettext_lazy("invited %(country)s"),
    "plan.join": gettext_lazy("accepted: %(country)s takes part"),
    "plan.decline": gettext_lazy("declined for %(country)s"),
    "plan.activate": gettext_lazy("activated the plan"),
    "plan.update": gettext_lazy("edited the plan"),
    "plan.close": gettext_lazy("closed the plan"),
    "plan.link_case": gettext_lazy("linked one of their country's cases"),
    "task.assign": gettext_lazy("assigned a task to %(country)s"),
    "task.update": gettext_lazy("updated a task of %(country)s"),
}


def _timeline(user, plan) -> list[dict]:
    task_countries = dict(plan.tasks.values_list("pk", "country_id"))
    rows = []
    for entry in selectors.plan_timeline(user, plan):
        country = entry.details.get("country", "")
        if entry.action == "task.update":
            country = next((c for pk, c in task_countries.items()
                            if str(pk) == entry.target_id), "")
        label = TIMELINE_LABELS.get(entry.action, entry.action) % {"country": country}
        rows.append({"at": entry.occurred_at, "actor": entry.actor,
                     "actor_country": entry.actor_country, "label": label})
    return rows


def _partners(user) -> list[str]:
    return [c.code for c in countries() if c.code != user.country_id]


# --- plans -----------------------------------------------------------------------------------


@member_page
def plan_list(request):
    """The plans the member's country takes part in, and open invitations to it."""
    status = request.GET.get("status", "")
    status = status if status in PlanStatus.values else ""
    plans = selectors.plan_list(request.user, status=status)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "plans/plan_list.html", {
        "page": page, "invitations": selectors.invitations_for(request.user),
        "statuses": PlanStatus.choices, "status": status,
        "query": f"status={status}" if status else "",
    })


@member_page
def plan_create(request):
    """Draft a plan led by the member's country."""
    selectors.require_plan_reader(request.user)
    form = PlanForm(request.POST or None, partners=_partners(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Plan drafted."))
            return redirect("web:plan_detail", plan_id=plan.pk)
    return render(request, "plans/plan_form.html", {"form": form},
                  status=400 if form.errors else 200)


@member_page
def plan_detail(request, plan_id):
    """A plan: header, who takes part, tasks by country, linked cases, timeline."""
    user = request.user
    plan = selectors.get_plan_for(user, plan_id)
    participations = list(selectors.participations_of(plan))
    taking_part = [p.country_id for p in participations if p.is_member]
    is_lead = user.country_id == plan.lead_country_id
    tasks = list(selectors.tasks_of(plan))
    by_country = [(code, [t for t in tasks if t.country_id == code]) for code in taking_part]
    own_cases = (visible_cases(user).filter(owner_country_id=user.country_id)
                 .exclude(pk__in=plan.case_links.values("case_id"))[:LINKABLE_CASES])
    invited = {p.country_id for p in participations if p.status != ParticipationStatus.DECLINED}
    return render(request, "plans/plan_detail.html", {
        "plan": plan, "participations": participations, "by_country": by_country,
        "is_lead": is_lead, "can_decide": is_lead and user.is_liaison,
        "linked": list(selectors.linked_cases(user, plan)),
        "timeline": _timeline(user, plan),
        "invite_form": InviteForm(countries=[c for c in _partners(user) if c not in invited]),
        "close_form": CloseForm(),
        "task_form": TaskForm(countries=taking_part if is_lead else [user.country_id]),
        "update_form": TaskUpdateForm(),
        "link_form": LinkCaseForm(cases=own_cases),
    })


def _step(request, plan_id, run, done_message):
    """Run one step on the plan and go back to its page with the outcome as a message."""
    try:
        run()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except Conflict as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done_message)
    return redirect("web:plan_detail", plan_id=plan_id)


@require_POST
@member_page
def plan_invite(request, plan_id):
    plan = selectors.get_plan_for(request.user, plan_id)
    form = InviteForm(request.POST, countries=[c.code for c in countries()])
    form.is_valid()
    return _step(request, plan.pk, lambda: services.plan_invite(
        plan=plan, actor=request.user, country=form.cleaned_data.get("country", "")),
        _("Invitation sent."))


@require_POST
@member_page
def plan_answer(request, plan_id):
    """Accept or decline the member's country's invitation (its liaisons)."""
    participation = selectors.get_invitation_for(request.user, plan_id)
    join = request.POST.get("answer") == "join"
    service = services.plan_join if join else services.plan_decline
    try:
        service(participation=participation, liaison=request.user)
    except Conflict as error:
        messages.error(request, str(error))
        return redirect("web:plan_list")
    if join:
        messages.success(request, _("Your country takes part in the plan."))
        return redirect("web:plan_detail", plan_id=participation.plan_id)
    messages.success(request, _("Invitation declined."))
    return redirect("web:plan_list")


@require_POST
@member_page
def plan_activate(request, plan_id):
    plan = selectors.get_plan_for(request.user, plan_id)
    return _step(request, plan.pk, lambda: services.plan_activate(
        plan=plan, liaison=request.user), _("Plan activated."))


@require_POST
@member_page
def plan_close(request, plan_id):
    plan = selectors.get_plan_for(request.user, plan_id)
    form = CloseForm(request.POST)
    form.is_valid()
    return _step(request, plan.pk, lambda: services.plan_close(
        plan=plan, liaison=request.user, status=form.cleaned_data.get("status", "")),
        _("Plan closed."))


@require_POST
@member_page
def task_assign(request, plan_id):
    plan = selectors.get_plan_for(request.user, plan_id)
    form = TaskForm(request.POST, countries=[c.code for c in countries()])
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}")
        return redirect("web:plan_detail", plan_id=plan.pk)
    return _step(request, plan.pk, lambda: services.task_assign(
        plan=plan, actor=request.user, **form.cleaned_data), _("Task assigned."))


@require_POST
@member_page
def task_update(request, task_id):
    task = selectors.get_task_for(request.user, task_id)
    form = TaskUpdateForm(request.POST)
    form.is_valid()
    next_page = request.POST.get("next")
    response = _step(request, task.plan_id, lambda: services.task_update(
        task=task, actor=request.user, status=form.cleaned_data.get("status", ""),
        note=form.cleaned_data.get("note", "")), _("Task updated."))
    return redirect("web:my_tasks") if next_page == "my_tasks" else response


@require_POST
@member_page
def plan_link_case(request, plan_id):
    plan = selectors.get_plan_for(request.user, plan_id)
    return _step(request, plan.pk, lambda: services.plan_link_case(
        plan=plan, actor=request.user, case_id=request.POST.get("case", "")),
        _("Case linked. Partners see it only if they hold a share of it."))


@member_page
def my_tasks(request):
    """My country's tasks in every plan it takes part in, soonest due first."""
    status = request.GET.get("status", "")
    status = status if status in TaskStatus.values else ""
    tasks = selectors.my_country_tasks(request.user, status=status)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    attention = {t.pk: "overdue" if t.is_overdue else "due_soon"
                 for t in selectors.tasks_needing_attention(request.user)}
    for task in page.object_list:
        task.attention = attention.get(task.pk, "")
    return render(request, "plans/my_tasks.html", {
        "page": page, "statuses": TaskStatus.choices, "status": status,
        "update_form": TaskUpdateForm(), "query": f"status={status}" if status else "",
    })


# --- gaps ------------------------------------------------------------------------------------


@member_page
def gap_list(request):
    """The gaps register: the gaps that name the member's country, filtered from the URL."""
    form = GapFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    gaps = selectors.gap_list(request.user, **filters)
    page = Paginator(gaps, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "plans/gap_list.html", {"form": form, "page": page,
                                                    "query": query.urlencode()})


@member_page
def gap_create(request):
    """Record a gap, visible to the member's country and the countries it names."""
    selectors.require_plan_reader(request.user)
    plans = selectors.plan_list(request.user).filter(
        status__in=[PlanStatus.DRAFT, PlanStatus.ACTIVE])
    form = GapForm(request.POST or None, partners=_partners(request.user), plans=plans)
    if request.method == "POST" and form.is_valid():
        try:
            gap = services.gap_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Gap recorded."))
            return redirect("web:gap_detail", gap_id=gap.pk)
    return render(request, "plans/gap_form.html", {"form": form},
                  status=400 if form.errors else 200)


@member_page
def gap_detail(request, gap_id):
    """One gap, its evidence files, and marking it mitigated."""
    gap = selectors.get_gap_for(request.user, gap_id)
    if request.method == "POST":
        form = GapMitigateForm(request.POST)
        form.is_valid()
        try:
            services.gap_update(gap=gap, actor=request.user, **form.cleaned_data)
        except Conflict as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Gap marked mitigated."))
        return redirect("web:gap_detail", gap_id=gap.pk)
    return render(request, "plans/gap_detail.html", {
        "gap": gap, "plan": selectors.gap_plan(request.user, gap),
        "evidence": list(selectors.gap_evidence(gap)), "mitigate_form": GapMitigateForm(),
    })


@member_page
def gap_evidence_download(request, evidence_id):
    """A gap's evidence file, decrypted as it streams (the countries the gap names)."""
    item = selectors.get_gap_evidence_for(request.user, evidence_id)
    body = evidence.gap_evidence_open(user=request.user, evidence=item)
    return file_response(item, body)
