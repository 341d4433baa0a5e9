"""Django admin with the working group's site: it requires an MFA-verified session."""

from django.contrib.admin.apps import AdminConfig


class MemberAdminConfig(AdminConfig):
    default_site = "workinggroup.signin.admin_site.MemberAdminSite"
