"""The dashboard's pages, included by web/urls.py."""

from django.urls import path

from web import dashboard_views

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/csv/<slug:slug>/", dashboard_views.dashboard_csv, name="dashboard-csv"),
    path("dashboard/import/", dashboard_views.flow_import_page, name="dashboard-import"),
]
