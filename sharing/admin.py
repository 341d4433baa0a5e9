"""Share requests in the admin: read-only metadata (who, which reference, what, until when).

No justification, notes or case content: administering is not a way to read cases.
"""

from django.contrib import admin

from sharing.models import ShareRequest


@admin.register(ShareRequest)
class ShareRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id", "case_reference", "owner_country", "recipient_country", "scope", "status",
        "origin", "created_at", "expires_at",
    ]
    list_filter = ["status", "scope", "origin", "recipient_country"]
    fields = [
        "id", "case_reference", "owner_country", "recipient_country", "scope", "origin",
        "status", "requested_by", "created_at", "expires_at", "decided_by", "decided_at",
        "revoked_by", "revoked_at",
    ]
    readonly_fields = fields
    list_select_related = ["case"]
    ordering = ["-created_at"]

    @admin.display(description="case", ordering="case__reference")
    def case_reference(self, obj):
        return obj.case.reference

    @admin.display(description="owner country")
    def owner_country(self, obj):
        return obj.case.owner_country_id

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
