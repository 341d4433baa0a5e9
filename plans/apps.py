from django.apps import AppConfig


class PlansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "plans"
    verbose_name = "Joint operations"

    def ready(self):
        from cases.key_rotation import register_key_user

        register_key_user(gap_evidence_under)


def gap_evidence_under(key_id: str) -> int:
    """Gap evidence files whose data key a key-encryption key still wraps."""
    from plans.models import GapEvidence

    return GapEvidence.objects.filter(key_id=key_id).count()
