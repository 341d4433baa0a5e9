"""Reading plans, tasks, linked cases and gaps: one gate per object kind.

Only investigators and liaisons of a country read joint operations: auditors and
administrators get 403 on any plan, task or gap (auditors read the plans' audit trail
through the audit log; administrators nothing). Among readers:

- a plan, its tasks and its timeline are seen by the members of its participating
  countries (lead country and every country whose liaison accepted); anyone else gets 404;
- an invitation (the plan's header, to decide on) by the invited country's members;
- a linked case only when the case gate already shows it to the reader (a share or their
  own case), and otherwise nothing at all: it is filtered out before anything counts it;
- a gap by the members of the countries it names; anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from cases.permissions import SUMMARY
from cases.selectors import visible_cases
from plans.models import (
    OPEN_PLAN_STATUSES,
    Gap,
    GapCountry,
    GapEvidence,
    Participation,
    ParticipationStatus,
    Plan,
    PlanCase,
    PlanStatus,
    Task,
    TaskStatus,
    TaskUpdate,
)

DUE_SOON_DAYS = 7  # a task due within this many days is "due soon"
TIMELINE_TARGETS = ("plans.plan", "plans.task")


class NotFound(Http404):
    """Unseen, missing or malformed: one answer, so existence never leaks (a 404)."""

    def __init__(self):
        super().__init__(_("Not found."))


def reads_plans(user) -> bool:
    """Investigators and liaisons of a country take part in joint operations."""
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.country_id
        and (user.is_investigator or user.is_liaison)
    )


def require_plan_reader(user) -> None:
    """The role half of every gate here: 403 before any object is looked at."""
    if not reads_plans(user):
        if getattr(user, "is_authenticated", False) and user.has_role("auditor"):
            raise PermissionDenied(_("auditors read plans' audit trail, not their content"))
        raise PermissionDenied(_("only investigators and liaisons take part in joint operations"))


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


def participant_countries(plan: Plan) -> list[str]:
    """The codes of the countries taking part (accepted), the lead country among them."""
    return sorted(
        plan.participations.filter(status=ParticipationStatus.ACCEPTED)
        .values_list("country_id", flat=True)
    )


def _takes_part(country_code) -> Exists:
    return Exists(Participation.objects.filter(
        plan=OuterRef("pk"), country_id=country_code, status=ParticipationStatus.ACCEPTED
    ))


# --- plans -----------------------------------------------------------------------------------


def plans_visible_to(user) -> QuerySet[Plan]:
    """The plans the user's country takes part in, newest first (none for other roles)."""
    if not reads_plans(user):
        return Plan.objects.none()
    return Plan.objects.filter(_takes_part(user.country_id)).select_related("lead_country")


def plan_list(user, *, status: str = "", border_segment: str = "") -> QuerySet[Plan]:
    """The plans page and API list: visible plans, filtered by status and border segment."""
    require_plan_reader(user)
    plans = plans_visible_to(user)
    if status:
        plans = plans.filter(status=status)
    if border_segment:
        plans = plans.filter(border_segments__contains=border_segment)
    return plans


def get_plan_for(user, plan_id) -> Plan:
    """One plan the user's country takes part in (403 for other roles, 404 otherwise)."""
    require_plan_reader(user)
    plan = plans_visible_to(user).filter(pk=_uuid(plan_id)).first()
    if plan is None:
        raise NotFound()
    return plan


def participations_of(plan: Plan) -> QuerySet[Participation]:
    """Every country's place in a plan a reader sees: taking part, invited or declined.

    The participants' auditors read each invitation and answer (plans/services.py), so the
    participants see them too; a declining country itself sees nothing more of the plan.
    """
    return plan.participations.select_related("country", "decided_by")


def invitations_for(user) -> QuerySet[Participation]:
    """Open invitations to the user's country, oldest first, with their plans' headers."""
    if not reads_plans(user):
        return Participation.objects.none()
    return (
        Participation.objects.filter(
            country_id=user.country_id, status=ParticipationStatus.INVITED,
            plan__status__in=OPEN_PLAN_STATUSES,
        )
        .select_related("plan", "plan__lead_country", "invited_by")
        .order_by("invited_at")
    )


def get_invitation_for(user, plan_id) -> Participation:
    """The user's country's participation row in a plan it was invited to, whatever its
    state (the service decides whether it can still be answered); 404 when never invited."""
    require_plan_reader(user)
    participation = (
        Participation.objects.filter(plan_id=_uuid(plan_id), country_id=user.country_id)
        .select_related("plan", "plan__lead_country", "invited_by")
        .first()
    )
    if participation is None:
        raise NotFound()
    return participation


# --- tasks -----------------------------------------------------------------------------------


