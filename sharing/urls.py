"""Sharing routes, included under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from sharing import api

router = SimpleRouter()
router.register("share-requests", api.ShareRequestViewSet, basename="share-request")

urlpatterns = [
    path("cases/<str:case_id>/shares/", api.case_shares, name="case-shares"),
    *router.urls,
]
