"""Writing the audit trail: `record` into the outbox, and `drain_outbox` into the chain."""

import atexit
import contextlib
import datetime as dt
import functools
import logging
import operator
import os
import re
import threading
import time

import orjson
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection, models, transaction
from django.utils import timezone

from audit import chain, context, visibility
from audit.actions import ACTIONS, Outcome
from audit.models import AuditCheckpoint, AuditEntry, OutboxEvent
from core.keyring import get_keyring
from core.redis import kept_client

log = logging.getLogger(__name__)

DRAIN_LOCK_KEY = 0x5747584155  # "WGXAU": the single-writer advisory lock of the chain
DRAIN_PENDING_KEY = "audit:drain-pending"
DRAIN_PENDING_SECONDS = 30
DEFAULT_BATCH_SIZE = 2000
# A chained row, in the order the drain builds it.
ENTRY_COLUMNS = (*chain.FIELDS, chain.READERS, "body", "hash")

DRAIN_COALESCE_SECONDS = 0.25  # a queued drain starts this much later, to drain a batch
TRIGGER_GATHER_SECONDS = 0.05  # commits of a process gather this long into one request

_process_lock = threading.Lock()  # SQLite has no advisory locks
_broker_down_until = 0.0


_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # JSON integers every canonicaliser agrees on
_MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str, limit: int | None = None) -> str:
    """A string PostgreSQL can store and every JSON encoder spells alike.

    NUL is refused by PostgreSQL text and jsonb, and lone surrogates by UTF-8 (and orjson):
    both become U+FFFD here, so an odd input never makes the drain fail on a poison event.
    """
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    return value[:limit] if limit is not None else value


