"""manage.py seed_demo: the demo working group, idempotent, printing its logins.

Besides the members, every installed app whose AppConfig has a `seed_demo()` method adds its
demo data (the pages: cases with subjects, identifiers, an evidence file and shares; see
web/demo.py). The hook keeps this command, low in the layering, from importing the apps
above it. Each hook is idempotent and returns a line saying what it made.
"""

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from workinggroup import members
from workinggroup.models import Country, User

DEMO_PASSWORD = "demo-Exchange-2026"


def demo_members():
    """(username, country, roles, oversight) of every demo member."""
    people = []
    for country in Country.objects.order_by("code"):
        cc = country.code.lower()
        people += [
            (f"{cc}.investigator1", country.code, ["investigator"], False),
            (f"{cc}.investigator2", country.code, ["investigator"], False),
            (f"{cc}.liaison", country.code, ["liaison"], False),
            # A second liaison, so the two-person rule (H2 and H3 shares) can be tried.
            (f"{cc}.liaison2", country.code, ["liaison"], False),
            (f"{cc}.auditor", country.code, ["auditor"], False),
            (f"{cc}.statistics", country.code, ["statistics"], False),
        ]
    people.append(("oversight.auditor", "US", ["auditor"], True))
    people.append(("admin", None, [members.ADMINISTRATOR], False))
    return people


class Command(BaseCommand):
    help = "Create the demo working group (skips what exists) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument(
            "--loopback-demo", action="store_true",
            help="allow DEBUG=False when every ALLOWED_HOSTS entry is a loopback address "
                 "(make serve-prod): nobody off this machine can sign in with the demo logins",
        )

    def handle(self, *args, **opts):
        if opts["loopback_demo"] and not settings.LOOPBACK_ONLY:
            raise CommandError(
                "seed_demo --loopback-demo: refused, ALLOWED_HOSTS has a non-loopback entry "
                f"({', '.join(settings.ALLOWED_HOSTS)}); demo passwords are public",
                returncode=2,
            )
        if not settings.DEBUG and not opts["loopback_demo"]:
            raise CommandError("seed_demo: refused with DEBUG=False (demo passwords are public)",
                               returncode=2)
        created = 0
        with system_actor("manage.py seed_demo"):
            for username, country, roles, oversight in demo_members():
                if User.objects.filter(username=username).exists():
                    continue
                members.member_create(username=username, password=DEMO_PASSWORD, roles=roles,
                                      country_code=country, oversight=oversight,
                                      email=f"{username}@demo.invalid")
                created += 1
            made = [hook() for hook in _demo_hooks()]
        if opts["quiet"]:
            return
        self.stdout.write(f"Demo working group ready ({created} member(s) created).")
        for line in made:
            if line:
                self.stdout.write(line)
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        for username, country, roles, oversight in demo_members():
            extra = " (trilateral oversight)" if oversight else ""
            self.stdout.write(f"  {username:<22} {country or '--':<3} {', '.join(roles)}{extra}")


def _demo_hooks():
    """The `seed_demo` methods of the installed apps' configs, in INSTALLED_APPS order."""
    return [config.seed_demo for config in apps.get_app_configs()
            if callable(getattr(config, "seed_demo", None))]
