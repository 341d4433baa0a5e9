"""Writing the audit trail: `record` into the outbox, and `drain_outbox` into the chain."""

import datetime as dt
import decimal
import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone

from audit import chain, context
from audit.actions import ACTIONS, Outcome
from audit.models import AuditEntry, OutboxEvent

log = logging.getLogger(__name__)

DRAIN_LOCK_KEY = 0x5747584155  # "WGXAU": the single-writer advisory lock of the chain
DRAIN_PENDING_KEY = "audit:drain-pending"
DRAIN_PENDING_SECONDS = 30
DEFAULT_BATCH_SIZE = 1000

_process_lock = threading.Lock()  # SQLite has no advisory locks
_broker_down_until = 0.0


def _jsonable(value):
    """Details become plain JSON (str, int, bool, None, lists, dicts) so hashes are stable."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dt.datetime):
        return chain.format_timestamp(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, (float, decimal.Decimal, uuid.UUID, dt.date)):
        return str(value)
    return str(value)


def _actor(actor, ctx) -> tuple[str, str]:
    """The actor's name and country as copied onto the entry."""
    if actor is None:
        return ctx.system_actor or "anonymous", ""
    if isinstance(actor, str):
        return actor[:150], ""
    if not getattr(actor, "is_authenticated", False):
        return ctx.system_actor or "anonymous", ""
    return actor.get_username(), actor.country_id or ""


def _target(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    kind, ident = target  # ("cases.case", "…") for things that are not rows
    return str(kind), str(ident)


def record(action, actor=None, target=None, outcome=Outcome.SUCCESS, case=None, **details):
    """Log one event: an outbox row in the caller's transaction, chained after commit."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to audit/actions.py")
    if outcome not in Outcome.ALL:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    ctx = context.current()
    actor_name, actor_country = _actor(actor, ctx)
    target_type, target_id = _target(target)
    if case is None and target_type == "cases.case":
        case = target
    if action.startswith("auth.") and ctx.user_agent:
        details.setdefault("user_agent", ctx.user_agent)
    event = {
        "actor": actor_name,
        "actor_country": actor_country,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "case_id": str(case.pk) if case is not None else "",
        "case_country": (case.owner_country_id or "") if case is not None else "",
        "outcome": outcome,
        "ip": ctx.ip or "",
        "request_id": ctx.request_id,
        "details": _jsonable(details),
    }
    OutboxEvent.objects.create(event=event)
    transaction.on_commit(trigger_drain, robust=True)


def trigger_drain():
    """Ask for a drain unless one is already pending; a dead broker never fails the caller."""
    global _broker_down_until
    from audit.tasks import drain_outbox as drain_task

    if not settings.BROKER_CONFIGURED:
        drain_task.delay()  # eager on a development box
        return
    if time.monotonic() < _broker_down_until:
        return  # the beat sweep catches up once the broker is back
    try:
        if cache.add(DRAIN_PENDING_KEY, 1, timeout=DRAIN_PENDING_SECONDS):
            drain_task.delay()
    except Exception as exc:  # broker or cache down: the outbox keeps the event safe
        _broker_down_until = time.monotonic() + 5
        log.warning("audit drain not triggered (%s); the beat sweep will drain the outbox", exc)


def clear_drain_pending():
    """Called by the drain task before it reads, so later events trigger another drain."""
    try:
        cache.delete(DRAIN_PENDING_KEY)
    except Exception as exc:
        log.warning("could not clear the audit drain flag: %s", exc)


def _lock_chain():
    """Take the single-writer lock for this transaction (PostgreSQL advisory lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DRAIN_LOCK_KEY])


def _drain_batch(batch_size: int, fail_after_append: bool = False) -> int:
    with _process_lock, transaction.atomic():
        _lock_chain()
        events = list(OutboxEvent.objects.order_by("id")[:batch_size])
        if not events:
            return 0
        head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = head or (0, chain.GENESIS_HASH)
        recorded_at = timezone.now()
        entries = []
        for event in events:
            seq += 1
            entry = AuditEntry(
                seq=seq,
                occurred_at=event.occurred_at,
                recorded_at=recorded_at,
                prev_hash=prev_hash,
                **event.event,
            )
            entry.hash = prev_hash = chain.entry_hash(prev_hash, chain.entry_dict(entry))
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries)
        if fail_after_append:  # test hook: a worker dying between append and commit
            raise RuntimeError("simulated worker death after append")
        OutboxEvent.objects.filter(id__in=[e.id for e in events]).delete()
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


def outbox_lag_seconds(now=None) -> float:
    """Age of the oldest event still waiting in the outbox (0 when it is empty)."""
    oldest = OutboxEvent.objects.order_by("id").values_list("occurred_at", flat=True).first()
    if oldest is None:
        return 0.0
    return max(0.0, ((now or timezone.now()) - oldest).total_seconds())
