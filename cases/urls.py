"""Case endpoints under /api/v1/ (attachments add theirs beside these)."""

from django.urls import path

from cases import api

# <str:...>, not <uuid:...>: a malformed id must reach the gate and answer its audited 404.
urlpatterns = [
    path("cases/", api.CaseListCreate.as_view(), name="case-list"),
    path("cases/<str:case_id>/", api.CaseDetail.as_view(), name="case-detail"),
    path("cases/<str:case_id>/subjects/", api.CaseSubjects.as_view(), name="case-subjects"),
    path("cases/<str:case_id>/subjects/<str:subject_id>/", api.SubjectDetail.as_view(),
         name="subject-detail"),
    path("cases/<str:case_id>/subjects/<str:subject_id>/identifiers/",
         api.SubjectIdentifiers.as_view(), name="subject-identifiers"),
]
