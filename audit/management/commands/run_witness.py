"""Run one country's audit-log witness (C2SP tlog-witness) as its own process.

It uses no database and no project setting: only its --state directory and its key there.
See audit/witness_server.py and docs/audit.md ("Running a country's witness").
"""

from django.core.management.base import BaseCommand

from audit import witness_server


class Command(BaseCommand):
    help = "Run a C2SP tlog-witness for the audit log (its own key and state directory)."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        witness_server.add_arguments(parser)

    def handle(self, *args, **options):
        code = witness_server.run(_Options(options))
        if code:
            raise SystemExit(code)


class _Options:
    """argparse-style attribute access to the command's options."""

    def __init__(self, options):
        self.__dict__.update(options)
