"""manage.py verify_audit: walk the whole chain; exit 0 when intact, 1 naming the first bad seq."""

import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from audit import verification, writer
from audit.context import system_actor


class _Progress:
    """A one-line progress bar on a terminal (stderr); silent when not a TTY."""

    def __init__(self, stream, total: int):
        self.stream, self.total, self.started = stream, max(total, 1), time.monotonic()
        self.enabled = stream.isatty()

    def __call__(self, seq: int) -> None:
        if not self.enabled:
            return
        done = min(seq / self.total, 1.0)
        rate = seq / max(time.monotonic() - self.started, 1e-6)
        bar = "#" * int(done * 30)
        self.stream.write(f"\r[{bar:<30}] {seq:,}/{self.total:,} entries ({rate:,.0f}/s)")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Verify the audit chain and its signed checkpoints; exit 1 naming the first bad seq."

    def add_arguments(self, parser):
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(len(os.sched_getaffinity(0)), 8),
            help="processes that share the walk on PostgreSQL, each with its own connection "
            "(default: one per CPU this process may use, at most 8; a chain shorter than "
            "100,000 entries per process is walked in one)",
        )

    def handle(self, *args, **opts):
        if opts["jobs"] < 1:
            raise CommandError("--jobs must be at least 1")
        progress = _Progress(sys.stderr, writer.chain_head()[0])
        with system_actor("manage.py verify_audit"):
            result = verification.chain_verify(actor=None, progress=progress, jobs=opts["jobs"])
        progress.close()
        if result.ok:
            self.stdout.write(f"OK: {result.entries_checked} entries verified")
        else:
            self.stdout.write(
                f"BROKEN: first bad seq {result.first_bad_seq} ({result.reason}); "
                f"{result.entries_checked} entries verified before it"
            )
        self.stdout.write(_witnessing_line(result.witnessing))
        if not result.ok:
            sys.exit(1)


def _witnessing_line(summary: dict) -> str:
    """One line on the witnessed log: unwitnessed, or who cosigned what."""
    if summary["status"] == "unwitnessed":
        return f"UNWITNESSED: {summary['note']}"
    views = ", ".join(
        f"{w['name']} {w['state']}" + (f" @{w['size']}" if w["size"] else "")
        for w in summary["witnesses"]
    )
    return (
        f"WITNESSES: {summary['status']}, {summary['cosigned']} of {len(summary['witnesses'])} "
        f"cosigned a checkpoint consistent with the tree of {summary['tree_size']} "
        f"(quorum {summary['quorum']}): {views}"
    )
