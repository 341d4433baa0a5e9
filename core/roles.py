"""Role checks: the one way to ask whether a member's role carries a model permission.

Django's `User.has_perm` answers True to any active superuser, and no superuser flag may
ever open anything here; so nothing in the project calls `has_perm`. Roles are Groups
carrying model-level permissions (workinggroup.members.ROLE_PERMISSIONS).
"""

from __future__ import annotations

from django.contrib.auth.models import Permission


def holds_role_permission(user, perm: str) -> bool:
    """A model-level permission ("app_label.codename") from the member's role groups."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    app_label, codename = perm.split(".")
    return Permission.objects.filter(
        group__user=user, content_type__app_label=app_label, codename=codename
    ).exists()
