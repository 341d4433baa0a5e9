"""Flow-figure endpoints under /api/v1/flows/."""

from django.urls import path

from dashboard import api

urlpatterns = [
    path("imports/", api.FlowImports.as_view(), name="flow-imports"),
]
