"""The chain's single writer: the lock every append (and checkpoint) holds, and the head.

Below both audit/drain.py and audit/checkpoints.py, so neither imports the other's lock.
"""

import contextlib
import threading

from django.db import connection, transaction

from audit import chain
from audit.models import AuditEntry

DRAIN_LOCK_KEY = 0x5747584155  # "WGXAU": the single-writer advisory lock of the chain
_process_lock = threading.Lock()  # SQLite has no advisory locks


@contextlib.contextmanager
def chain_writer():
    """One transaction holding the chain's single-writer lock.

    PostgreSQL: an advisory lock held to the end of the transaction, so writers on every host
    queue. SQLite: a process lock, and the IMMEDIATE transaction serialises processes.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DRAIN_LOCK_KEY])
            yield
    else:
        with _process_lock, transaction.atomic():
            yield


def chain_head() -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, genesis) for an empty chain."""
    head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return head or (0, chain.GENESIS_HASH)


