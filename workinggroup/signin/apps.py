from django.apps import AppConfig


class SigninConfig(AppConfig):
    """Sign-in, MFA, lockout and per-member session records."""

    name = "workinggroup.signin"
    label = "signin"
    verbose_name = "Sign-in"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from workinggroup.signin import receivers  # noqa: F401 (connects signal receivers)
