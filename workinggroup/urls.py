"""URL map: the API under /api/v1/, its schema and docs, admin, and health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from workinggroup import api

api_v1 = [
    path("me/", api.me, name="me"),
    path("", include("cases.attachment_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", api.healthz, name="healthz"),
]
