"""The dashboard's joint-operations panels: plans.figures' exact numbers turned into the
dashboard's tables through its disclosure rule (the reader's own counts exact, partners'
rounded). A country that takes part in no plan gets no panel at all."""

from __future__ import annotations

from django.utils.translation import gettext as _

from dashboard.disclosure import OPERATIONAL, Axis, RawTable, Table, disclose
from plans.figures import plan_figures
from plans.models import BorderSegment

PLAN_SLUGS = ("plans-segment", "plans-tasks")


def plan_tables(user, *, publication: bool = False) -> list[Table]:
    """The panels for the member's dashboard: [] when their country is in no plan."""
    figures = plan_figures(user)
    if figures is None:
        return []
    viewer = user.country_id
    segments = RawTable(
        "plans-segment", _("Active joint plans per border segment"),
        _("Active plans your country takes part in, by the border segments they cover (a plan "
          "may cover both)."), _("plans"), OPERATIONAL,
        [Axis(s.value, str(s.label), figures.about_segments) for s in BorderSegment],
        [Axis("active", _("Active plans"), figures.about_segments)],
        {(s, "active"): n for s, n in figures.active_per_segment.items()}, totals=False)
    countries = sorted(figures.tasks_per_country)
    tasks = RawTable(
        "plans-tasks", _("Plan tasks done and overdue per country"),
        _("Tasks of the plans your country takes part in, by the country they are assigned "
          "to: done, and overdue (past their due date in an active plan, not done)."),
        _("tasks"), OPERATIONAL,
        [Axis(c, c, frozenset({c})) for c in countries],
        [Axis("done", _("Done")), Axis("overdue", _("Overdue"))],
        {(c, k): figures.tasks_per_country[c][k] for c in countries for k in ("done", "overdue")},
        totals=False)
    return [disclose(raw, viewer_country=viewer, publication=publication)
            for raw in (segments, tasks)]
