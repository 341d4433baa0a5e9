"""manage.py rotate_keys: a new primary key-encryption key, and every data key re-wrapped."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.context import system_actor
from cases import key_rotation
from core.keyring import KeyringError
from workinggroup.models import Country, clean_country_code


class Command(BaseCommand):
    help = (
        "Add a new primary key-encryption key per country to WG_KEYRING and re-wrap every "
        "attachment's data key under it (file bodies are not touched). Resumable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--country", action="append", dest="countries",
                            help="country code (repeatable; default: every country)")
        parser.add_argument("--resume", action="store_true",
                            help="add no key: finish re-wrapping under the current primary")
        parser.add_argument("--no-rewrap", action="store_true",
                            help="only add the new primary key (several hosts: distribute "
                                 "the keyring first, then run --resume)")

    def handle(self, *args, **opts):
        if opts["resume"] and opts["no_rewrap"]:
            raise CommandError("--resume and --no-rewrap exclude each other", returncode=2)
        countries = opts["countries"] or list(Country.objects.values_list("code", flat=True))
        try:
            countries = [clean_country_code(code) for code in countries]
        except ValidationError as exc:
            raise CommandError("country: " + " ".join(exc.messages), returncode=2) from None
        unfinished = []
        with system_actor("manage.py rotate_keys"):
            for country in countries:
                if not opts["resume"]:
                    key_id = key_rotation.key_add(country=country)
                    self.stdout.write(f"{country}: new primary key {key_id}")
                if opts["no_rewrap"]:
                    continue
                progress = self._progress_bar(country) if self.stdout.isatty() else None
                try:
                    report = key_rotation.rotation_run(country=country, progress=progress)
                except KeyringError as exc:
                    raise CommandError(str(exc), returncode=2) from None
                self.stdout.write(
                    f"{country}: {report.rewrapped} data key(s) re-wrapped under "
                    f"{report.key_id}; {len(report.failed)} failed; {report.remaining} left"
                )
                for failure in report.failed:
                    self.stderr.write(f"  failed: {failure}")
                if report.remaining:
                    unfinished.append(country)
        if unfinished:
            raise CommandError(
                f"not finished for {', '.join(unfinished)}: fix the failures above, then "
                f"run `manage.py rotate_keys --resume --country {unfinished[0]}`",
                returncode=1,
            )

    def _progress_bar(self, country):
        def show(done, total, width=30):
            filled = width * done // max(total, 1)
            self.stdout.write(
                f"\r{country} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
                ending="\n" if done == total else "",
            )
            self.stdout.flush()

        return show
