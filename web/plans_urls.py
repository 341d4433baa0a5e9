"""Joint-operations pages, included at the site root by web/urls.py."""

from django.urls import path

from web import plans_views as views

urlpatterns = [
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/tasks/", views.my_tasks, name="my_tasks"),
    path("plans/tasks/<str:task_id>/update/", views.task_update, name="task_update"),
    path("plans/<str:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<str:plan_id>/invite/", views.plan_invite, name="plan_invite"),
    path("plans/<str:plan_id>/answer/", views.plan_answer, name="plan_answer"),
    path("plans/<str:plan_id>/activate/", views.plan_activate, name="plan_activate"),
    path("plans/<str:plan_id>/close/", views.plan_close, name="plan_close"),
    path("plans/<str:plan_id>/tasks/", views.task_assign, name="task_assign"),
    path("plans/<str:plan_id>/cases/", views.plan_link_case, name="plan_link_case"),
    path("gaps/", views.gap_list, name="gap_list"),
    path("gaps/new/", views.gap_create, name="gap_create"),
    path("gaps/<str:gap_id>/", views.gap_detail, name="gap_detail"),
    path("gap-evidence/<str:evidence_id>/", views.gap_evidence_download,
         name="gap_evidence_download"),
]
