"""Attachment routes, included under /api/v1/ (ids are parsed by the views: bad ones 404)."""

from django.urls import path

from cases.attachment_api import AttachmentContentView, CaseAttachmentsView

urlpatterns = [
    path(
        "cases/<str:case_id>/attachments/",
        CaseAttachmentsView.as_view(),
        name="case-attachments",
    ),
    path(
        "attachments/<str:attachment_id>/content/",
        AttachmentContentView.as_view(),
        name="attachment-content",
    ),
]