def _with_updates(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related("country", "assignee", "plan").prefetch_related(
        Prefetch("updates", queryset=TaskUpdate.objects.select_related("author"))
    )


def tasks_of(plan: Plan) -> QuerySet[Task]:
    """Every task of a plan the reader sees (all countries' tasks: status is shared)."""
    return _with_updates(plan.tasks.all())


def tasks_visible_to(user) -> QuerySet[Task]:
    """Tasks of the plans the user's country takes part in."""
    if not reads_plans(user):
        return Task.objects.none()
    return Task.objects.filter(plan__in=plans_visible_to(user).values("pk"))


def my_country_tasks(user, *, status: str = "", plan_status: str = "") -> QuerySet[Task]:
    """The user's country's tasks in every plan it takes part in, soonest due first."""
    require_plan_reader(user)
    tasks = tasks_visible_to(user).filter(country_id=user.country_id)
    if status:
        tasks = tasks.filter(status=status)
    if plan_status:
        tasks = tasks.filter(plan__status=plan_status)
    return _with_updates(tasks)


def get_task_for(user, task_id) -> Task:
    """One task of a plan the user's country takes part in (404 otherwise)."""
    require_plan_reader(user)
    task = _with_updates(tasks_visible_to(user)).filter(pk=_uuid(task_id)).first()
    if task is None:
        raise NotFound()
    return task


def tasks_needing_attention(user, *, today: dt.date | None = None) -> QuerySet[Task]:
    """Overdue and due-soon tasks of the user's country in active plans, for the notification
    centre: not done, due before today + DUE_SOON_DAYS. `is_overdue` is set on each."""
    if not reads_plans(user):
        return Task.objects.none()
    today = today or timezone.localdate()
    tasks = (
        tasks_visible_to(user)
        .filter(country_id=user.country_id, plan__status=PlanStatus.ACTIVE,
                due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
        .exclude(status=TaskStatus.DONE)
        .select_related("plan")
    )
    result = list(tasks)
    for task in result:
        task.is_overdue = task.due_on < today
    return result


# --- linked cases ----------------------------------------------------------------------------


def linked_cases(user, plan: Plan) -> QuerySet[PlanCase]:
    """The plan's case links whose case the reader's country sees through the case gate.

    A link to a case the reader cannot see is filtered out in the query itself: nothing is
    counted, named or dated from it.
    """
    if not reads_plans(user):
        return PlanCase.objects.none()
    seen = Exists(visible_cases(user, SUMMARY).filter(pk=OuterRef("case_id")))
    return plan.case_links.filter(seen).select_related("case", "case__owner_country",
                                                       "linked_by")


# --- gaps ------------------------------------------------------------------------------------


def gaps_visible_to(user) -> QuerySet[Gap]:
    """The gaps that name the user's country, newest first (none for other roles)."""
    if not reads_plans(user):
        return Gap.objects.none()
    named = GapCountry.objects.filter(gap=OuterRef("pk"), country_id=user.country_id)
    return Gap.objects.filter(Exists(named)).select_related("country", "plan")


def gap_list(user, *, status="", border_segment="", kind="", severity="", plan_id=None):
    """The gaps register, filtered; a plan filter only narrows to plans the user sees."""
    require_plan_reader(user)
    gaps = gaps_visible_to(user).prefetch_related("countries")
    for field, value in (("status", status), ("border_segment", border_segment),
                         ("kind", kind), ("severity", severity)):
        if value:
            gaps = gaps.filter(**{field: value})
    if plan_id:
        gaps = gaps.filter(plan__in=plans_visible_to(user).filter(pk=_uuid(plan_id)))
    return gaps


def get_gap_for(user, gap_id) -> Gap:
    """One gap that names the user's country (404 otherwise)."""
    require_plan_reader(user)
    gap = gaps_visible_to(user).prefetch_related("countries").filter(pk=_uuid(gap_id)).first()
    if gap is None:
        raise NotFound()
    return gap


def gap_plan(user, gap: Gap) -> Plan | None:
    """The plan addressing a gap, only if the reader's country takes part in it."""
    if gap.plan_id is None:
        return None
    return plans_visible_to(user).filter(pk=gap.plan_id).first()


def gap_evidence(gap: Gap) -> QuerySet[GapEvidence]:
    """A visible gap's evidence files (metadata)."""
    return gap.evidence.select_related("uploaded_by")


def get_gap_evidence_for(user, evidence_id) -> GapEvidence:
    """An evidence file of a gap that names the user's country (404 otherwise)."""
    require_plan_reader(user)
    evidence = GapEvidence.objects.filter(
        pk=_uuid(evidence_id), gap__in=gaps_visible_to(user).values("pk")
    ).select_related("gap").first()
    if evidence is None:
        raise NotFound()
    return evidence


# --- the plan's timeline ---------------------------------------------------------------------


def plan_timeline(user, plan: Plan) -> QuerySet[AuditEntry]:
    """The plan's audit-worthy steps, oldest first, as the reader's country's auditors read
    them: the chained entries about the plan and its tasks that list the country among their
    readers. A case link is read by the linking country alone, so it never appears to others.
    """
    task_ids = [str(pk) for pk in plan.tasks.values_list("pk", flat=True)]
    about = Q(target_type="plans.plan", target_id=str(plan.pk)) | Q(
        target_type="plans.task", target_id__in=task_ids
    )
    return (
        AuditEntry.objects.filter(about, readers__contains=user.country_id,
                                  outcome="success")
        .only("seq", "occurred_at", "actor", "actor_country", "action", "details")
        .order_by("seq")
    )
