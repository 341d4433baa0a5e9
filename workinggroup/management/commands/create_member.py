"""manage.py create_member USERNAME --country CC --role R [--role R2] --password-file F"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from workinggroup import members


class Command(BaseCommand):
    help = "Create a member of the working group (exit 2 and create nothing on bad input)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--country", help="ISO alpha-2 code (not for administrators)")
        parser.add_argument("--role", action="append", required=True, dest="roles",
                            help=f"one of {', '.join(members.ROLE_NAMES)}; repeatable")
        parser.add_argument("--password-file", required=True, type=Path)
        parser.add_argument("--email", default="")
        parser.add_argument("--oversight", action="store_true",
                            help="trilateral oversight auditor (auditors only)")

    def handle(self, *args, **opts):
        try:
            password = opts["password_file"].read_text().rstrip("\r\n")
        except OSError as exc:
            message = f"password-file: cannot read it ({exc.strerror})"
            raise CommandError(message, returncode=2) from None
        try:
            with system_actor("manage.py create_member"):
                user = members.member_create(
                    username=opts["username"],
                    password=password,
                    roles=opts["roles"],
                    country_code=opts["country"],
                    email=opts["email"],
                    oversight=opts["oversight"],
                )
        except members.MemberError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"created {user.username} ({user.country_id or 'no country'}: "
                          f"{', '.join(user.roles)})")
