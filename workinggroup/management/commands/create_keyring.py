"""manage.py create_keyring PATH: a fresh production keyring, mode 0600, never overwriting."""

from django.core.management.base import BaseCommand, CommandError

from audit import record
from audit.context import system_actor
from core import keyring
from workinggroup.models import Country


class Command(BaseCommand):
    help = "Write a new keyring (a KEK per country, audit signing key, lookup key)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--country", action="append", dest="countries",
                            help="country codes (default: every country in the database)")

    def handle(self, *args, **opts):
        countries = opts["countries"] or list(Country.objects.values_list("code", flat=True))
        countries = [c.upper() for c in countries] or list(keyring.DEFAULT_COUNTRIES)
        try:
            keyring.write(opts["path"], keyring.generate(countries))
        except FileExistsError:
            raise CommandError(f"path: {opts['path']} exists; refusing to overwrite a keyring",
                               returncode=2) from None
        except OSError as exc:
            raise CommandError(f"path: cannot write {opts['path']} ({exc.strerror})",
                               returncode=2) from None
        with system_actor("manage.py create_keyring"):
            record("key.create", None, countries=countries)
        self.stdout.write(f"wrote keyring for {', '.join(countries)} to {opts['path']} (mode 0600)")
