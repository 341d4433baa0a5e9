from django.apps import AppConfig


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"

    def ready(self):
        from django.db.models.signals import post_migrate

        from audit import visibility
        from cases.audit_hook import country_sees_case
        from cases.selectors import clear_grant_keys

        # A migrate or a test flush may recreate permission rows under new ids.
        post_migrate.connect(clear_grant_keys, dispatch_uid="cases-clear-grant-keys")
        # Whether an event's actor's country can see the case it names decides who reads
        # its audit entry (audit/visibility.py); audit asks, cases answers.
        visibility.register(country_sees_case)
