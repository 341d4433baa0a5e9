"""Sharing routes, included under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from sharing import api, lookup_api

router = SimpleRouter()
router.register("share-requests", api.ShareRequestViewSet, basename="share-request")

urlpatterns = [
    path("cases/<str:case_id>/shares/", api.case_shares, name="case-shares"),
    path("lookup/", lookup_api.LookupView.as_view(), name="lookup"),
    path("lookup/hits/", lookup_api.HitsOnOurCasesView.as_view(), name="lookup-hits"),
    *router.urls,
]
