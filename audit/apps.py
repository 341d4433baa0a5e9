from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"

    def ready(self):
        # Register the Celery tasks in every process, web ones included: audit.recording
        # asks for the drain task by name (it does not import audit.tasks, which imports it),
        # and Celery autodiscovers tasks only in workers.
        from audit import (
            tasks,  # noqa: F401
            witness_checks,  # noqa: F401 - registers the witnessed log's checks
        )
