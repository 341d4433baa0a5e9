"""URL map: the API under /api/v1/, its schema and docs, admin, sign-in, and health."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from workinggroup import api, health

api_v1 = [
    path("me/", api.me, name="me"),
    path("", include("cases.urls")),
    path("", include("sharing.urls")),
    path("audit/", include("audit.urls")),
    path("", include("cases.attachment_urls")),
    path("", include("plans.urls")),
    path("flows/", include("dashboard.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health.healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    path("healthz/ready", health.ready, name="healthz-ready"),
    path("", include("workinggroup.signin.urls")),
    path("", include("web.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", RedirectView.as_view(pattern_name="signin:account"), name="home"),
]
