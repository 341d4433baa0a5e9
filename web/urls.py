"""The pages' URL map, included at the site root by workinggroup/urls.py.

Ids are matched as plain text: whether an id names a case the member may see (and a
malformed one is just another unseen id) is the gate's answer, not the URL resolver's.
"""

from django.urls import include, path

from web import (
    audit_views,
    case_views,
    evidence_views,
    liaison_views,
    notification_views,
    sharing_views,
    views,
)

app_name = "web"
urlpatterns = [
    path("", views.start, name="start"),
    path("cases/", case_views.case_list, name="case_list"),
    path("cases/new/", case_views.case_create, name="case_create"),
    path("cases/<str:case_id>/", case_views.case_detail, name="case_detail"),
    path("cases/<str:case_id>/edit/", case_views.case_edit, name="case_edit"),
    path("cases/<str:case_id>/subjects/new/", case_views.subject_add, name="subject_add"),
    path("cases/<str:case_id>/subjects/<str:subject_id>/edit/", case_views.subject_edit,
         name="subject_edit"),
    path("cases/<str:case_id>/evidence/", evidence_views.evidence_upload,
         name="evidence_upload"),
    path("cases/<str:case_id>/offer/", sharing_views.case_offer, name="case_offer"),
    path("evidence/<str:attachment_id>/", evidence_views.evidence_download,
         name="evidence_download"),
    path("lookup/", sharing_views.lookup_page, name="lookup"),
    path("lookup/ask/", sharing_views.ask_for_access, name="ask"),
    path("requests/", sharing_views.requests_page, name="requests"),
    path("requests/<str:request_id>/", sharing_views.request_detail, name="request_detail"),
    path("requests/<str:request_id>/renew/", sharing_views.request_renew,
         name="request_renew"),
    path("notifications/", notification_views.notification_centre, name="notifications"),
    path("liaison/", liaison_views.inbox, name="liaison_inbox"),
    path("liaison/requests/<str:request_id>/decide/", liaison_views.decide,
         name="liaison_decide"),
    path("liaison/hits/", liaison_views.hits, name="liaison_hits"),
    path("liaison/grants/", liaison_views.grants, name="liaison_grants"),
    path("liaison/grants/<str:request_id>/revoke/", liaison_views.revoke,
         name="liaison_revoke"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/entries/<str:seq>/", audit_views.audit_entry, name="audit_entry"),
    path("audit/cases/<str:case_id>/", audit_views.case_trail, name="audit_trail"),
    path("audit/verify/", audit_views.audit_verify, name="audit_verify"),
    path("audit/export.jsonl", audit_views.audit_export, {"kind": "jsonl"},
         name="audit_export_jsonl"),
    path("audit/export.csv", audit_views.audit_export, {"kind": "csv"}, name="audit_export_csv"),
    path("", include("web.plans_urls")),
    path("", include("web.dashboard_urls")),
]
