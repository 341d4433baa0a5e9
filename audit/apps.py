from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"

    def ready(self):
        from audit import witness_checks  # noqa: F401 - registers the witnessed log's checks
