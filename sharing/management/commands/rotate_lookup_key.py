"""manage.py rotate_lookup_key: a new lookup key, and every blind index recomputed under it.

Resumable: while identifiers remain under an older key the command continues that rotation
instead of adding yet another key. Lookups keep matching throughout, because they compute
the index under every key in the keyring. `--retire` removes old keys once nothing uses them.
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

import audit
from audit.context import system_actor
from cases.models import Identifier
from core import keyring
from sharing.lookup import rotate_index


class Command(BaseCommand):
    help = "Rotate the hit/no-hit lookup key and recompute every blind index (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--retire", action="store_true",
                            help="after re-indexing, remove lookup keys no identifier uses")

    def handle(self, *args, **opts):
        path = settings.WG_KEYRING
        ring = keyring.reload()
        primary_id, _ = ring.primary_lookup_key()
        pending = Identifier.objects.exclude(lookup_key_id=primary_id)
        if not pending.exists():
            data = keyring.read(path)
            primary_id = keyring.add_key(data, "lookup")
            keyring.write(path, data, overwrite=True)
            ring = keyring.reload()
            self.stdout.write(f"new lookup key {primary_id}")
        else:
            self.stdout.write(f"resuming rotation to {primary_id}")
        key = ring.lookup_key(primary_id)
        total, done = pending.count(), 0
        with system_actor("manage.py rotate_lookup_key"):
            while True:
                with transaction.atomic():
                    batch = list(
                        Identifier.objects.select_for_update(skip_locked=True)
                        .exclude(lookup_key_id=primary_id).order_by("pk")[: opts["batch_size"]]
                    )
                    if not batch:
                        break
                    for identifier in batch:
                        rotate_index(identifier, primary_id, key)
                    Identifier.objects.bulk_update(batch, ["blind_index", "lookup_key_id"])
                done += len(batch)
                if sys.stdout.isatty():
                    self.stdout.write(f"\r  {done}/{total} identifiers re-indexed", ending="")
            if sys.stdout.isatty():
                self.stdout.write("")
            retired = self._retire(path, primary_id) if opts["retire"] else []
            audit.record("lookup_key.rotate", None, key_id=primary_id, reindexed=done,
                         retired=retired)
        self.stdout.write(f"re-indexed {done} identifier(s) under {primary_id}"
                          + (f"; retired {', '.join(retired)}" if retired else ""))

    def _retire(self, path, primary_id):
        in_use = set(Identifier.objects.values_list("lookup_key_id", flat=True).distinct())
        data = keyring.read(path)
        old = [k for k in data["lookup"]["keys"] if k != primary_id and k not in in_use]
        if in_use - {primary_id}:
            raise CommandError("identifiers still use an old key; run again without --retire",
                               returncode=2)
        for key_id in old:
            del data["lookup"]["keys"][key_id]
        keyring.write(path, data, overwrite=True)
        keyring.reload()
        return old
