"""manage.py issue_token USERNAME [--hours N]: prints the token alone on stdout."""

from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from workinggroup import members
from workinggroup.models import User


class Command(BaseCommand):
    help = "Issue an API token for a member and print it (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--hours", type=int, default=None)
        parser.add_argument("--name", default="issued by manage.py issue_token")

    def handle(self, *args, **opts):
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"username: no member {opts['username']!r}", returncode=2)
        try:
            with system_actor("manage.py issue_token"):
                _, key = members.token_issue(
                    user=user, actor=None, hours=opts["hours"], name=opts["name"]
                )
        except members.MemberError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(key)