def _jsonable(value, depth=0):
    """Details become plain JSON (str, int, bool, None, lists, dicts) so hashes are stable."""
    if depth > _MAX_DEPTH:
        return _text(repr(value)[:200])
    if isinstance(value, dict):
        return {_text(str(k)): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v, depth + 1) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _INT_MIN <= value <= _INT_MAX else str(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dt.datetime):
        return chain.format_timestamp(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return _text(str(value))  # float, Decimal, UUID, date, anything else: its text


def _actor(actor, ctx) -> tuple[str, str]:
    """The actor's name and country as copied onto the entry."""
    if actor is None:
        return ctx.system_actor or "anonymous", ""
    if isinstance(actor, str):
        return actor, ""
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


# Column widths of AuditEntry: an event is cut to fit when recorded, never at drain time.
_MAX_LENGTHS = {
    f.name: f.max_length for f in AuditEntry._meta.fields if getattr(f, "max_length", None)
}


def record(action, actor=None, target=None, outcome=Outcome.SUCCESS, case=None, readers=None,
           **details):
    """Log one event: an outbox row in the caller's transaction, chained after commit.

    `readers` (country codes) widens who reads an event that names no case beyond its
    actor's country, for the actions that visibility.WIDE_READER_ACTIONS lists.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to audit/actions.py")
    if outcome not in Outcome.ALL:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    ctx = context.current()
    actor_name, actor_country = _actor(actor, ctx)
    target_type, target_id = _target(target)
    if case is None and target_type == "cases.case" and isinstance(target, models.Model):
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
    }
    event = {name: _text(value, _MAX_LENGTHS[name]) for name, value in event.items()}
    event["details"] = _jsonable(details)
    # One entry, or two when the event names a case the actor's country cannot see.
    events = visibility.split(event, case, context.current_route(), readers=readers)
    # Every audited request pays for this insert: one fixed SQL statement, not a model save.
    occurred_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for one in events:
            cursor.execute(_outbox_insert(), [occurred_at, orjson.dumps(one).decode()])
    transaction.on_commit(trigger_drain, robust=True)


@functools.cache
def _outbox_insert() -> str:
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    return f"INSERT INTO {table} (occurred_at, event) VALUES (%s, %s)"


def trigger_drain():
    """After a commit, see that a drain will read this event; never fails or waits on Redis.

    With a broker, the request goes through this process's trigger thread: a commit only marks
    a request owed (on a shared machine each round trip to Redis costs as much as the
    INSERT it follows). Without one (development box) or with eager tasks, it runs here.
    """
    from audit.tasks import drain_outbox as drain_task

    if _trigger.owed():
        return  # a request is owed and has not started: it will follow this commit
    if not settings.BROKER_CONFIGURED or drain_task.app.conf.task_always_eager:
        request_drain()
    else:
        _trigger.owe()


def request_drain():
    """Queue a drain unless one is pending; a dead broker or cache is logged, never raised.

    At most one drain is pending at a time (a flag in Redis, set only by whoever queues it and
    cleared by the drain before it reads), so a drain queued or pending when this runs sees
    every event committed before.
    """
    global _broker_down_until
    from audit.tasks import drain_outbox as drain_task

    if not settings.BROKER_CONFIGURED:
        try:
            drain_task.delay()  # eager on a development box
        except Exception:  # the events stay in the outbox; the caller's action stands
            log.exception("audit drain failed; the outbox keeps the events")
        return
    if time.monotonic() < _broker_down_until:
        return  # the beat sweep catches up once the broker is back
    try:
        if not _set_drain_pending():
            return  # a drain is queued already and will see this event
    except Exception as exc:  # cache down: the outbox keeps the event safe
        _broker_down_until = time.monotonic() + 5
        log.warning("audit drain not triggered (%s); the beat sweep will drain the outbox", exc)
        return
    try:
        # The short countdown lets a burst gather into one batch: while this drain waits,
        # the flag stays set and later commits queue nothing.
        drain_task.apply_async(countdown=DRAIN_COALESCE_SECONDS)
    except Exception as exc:  # broker down: the outbox keeps the event safe
        _broker_down_until = time.monotonic() + 5
        clear_drain_pending()
        log.warning("audit drain not triggered (%s); the beat sweep will drain the outbox", exc)


class _TriggerThread:
    """One thread per process that sends owed drain requests, so commits never wait on them.

    A commit sets `owed`; the thread lets commits gather for a moment, clears `owed` and then
    calls request_drain(), so every commit is followed by a request that starts after it.
    However fast events come, a process makes one request at a time.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._owed = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = None

    def owed(self) -> bool:
        return self._owed.is_set()

    def owe(self) -> None:
        with self._lock:
            self._idle.clear()
            self._owed.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="audit-drain-trigger", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._owed.wait()
            time.sleep(TRIGGER_GATHER_SECONDS)
            self._owed.clear()
            try:
                request_drain()
            except Exception:  # pragma: no cover - request_drain logs its own failures
                log.exception("audit drain request failed")
            with self._lock:
                if not self._owed.is_set():
                    self._idle.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every owed request was sent (tests, process exit)."""
        return self._idle.wait(timeout)


_trigger = _TriggerThread()
os.register_at_fork(after_in_child=lambda: globals().update(_trigger=_TriggerThread()))
atexit.register(lambda: _trigger.flush(timeout=2))


def flush_drain_requests(timeout: float | None = 5) -> bool:
    """Wait until this process has sent every drain request it owes."""
    return _trigger.flush(timeout)


def _set_drain_pending() -> bool:
    """SET NX of the drain flag; True when this caller set it.

    Runs after every audited commit, so on Redis it uses the kept client.
    """
    client = kept_client()
    if client is None:
        return cache.add(DRAIN_PENDING_KEY, 1, timeout=DRAIN_PENDING_SECONDS)
    key = caches["default"].make_and_validate_key(DRAIN_PENDING_KEY)
    return bool(client.set(key, 1, nx=True, ex=DRAIN_PENDING_SECONDS))


def clear_drain_pending():
    """Called by the drain task before it reads, so later events trigger another drain."""
    try:
        cache.delete(DRAIN_PENDING_KEY)
    except Exception as exc:
        log.warning("could not clear the audit drain flag: %s", exc)


@contextlib.contextmanager
def _chain_writer():
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


def _chain_head() -> tuple[int, str]:
    head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return head or (0, chain.GENESIS_HASH)


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


def _append_entries(rows: list[tuple]) -> None:
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
    with _chain_writer():
        events = _take_events(batch_size)
        if not events:
            return 0
        first_seq, prev_hash = _chain_head()
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
        _append_entries(rows)
        if fail_after_append:  # test hook: a worker dying between append and commit
            raise RuntimeError("simulated worker death after append")
        every = settings.AUDIT_CHECKPOINT_EVERY
        if every > 0 and seq // every > first_seq // every:
            _checkpoint_in_drain(seq, prev_hash)
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


def outbox_lag_alert(now=None) -> float | None:
    """Log an alert line when the outbox lags past the threshold; returns the lag if it does."""
    lag = outbox_lag_seconds(now)
    limit = settings.AUDIT_OUTBOX_LAG_ALERT_SECONDS
    if lag > limit:
        log.error(
            "AUDIT ALERT: the oldest undrained audit event is %.0f s old (limit %d s); "
            "audit logging is failing: check the Celery workers and the broker",
            lag,
            limit,
        )
        return lag
    return None


# --- Checkpoints ---------------------------------------------------------------------------


def _sign_checkpoint(seq: int, head_hash: str) -> AuditCheckpoint:
    key_id, key = get_keyring().audit_signing_key()
    signature = key.sign(chain.checkpoint_message(seq, head_hash))
    return AuditCheckpoint.objects.create(
        seq=seq, head_hash=head_hash, key_id=key_id, signature=signature.hex()
    )


def _checkpoint_in_drain(seq: int, head_hash: str) -> None:
    """Sign the head a batch ended on; a signing failure never stops the chain."""
    try:
        with transaction.atomic():
            _sign_checkpoint(seq, head_hash)
    except Exception:
        log.exception("AUDIT ALERT: could not sign the checkpoint at #%d", seq)


def checkpoint_create() -> AuditCheckpoint | None:
    """Sign the chain's head unless it is signed already (beat, every few minutes)."""
    with _chain_writer():
        seq, head_hash = _chain_head()
        if seq == 0 or AuditCheckpoint.objects.filter(seq__gte=seq).exists():
            return None
        return _sign_checkpoint(seq, head_hash)


# --- Verification --------------------------------------------------------------------------

VERIFIED_CHECKPOINT_KEY = "audit:verified-checkpoint"


def _alert_broken(result, scope: str) -> None:
    log.error(
        "AUDIT ALERT: the audit chain is broken (%s): first bad seq #%s: %s",
        scope,
        result.first_bad_seq,
        result.reason,
    )


def chain_verify(*, actor, progress=None, jobs: int = 1):
    """Verify the whole chain and record who did (audit.verify); logs an alert when broken.

    `jobs` processes share the walk on PostgreSQL (manage.py verify_audit uses every core).
    """
    from audit import selectors

    result = selectors.verify_chain(progress=progress, jobs=jobs)
    if not result.ok:
        _alert_broken(result, "full verification")
    record(
        "audit.verify",
        actor,
        target=("audit", "chain"),
        outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
        entries_checked=result.entries_checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
    )
    return result


def chain_verify_recent():
    """Verify the entries since the last checkpoint verified (beat); alerts when broken.

    Every checkpoint's signature, and that each checkpointed entry still has its signed hash,
    are checked on every run; the walk starts at the checkpoint the previous run verified.
    Only a failure is recorded as an entry, so a quiet chain stays quiet.
    """
    from audit import selectors

    try:
        start = int(cache.get(VERIFIED_CHECKPOINT_KEY) or 0)
    except Exception:  # cache down: walk from the genesis
        start = 0
    result = selectors.verify_chain(after_checkpoint=start)
    if result.ok:
        log.info(
            "audit chain verified: %d entries after #%d", result.entries_checked, start
        )
        try:
            cache.set(VERIFIED_CHECKPOINT_KEY, result.last_verified_checkpoint, timeout=None)
        except Exception as exc:
            log.warning("could not remember the verified checkpoint: %s", exc)
        return result
    _alert_broken(result, f"entries after #{start}")
    with context.system_actor("task audit.verify_recent"):
        record(
            "audit.verify",
            None,
            target=("audit", "chain"),
            outcome=Outcome.FAILURE,
            entries_checked=result.entries_checked,
            first_bad_seq=result.first_bad_seq,
            reason=result.reason,
            after_checkpoint=start,
        )
    return result
