"""Recording: `record` writes an event into the outbox in the caller's transaction, and after
commit a drain is requested (through this process's trigger thread, never waiting on Redis).

The drain itself is audit/drain.py; it is reached by its Celery task's name, so this module
does not import audit.tasks (which imports this one).
"""

import atexit
import datetime as dt
import functools
import logging
import os
import re
import threading
import time

import orjson
from celery import current_app
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection, models, transaction
from django.utils import timezone

from audit import chain, context, visibility
from audit.actions import ACTIONS, Outcome
from audit.models import AuditEntry, OutboxEvent
from core.redis import kept_client

log = logging.getLogger(__name__)

DRAIN_TASK = "audit.drain_outbox"  # audit/tasks.py
DRAIN_PENDING_KEY = "audit:drain-pending"
DRAIN_PENDING_SECONDS = 30
DRAIN_COALESCE_SECONDS = 0.25  # a queued drain starts this much later, to drain a batch
TRIGGER_GATHER_SECONDS = 0.05  # commits of a process gather this long into one request

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
    rows = outbox_rows(action, actor, target, outcome, case, readers, **details)
    # Every audited request pays for this insert: one fixed SQL statement, not a model save.
    occurred_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute(_outbox_insert(), [occurred_at, row])
    transaction.on_commit(trigger_drain, robust=True)


def outbox_rows(action, actor=None, target=None, outcome=Outcome.SUCCESS, case=None,
                readers=None, **details) -> list[str]:
    """The outbox rows (JSON text) that `record` would write for this event, written nowhere.

    For `record_unless_found`, and for callers that must build an event before they know
    whether it is the one to write. Checks the action and outcome as `record` does.
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
    return [orjson.dumps(one).decode() for one in events]


def record_unless_found(query: str, params, rows: list[str]) -> list[tuple]:
    """Run `query` (a SELECT) and, when it finds nothing, record `rows` (from outbox_rows).

    On PostgreSQL this is ONE statement: the SELECT and the outbox INSERT in a data-modifying
    CTE, so outside a transaction the answer and its audit event commit together in a single
    round trip (a lookup miss: the least an audited answer can cost). Inside a transaction
    the event is part of it, as with `record`. Elsewhere (SQLite) the two run in a row.
    Returns the query's rows; when there are some, nothing was recorded.
    """
    occurred_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(query, params)
            found = cursor.fetchall()
            if not found:
                for row in rows:
                    cursor.execute(_outbox_insert(), [occurred_at, row])
        else:
            values = [value for row in rows for value in (occurred_at, row)]
            cursor.execute(_unless_found_sql(query, len(rows)), [*params, *values])
            found = cursor.fetchall()
    if not found:
        transaction.on_commit(trigger_drain, robust=True)
    return found


@functools.cache
def _unless_found_sql(query: str, n_rows: int) -> str:
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    # One SELECT per row, each guarded: simpler for the planner than a VALUES list (a miss
    # plans this statement every time, and planning takes about as long as running it).
    rows = " UNION ALL ".join(
        ["SELECT %s::timestamptz, %s::jsonb WHERE NOT EXISTS (SELECT FROM found)"] * n_rows)
    return (
        f"WITH found AS ({query}), "  # noqa: S608 (a fixed query, a table name, placeholders)
        f"outbox AS (INSERT INTO {table} (occurred_at, event) {rows}) "
        f"SELECT * FROM found"
    )


@functools.cache
def _outbox_insert() -> str:
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    return f"INSERT INTO {table} (occurred_at, event) VALUES (%s, %s)"


def _drain_task():
    """The drain's Celery task, by name (tests may replace its apply_async)."""
    return current_app.tasks[DRAIN_TASK]


def trigger_drain():
    """After a commit, see that a drain will read this event; never fails or waits on Redis.

    With a broker, the request goes through this process's trigger thread: a commit only marks
    a request owed (on a shared machine each round trip to Redis costs as much as the
    INSERT it follows). Without one (development box) or with eager tasks, it runs here.
    """
    drain_task = _drain_task()
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
    drain_task = _drain_task()
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
