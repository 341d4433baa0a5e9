from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def seed_demo(self) -> str:
        """seed_demo's hook: 24 months of demonstration flow figures per country, once."""
        from dashboard.demo import seed_flows

        loaded = seed_flows()
        return f"Dashboard: demonstration flow figures loaded for {loaded} country(ies)."
