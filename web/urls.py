"""The pages' URL map, included at the site root by workinggroup/urls.py."""

from django.urls import include, path

app_name = "web"
urlpatterns: list = [
    path("", include("web.dashboard_urls")),
]
