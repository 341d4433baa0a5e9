from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Pages"

    def seed_demo(self) -> str:
        """Demo cases for `manage.py seed_demo` (web/demo.py)."""
        from web.demo import seed_demo_cases

        return seed_demo_cases()
