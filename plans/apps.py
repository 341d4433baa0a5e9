from django.apps import AppConfig


class PlansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "plans"
    verbose_name = "Joint operations"

    def ready(self):
        from cases.key_rotation import register_encrypted_files
        from plans.evidence import GAP_EVIDENCE

        register_encrypted_files(GAP_EVIDENCE)
