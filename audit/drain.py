"""The drain: outbox events become chained entries, a batch per transaction, in id order.

`append_entries` is the one place rows enter the chain (COPY on PostgreSQL); a batch's rows,
their hashes and the head they end on are all known there, inside the writer's transaction.
"""

import logging
import operator

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit import chain, checkpoints, merkle_store, visibility
from audit.models import AuditEntry, OutboxEvent
from audit.writer import chain_head, chain_writer

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 2000
# A chained row, in the order the drain builds it.
ENTRY_COLUMNS = (*chain.FIELDS, chain.READERS, "body", "hash")


def _take_events(batch_size: int) -> list[tuple]:
    """The oldest outbox events as (id, occurred_at, event), in id order, removed from the outbox.

    Removed inside the drain's transaction: a rollback puts them back. On PostgreSQL one
    statement reads and deletes; deleting by the ids read (never by an id range) keeps an
    event whose transaction commits late with a lower id from being dropped unread.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM audit_outboxevent WHERE id IN ("
                " SELECT id FROM audit_outboxevent ORDER BY id LIMIT %s"
                ") RETURNING id, occurred_at, event",
                [batch_size],
            )
            rows = cursor.fetchall()  # jsonb arrives as text (Django's loader)
        rows.sort(key=operator.itemgetter(0))
        return [(pk, occurred_at, orjson.loads(event)) for pk, occurred_at, event in rows]
    rows = list(
        OutboxEvent.objects.order_by("id").values_list("id", "occurred_at", "event")[:batch_size]
    )
    if rows:
        # SQLite has one writer at a time and we are it: every id up to the last is read.
        OutboxEvent.objects.filter(id__lte=rows[-1][0]).delete()
    return rows


def append_entries(rows: list[tuple]) -> None:
    """Insert chained rows (values in chain.FIELDS order, body, hash); COPY on PostgreSQL."""
    if connection.vendor == "postgresql":
        columns = ", ".join(ENTRY_COLUMNS)
        details = chain.FIELDS.index("details")
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY audit_auditentry ({columns}) FROM STDIN") as copy:
                for row in rows:
                    row = list(row)
                    row[details] = orjson.dumps(row[details]).decode()
                    copy.write_row(row)
        return
    AuditEntry.objects.bulk_create(
        [AuditEntry(**dict(zip(ENTRY_COLUMNS, row, strict=True))) for row in rows]
    )


def _drain_batch(batch_size: int, fail_after_append: bool = False) -> int:
    """Chain one batch in one transaction under the writer's lock: take the oldest events,
    hash each after the head, `append_entries` (the one append point: anything that must
    follow every appended entry, in the same transaction, goes right after it), then sign
    a checkpoint if the batch crossed a multiple of AUDIT_CHECKPOINT_EVERY."""
    with chain_writer():
        events = _take_events(batch_size)
        if not events:
            return 0
        first_seq, prev_hash = chain_head()
        seq = first_seq
        recorded_at = timezone.now()
        recorded_text = chain.format_timestamp(recorded_at)
        rows = []
        for _id, occurred_at, event in events:
            seq += 1
            get = event.get
            entry = {
                "seq": seq,
                "occurred_at": chain.format_timestamp(occurred_at),
                "recorded_at": recorded_text,
                "actor": get("actor", ""),
                "actor_country": get("actor_country", ""),
                "action": get("action", ""),
                "target_type": get("target_type", ""),
                "target_id": get("target_id", ""),
                "case_id": get("case_id", ""),
                "case_country": get("case_country", ""),
                "outcome": get("outcome", ""),
                "ip": get("ip", ""),
                "request_id": get("request_id", ""),
                "details": get("details") or {},
                "prev_hash": prev_hash,
            }
            readers = get("readers")  # absent only in events recorded before readers existed
            if readers is not None:
                entry["readers"] = visibility.decode(readers)
            body = chain.canonical_json(entry)
            entry_hash = chain.body_hash(prev_hash, body)
            entry["occurred_at"], entry["recorded_at"] = occurred_at, recorded_at
            entry["readers"] = readers
            rows.append((*entry.values(), body.decode(), entry_hash))
            prev_hash = entry_hash
        append_entries(rows)
        merkle_store.extend(first_seq, rows)  # the witnessed log's tree, same transaction
        if fail_after_append:  # test hook: a worker dying between append and commit
            raise RuntimeError("simulated worker death after append")
        every = settings.AUDIT_CHECKPOINT_EVERY
        if every > 0 and seq // every > first_seq // every:
            checkpoints.checkpoint_in_drain(seq, prev_hash)
        return len(events)


def drain_outbox(*, batch_size: int = DEFAULT_BATCH_SIZE, max_batches: int | None = None) -> int:
    """Move outbox events into the chain in id order, a batch per transaction; returns count."""
    total, batches = 0, 0
    while max_batches is None or batches < max_batches:
        drained = _drain_batch(batch_size)
        total += drained
        batches += 1
        if drained < batch_size:
            break
    return total
