from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def seed_demo(self) -> str:
        """The dashboard's 24 demo months for `manage.py seed_demo` (dashboard/demo.py); the
        command finds this hook on the app config, as workinggroup may not import dashboard."""
        from dashboard.demo import seed_flows

        loaded = seed_flows()
        return f"Demo flow figures loaded for {loaded} country(ies)." if loaded else ""
