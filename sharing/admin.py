"""Share requests in the admin: read-only metadata (who, which reference, what, until when);
and the approval policy, the one thing about shares an administrator changes.

No justification, notes or case content: administering is not a way to read cases.
"""

from django import forms
from django.contrib import admin

from sharing import policy
from sharing.models import SharePolicy, ShareRequest


@admin.register(ShareRequest)
class ShareRequestAdmin(admin.ModelAdmin):
    list_display = [
        "id", "case_reference", "owner_country", "recipient_country", "scope", "status",
        "origin", "created_at", "expires_at",
    ]
    list_filter = ["status", "scope", "origin", "recipient_country"]
    fields = [
        "id", "case_reference", "owner_country", "recipient_country", "scope", "origin",
        "status", "approvals_required", "renews", "requested_by", "created_at", "expires_at",
        "decided_by", "decided_at", "revoked_by", "revoked_at",
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


class SharePolicyForm(forms.ModelForm):
    """The policy's numbers, checked by the same rule as the service (never below 1)."""

    class Meta:
        model = SharePolicy
        fields = ["owner_country", "handling_code", "approvals_required"]

    def clean_approvals_required(self):
        value = self.cleaned_data["approvals_required"]
        problem = policy.approvals_error(value)
        if problem:
            raise forms.ValidationError(problem)
        return value


@admin.register(SharePolicy)
class SharePolicyAdmin(admin.ModelAdmin):
    """How many liaisons approve a country's shares, per handling code; every change goes
    through sharing.policy.share_policy_update (audited as share.policy_update). Without a
    row a code needs the default: 1 for H0 and H1, 2 for H2 and H3."""

    form = SharePolicyForm
    list_display = ["owner_country", "handling_code", "approvals_required"]
    list_filter = ["owner_country", "handling_code"]

    def get_readonly_fields(self, request, obj=None):
        return ["owner_country", "handling_code"] if obj else []

    def save_model(self, request, obj, form, change):
        saved = policy.share_policy_update(
            actor=request.user, owner_country=obj.owner_country_id,
            handling_code=obj.handling_code, approvals_required=obj.approvals_required,
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # back to the default is a change to the default's number, audited
