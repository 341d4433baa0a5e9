"""manage.py reset_mfa USERNAME: delete a member's TOTP devices; they re-enrol at sign-in."""

from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from workinggroup.models import User
from workinggroup.signin import services


class Command(BaseCommand):
    help = ("Delete a member's TOTP devices and end their sessions and tokens "
            "(audited as auth.mfa_reset); the member enrols a new device at next sign-in.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        member = User.objects.filter(username=opts["username"]).first()
        if member is None:
            raise CommandError(f"username: no member {opts['username']!r}", returncode=2)
        with system_actor("manage.py reset_mfa"):
            devices = services.member_reset_mfa(member=member, actor=None)
        self.stdout.write(f"reset {member.username}: {devices} device(s) deleted, sessions "
                          "and tokens ended; they enrol a new device at next sign-in")
