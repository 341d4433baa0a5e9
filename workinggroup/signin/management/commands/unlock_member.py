"""manage.py unlock_member USERNAME: release a username locked after repeated failures."""

from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from workinggroup.models import User
from workinggroup.signin import services


class Command(BaseCommand):
    help = "Release a sign-in lockout (any address); audited as auth.unlock."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        username = opts["username"]
        if not User.objects.filter(username=username).exists():
            # Like every other command: an unknown member is an error, not "nothing to do".
            raise CommandError(f"username: no member {username!r}", returncode=2)
        with system_actor("manage.py unlock_member"):
            cleared = services.member_unlock(username=username, actor=None)
        if cleared:
            self.stdout.write(f"released {username} ({cleared} failure(s) cleared)")
        else:
            self.stdout.write(f"{username} was not locked and had no failures; nothing to do")
