"""Django admin for members, countries and tokens; every change goes through a service."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group

from workinggroup import members
from workinggroup.models import ApiToken, Country, User
from workinggroup.signin import services as signin

admin.site.site_header = "Working Group Exchange administration"
admin.site.unregister(Group)  # groups are derived from countries and roles, never hand-edited


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_es"]
    fields = ["code", "name_en", "name_es"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            members.country_update(
                country=obj, name_en=obj.name_en, name_es=obj.name_es, actor=request.user
            )
        else:
            created = members.country_create(
                code=obj.code, name_en=obj.name_en, name_es=obj.name_es, actor=request.user
            )
            obj.pk, obj.group = created.pk, created.group

    def has_delete_permission(self, request, obj=None):
        return False


class MemberForm(forms.ModelForm):
    """Country, roles and status; the groups behind them are set by one service."""

    roles = forms.MultipleChoiceField(
        choices=[(r, r) for r in members.ROLE_NAMES], widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, help_text="Only when creating a member."
    )

    class Meta:
        model = User
        fields = ["username", "email", "first_name", "last_name", "country", "oversight",
                  "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = self.instance.roles
            del self.fields["password"]

    def clean(self):
        data = super().clean()
        country = data.get("country")
        try:
            members.validate_member(
                country_code=country.code if country else None,
                roles=data.get("roles") or [],
                oversight=data.get("oversight", False),
                username=None if self.instance.pk else data.get("username"),
                password=None if self.instance.pk else data.get("password"),
            )
        except members.MemberError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(User)
class MemberAdmin(admin.ModelAdmin):
    form = MemberForm
    list_display = ["username", "country", "role_list", "oversight", "is_active", "last_login"]
    list_filter = ["country", "is_active", "oversight"]
    search_fields = ["username", "email"]
    actions = ["disable_members", "end_sessions", "release_lockout", "reset_mfa"]

    @admin.display(description="roles")
    def role_list(self, obj):
        return ", ".join(obj.roles)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # The form drops its password field for an existing member; so must the fieldset.
        return [f for f in fields if f != "password"] if obj else fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        country = data.get("country")
        if change:
            members.member_update(
                member=obj,
                actor=request.user,
                country_code=country.code if country else None,
                roles=data["roles"],
                oversight=data["oversight"],
                is_active=data["is_active"],
                email=data.get("email"),
                first_name=data.get("first_name"),
                last_name=data.get("last_name"),
            )
        else:
            created = members.member_create(
                username=data["username"],
                password=data["password"],
                roles=data["roles"],
                country_code=country.code if country else None,
                email=data.get("email", ""),
                oversight=data["oversight"],
                actor=request.user,
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        pass  # groups are set by the member services above

    @admin.action(description="Disable: end sign-in, sessions and tokens now")
    def disable_members(self, request, queryset):
        for member in queryset:
            members.member_disable(member=member, actor=request.user)
        self.message_user(request, f"Disabled {queryset.count()} member(s).", messages.SUCCESS)

    @admin.action(description="End sessions: sign out everywhere and revoke every token now")
    def end_sessions(self, request, queryset):
        for member in queryset:
            signin.member_sessions_end(member=member, actor=request.user)
        self.message_user(request, f"Ended the sessions and tokens of {queryset.count()} "
                          "member(s).", messages.SUCCESS)

    @admin.action(description="Release a sign-in lockout")
    def release_lockout(self, request, queryset):
        released = [m.username for m in queryset
                    if signin.member_unlock(username=m.username, actor=request.user)]
        self.message_user(request, f"Released: {', '.join(released) or 'nobody was locked'}.",
                          messages.SUCCESS)

    @admin.action(description="Reset MFA: delete TOTP devices; the member enrols again")
    def reset_mfa(self, request, queryset):
        for member in queryset:
            signin.member_reset_mfa(member=member, actor=request.user)
        self.message_user(request, f"Reset MFA of {queryset.count()} member(s).",
                          messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False  # members are disabled, never deleted: the audit trail names them


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    fields = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            members.token_revoke(token=token, actor=request.user)

    def has_add_permission(self, request):
        return False  # tokens are minted by an MFA-verified member or `issue_token`

    def has_delete_permission(self, request, obj=None):
        return False
