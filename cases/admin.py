"""Django admin for cases: administration metadata only, read-only.

Administrators count and find cases by reference; they never see a title, summary, subject,
identifier or file here, so administration is not a side door to case content. Nothing can
be added, changed or deleted: every write is a service with its audit record.
"""

from django.contrib import admin
from django.db.models import Count

from cases.models import Case

METADATA_FIELDS = [
    "reference",
    "owner_country",
    "status",
    "case_type",
    "handling_code",
    "created_at",
    "updated_at",
    "subject_count",
]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = METADATA_FIELDS
    fields = METADATA_FIELDS
    readonly_fields = METADATA_FIELDS
    list_filter = ["owner_country", "status", "case_type", "handling_code", "year"]
    search_fields = ["=reference"]  # exact reference only: no search over case text
    ordering = ["-id"]
    list_select_related = False
    show_full_result_count = False  # one COUNT per page is enough at 100,000 cases

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .only("id", *[f for f in METADATA_FIELDS if f != "subject_count"])
            .annotate(subjects_total=Count("subjects", distinct=True))
        )

    @admin.display(description="subjects", ordering="subjects_total")
    def subject_count(self, obj):
        return obj.subjects_total

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
