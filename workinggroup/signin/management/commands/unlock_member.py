"""manage.py unlock_member USERNAME: release a username locked after repeated failures."""

from django.core.management.base import BaseCommand

from audit.context import system_actor
from workinggroup.signin import services


class Command(BaseCommand):
    help = "Release a sign-in lockout (any address); audited as auth.unlock."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        username = opts["username"]
        with system_actor("manage.py unlock_member"):
            cleared = services.member_unlock(username=username, actor=None)
        if cleared:
            self.stdout.write(f"released {username} ({cleared} failure(s) cleared)")
        else:
            self.stdout.write(f"{username} was not locked and had no failures; nothing to do")
