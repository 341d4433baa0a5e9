"""manage.py keyring_check: which key-encryption keys exist and how many files each wraps."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from cases import attachments
from cases.attachment_storage import attachment_storage
from cases.crypto import HEADER_SIZE, AttachmentIntegrityError
from cases.key_rotation import encrypted_file_kinds
from core import keyring


class Command(BaseCommand):
    help = (
        "List each country's key-encryption keys (never their bytes) with the number of "
        "files of each kind (attachments, gap evidence) each wraps; exit 1 when a file "
        "needs a key the keyring lacks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--headers", action="store_true",
                            help="also read every object's header and compare it with its row")

    def handle(self, *args, **opts):
        data = keyring.read(settings.WG_KEYRING)
        kinds = encrypted_file_kinds()
        usage = {
            kind.label: dict(kind.model.objects.values_list("key_id")
                             .annotate(n=Count("pk")).order_by())
            for kind in kinds
        }
        held = set()
        for country, section in sorted(data["countries"].items()):
            self.stdout.write(f"{country}")
            for key_id in sorted(section["keys"]):
                held.add(key_id)
                counts = {label: used.get(key_id, 0) for label, used in usage.items()}
                if key_id == section["primary"]:
                    note = "primary"
                elif any(counts.values()):
                    note = "old: rotate_keys --resume, then retire"
                else:
                    note = "old, unused: can be retired"
                wraps = "  ".join(f"{n:>8} {label}" for label, n in counts.items())
                self.stdout.write(f"  {key_id:<32} {wraps}  {note}")
        problems = [
            f"{count} {label} need key {key_id}, which is not in the keyring"
            for label, used in usage.items()
            for key_id, count in sorted(used.items())
            if key_id not in held
        ]
        if opts["headers"]:
            problems += self._check_headers(kinds)
        for problem in problems:
            self.stderr.write(f"PROBLEM: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s)", returncode=1)

    def _check_headers(self, kinds):
        storage, problems, checked = attachment_storage(), [], 0
        for kind in kinds:
            for row in kind.model.objects.order_by("uploaded_at").iterator():
                checked += 1
                try:
                    with storage.open(row.storage_name, "rb") as fh:
                        attachments.check_header(row, fh.read(HEADER_SIZE))
                except (AttachmentIntegrityError, FileNotFoundError) as exc:
                    problems.append(f"{kind.model._meta.verbose_name} {row.pk}: {exc}")
        self.stdout.write(f"headers checked: {checked}")
        return problems
