"""Aggregate figures of joint operations for the dashboard: numbers only, never a plan, task
or case, about the plans the reader's country takes part in.

The dashboard page applies its disclosure rule to these exact numbers (a partner's task
counts rounded, the reader's own exact): `about` names whose records each number counts.
A country that takes part in no plan gets None and sees nothing of plans there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from plans.models import BorderSegment, PlanStatus, TaskStatus
from plans.selectors import plans_visible_to, reads_plans, tasks_visible_to


@dataclasses.dataclass(frozen=True)
class PlanFigures:
    """Exact counts: active plans per border segment; done and overdue tasks per country."""

    active_per_segment: dict  # segment code -> active plans the reader's country is in
    tasks_per_country: dict  # country code -> {"done": n, "overdue": m}
    about_segments: frozenset  # countries whose participation the segment counts reflect


def plan_figures(user, *, today: dt.date | None = None) -> PlanFigures | None:
    """The figures for the reader's country, or None when it takes part in no plan."""
    if not reads_plans(user):
        return None
    plans = plans_visible_to(user)
    if not plans.exists():
        return None
    today = today or timezone.localdate()
    active = list(plans.filter(status=PlanStatus.ACTIVE).values_list("border_segments",
                                                                      flat=True))
    per_segment = {s: sum(s in segments for segments in active) for s in BorderSegment.values}
    rows = (
        tasks_visible_to(user).values("country_id")
        .annotate(done=Count("pk", filter=Q(status=TaskStatus.DONE)),
                  overdue=Count("pk", filter=Q(due_on__lt=today, plan__status=PlanStatus.ACTIVE)
                                & ~Q(status=TaskStatus.DONE)))
        .order_by("country_id")
    )
    tasks = {r["country_id"]: {"done": r["done"], "overdue": r["overdue"]} for r in rows}
    # The active plans are the reader's country's own commitments: its own figure.
    return PlanFigures(per_segment, tasks, frozenset({user.country_id}))
