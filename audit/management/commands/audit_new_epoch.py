"""manage.py audit_new_epoch: after restoring the database from a backup, start a new epoch.

Prints the new origin and the log's key for it, which each country's witness operator adds
with `run_witness ... --trust-log <vkey>` (see docs/operations.md).
"""

from django.core.management.base import BaseCommand

from audit import epochs, witnessing
from audit.context import system_actor


class Command(BaseCommand):
    help = "Start a new epoch (origin line) of the witnessed audit log after a restore."

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="restored from a backup",
                            help="why, recorded in the epoch's first entry")

    def handle(self, *args, **opts):
        with system_actor("manage.py audit_new_epoch"):
            epoch = epochs.start_new_epoch(reason=opts["reason"])
            note = witnessing.witness_checkpoint()
        self.stdout.write(f"epoch {epoch.number}: origin {epoch.origin}, first entry "
                          f"#{epoch.restore_entry_seq}")
        self.stdout.write(f"log key for the witnesses: {witnessing.log_vkey(epoch.origin)}")
        if note is not None:
            self.stdout.write(f"signed checkpoint note at size {note.size}")
