"""manage.py keyring_check: which key-encryption keys exist and how many files each wraps."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from cases import attachments
from cases.attachment_storage import attachment_storage
from cases.crypto import HEADER_SIZE, AttachmentIntegrityError
from cases.models import Attachment
from core import keyring


class Command(BaseCommand):
    help = (
        "List each country's key-encryption keys (never their bytes) with the number of "
        "attachments each wraps; exit 1 when a file needs a key the keyring lacks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--headers", action="store_true",
                            help="also read every object's header and compare it with its row")

    def handle(self, *args, **opts):
        data = keyring.read(settings.WG_KEYRING)
        usage = dict(
            Attachment.objects.values_list("key_id").annotate(n=Count("id")).order_by()
        )
        held = set()
        for country, section in sorted(data["countries"].items()):
            self.stdout.write(f"{country}")
            for key_id in sorted(section["keys"]):
                held.add(key_id)
                count = usage.get(key_id, 0)
                if key_id == section["primary"]:
                    note = "primary"
                elif count:
                    note = "old: rotate_keys --resume, then retire"
                else:
                    note = "old, unused: can be retired"
                self.stdout.write(f"  {key_id:<32} {count:>8} attachment(s)  {note}")
        problems = [
            f"{count} attachment(s) need key {key_id}, which is not in the keyring"
            for key_id, count in sorted(usage.items())
            if key_id not in held
        ]
        if opts["headers"]:
            problems += self._check_headers()
        for problem in problems:
            self.stderr.write(f"PROBLEM: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s)", returncode=1)

    def _check_headers(self):
        storage, problems = attachment_storage(), []
        for attachment in Attachment.objects.order_by("uploaded_at").iterator():
            try:
                with storage.open(attachment.storage_name, "rb") as fh:
                    attachments.check_header(attachment, fh.read(HEADER_SIZE))
            except (AttachmentIntegrityError, FileNotFoundError) as exc:
                problems.append(f"attachment {attachment.pk}: {exc}")
        self.stdout.write(f"headers checked: {Attachment.objects.count()}")
        return problems
