"""Joint-operations routes, included under /api/v1/."""

from django.urls import path

from plans import api

urlpatterns = [
    path("plans/", api.PlanListView.as_view(), name="plan-list"),
    path("plans/invitations/", api.InvitationListView.as_view(), name="plan-invitations"),
    path("plans/<str:plan_id>/", api.PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<str:plan_id>/invite/", api.PlanInviteView.as_view(), name="plan-invite"),
    path("plans/<str:plan_id>/join/", api.PlanJoinView.as_view(), name="plan-join"),
    path("plans/<str:plan_id>/decline/", api.PlanDeclineView.as_view(), name="plan-decline"),
    path("plans/<str:plan_id>/activate/", api.PlanActivateView.as_view(), name="plan-activate"),
    path("plans/<str:plan_id>/close/", api.PlanCloseView.as_view(), name="plan-close"),
    path("plans/<str:plan_id>/timeline/", api.PlanTimelineView.as_view(), name="plan-timeline"),
    path("plans/<str:plan_id>/cases/", api.PlanCasesView.as_view(), name="plan-cases"),
    path("plans/<str:plan_id>/tasks/", api.PlanTasksView.as_view(), name="plan-tasks"),
    path("tasks/", api.MyTasksView.as_view(), name="task-list"),
    path("tasks/<str:task_id>/", api.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<str:task_id>/updates/", api.TaskUpdatesView.as_view(), name="task-updates"),
    path("gaps/", api.GapListView.as_view(), name="gap-list"),
    path("gaps/<str:gap_id>/", api.GapDetailView.as_view(), name="gap-detail"),
    path("gaps/<str:gap_id>/evidence/", api.GapEvidenceView.as_view(), name="gap-evidence"),
    path("gap-evidence/<str:evidence_id>/content/", api.GapEvidenceContentView.as_view(),
         name="gap-evidence-content"),
]
