"""Sharing routes, included under /api/v1/ (the share-request router is built in
sharing/api.py: only the API modules import rest_framework)."""

from django.urls import path

from sharing import api, lookup_api

urlpatterns = [
    path("cases/<str:case_id>/shares/", api.case_shares, name="case-shares"),
    path("lookup/", lookup_api.LookupView.as_view(), name="lookup"),
    path("lookup/hits/", lookup_api.HitsOnOurCasesView.as_view(), name="lookup-hits"),
    *api.router.urls,
]
