from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles(sender, using, **kwargs):
    """After migrate: every app's permissions exist, then role groups get theirs."""
    from django.contrib.auth.management import create_permissions

    from workinggroup.members import sync_role_groups

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups()


class WorkinggroupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workinggroup"
    verbose_name = "Working group"

    def ready(self):
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="wg-sync-roles")
