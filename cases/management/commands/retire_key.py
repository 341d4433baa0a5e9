"""manage.py retire_key KEY_ID: remove an old key-encryption key once nothing needs it."""

from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from cases import key_rotation


class Command(BaseCommand):
    help = "Remove a country's old key-encryption key from WG_KEYRING; refused while in use."

    def add_arguments(self, parser):
        parser.add_argument("key_id")

    def handle(self, *args, **opts):
        with system_actor("manage.py retire_key"):
            try:
                country = key_rotation.key_retire(key_id=opts["key_id"])
            except key_rotation.RetireRefused as exc:
                raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(f"{country}: retired key {opts['key_id']}")
