"""The auditor API under /api/v1/audit/."""

from django.urls import path

from audit import api

urlpatterns = [
    path("entries/", api.EntryList.as_view(), name="audit-entries"),
    path("export/", api.Export.as_view(), name="audit-export"),
    path("verify/", api.Verify.as_view(), name="audit-verify"),
    path("checkpoints/", api.CheckpointList.as_view(), name="audit-checkpoints"),
]
