"""Health probes a load balancer and a monitor can trust, each answering within 500 ms.

- /healthz/live: the process answers (no database, no broker).
- /healthz/ready: the database answers within READY_DEADLINE: the load balancer's probe.
  Redis is not asked: with Redis down only lookups fail (their rate limit cannot be
  counted) and the audit outbox waits, so the web process stays in rotation.
- /healthz: every component with its state, for monitoring: database, broker, the audit
  outbox (pending events, lag), the time since the last drain, the last verification, the
  last checkpoint and the witnesses cosigning it. 200 when all are fine, 503 naming what is
  not.

Each check runs on its own short-lived thread joined with a deadline: psycopg cannot give up
a connection attempt in less than 2 s (libpq rounds connect_timeout up to 2), and Redis's
socket timeouts do not cover a slow DNS answer. A check that misses the deadline is reported
as "timeout"; its thread ends on its own (closing its own database connection).

A worker that has left a non-empty outbox undrained for AUDIT_DRAIN_STUCK_SECONDS (60 s) is
reported as `stuck` and logged as an AUDIT ALERT line by every /healthz that sees it, long
before the outbox lag alert (AUDIT_OUTBOX_LAG_ALERT_SECONDS, 300 s) would fire.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from audit import witnessing
from audit.verification import VERIFIED_CHECKPOINT_KEY

log = logging.getLogger(__name__)

# Seconds each check may take. The rest of the 500 ms is for the request itself, which on a
# saturated host (the fault drills ran at load 8-13 on 2 cores) took up to 200 ms more.
READY_DEADLINE = 0.25  # the database's answer to /healthz/ready
HEALTH_DEADLINE = 0.25  # every component of /healthz, checked side by side
STATEMENT_TIMEOUT_MS = 200
PENDING_COUNT_LIMIT = 10_000  # /healthz reports "pending": 10000 for any larger backlog


class TimedOut(Exception):
    """The check did not finish before its deadline."""


def run_with_deadline(checks: dict[str, Callable[[], object]], deadline: float) -> dict:
    """Run each check on its own thread; {name: result or the exception (TimedOut)}.

    On SQLite the checks run in the request's thread: a local file cannot hang on the
    network. So they do inside an open transaction (a test's: no request runs in one here),
    whose writes the other threads' connections could not see.
    """
    if connection.vendor == "sqlite" or connection.in_atomic_block:
        return {name: _outcome(check) for name, check in checks.items()}
    results: dict[str, object] = {}

    def run(name, check):
        try:
            results[name] = _outcome(check)
        finally:
            connections.close_all()  # this thread's own connections, not the request's

    threads = []
    for name, check in checks.items():
        thread = threading.Thread(target=run, args=(name, check), name=f"health-{name}",
                                  daemon=True)
        thread.start()
        threads.append((name, thread))
    end = time.monotonic() + deadline
    for _name, thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return {
        name: results.get(name, TimedOut(f"no answer within {deadline * 1000:.0f} ms"))
        for name, _ in threads
    }


def _outcome(check):
    try:
        return check()
    except Exception as exc:
        return exc


@contextlib.contextmanager
def _bounded_queries():
    """A read-only transaction whose statements give up after STATEMENT_TIMEOUT_MS."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        yield


def _database_ping() -> float:
    started = time.monotonic()
    with _bounded_queries(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return round((time.monotonic() - started) * 1000, 1)


def _audit_state() -> dict:
    """Outbox, last drain, last verification and last checkpoint, in one bounded read."""
    from audit.models import AuditCheckpoint, AuditEntry, OutboxEvent

    now = timezone.now()
    with _bounded_queries():
        oldest = OutboxEvent.objects.order_by("id").values_list("occurred_at", flat=True).first()
        # Counted up to a bound: a backlog of millions must not cost a sequential scan.
        pending = (OutboxEvent.objects.values("id")[:PENDING_COUNT_LIMIT].count()
                   if oldest is not None else 0)
        last = AuditEntry.objects.order_by("-seq").values("seq", "recorded_at").first()
        verify = (AuditEntry.objects.filter(action="audit.verify").order_by("-seq")
                  .values("seq", "occurred_at", "outcome").first())
        checkpoint = AuditCheckpoint.objects.order_by("-seq").values("seq", "signed_at").first()
        witnessed, witness_text = witnessing.health()

    def age(moment):
        return None if moment is None else round((now - moment).total_seconds(), 1)

    return {
        "witnesses": (witnessed, witness_text),
        "pending": pending,
        "lag_seconds": age(oldest) or 0.0,
        "head_seq": last["seq"] if last else 0,
        "seconds_since_last_drain": age(last["recorded_at"]) if last else None,
        "last_verification": verify and {
            "seq": verify["seq"], "outcome": verify["outcome"],
            "seconds_ago": age(verify["occurred_at"]),
        },
        "last_checkpoint": checkpoint and {
            "seq": checkpoint["seq"], "seconds_ago": age(checkpoint["signed_at"]),
        },
    }


def _broker_ping() -> dict:
    """PING the broker; with it, the checkpoint the periodic verification reached."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        from kombu import Connection

        with Connection(url, connect_timeout=HEALTH_DEADLINE) as conn:
            conn.ensure_connection(max_retries=1, timeout=HEALTH_DEADLINE)
        return {}
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=HEALTH_DEADLINE,
                                  socket_timeout=HEALTH_DEADLINE)
    try:
        client.ping()
    finally:
        client.close()
    try:
        return {"verified_through_checkpoint": cache.get(VERIFIED_CHECKPOINT_KEY)}
    except Exception:
        return {}


def _failure(exc) -> str:
    if isinstance(exc, TimedOut):
        return f"timeout: {exc}"
    return f"error: {type(exc).__name__}"


@never_cache
def live(request):
    """The process answers: nothing else is asked."""
    return JsonResponse({"status": "alive"})


@never_cache
def ready(request):
    """The database answers within READY_DEADLINE; Redis is deliberately not asked."""
    result = run_with_deadline({"database": _database_ping}, READY_DEADLINE)["database"]
    if isinstance(result, Exception):
        return JsonResponse({"status": "unready", "database": _failure(result)}, status=503,
                            headers={"Retry-After": "5"})
    return JsonResponse({"status": "ready", "database": "ok", "database_ms": result})


def drain_state(audit: dict) -> str:
    """ok, lagging (past the alert limit) or stuck (a non-empty outbox left undrained)."""
    stuck_after = settings.AUDIT_DRAIN_STUCK_SECONDS
    since = audit["seconds_since_last_drain"]
    if audit["pending"] and audit["lag_seconds"] > stuck_after and (
        since is None or since > stuck_after
    ):
        return "stuck"
    if audit["lag_seconds"] > settings.AUDIT_OUTBOX_LAG_ALERT_SECONDS:
        return "lagging"
    return "ok"


@never_cache
def healthz(request):
    """Every component's state for monitoring; 503 naming the failing ones."""
    checks = {"database": _database_ping, "audit": _audit_state}
    if settings.BROKER_CONFIGURED:
        checks["broker"] = _broker_ping
    results = run_with_deadline(checks, HEALTH_DEADLINE)
    components, failing = {}, []

    database = results["database"]
    if isinstance(database, Exception):
        components["database"] = {"state": _failure(database)}
        failing.append("database")
    else:
        components["database"] = {"state": "ok", "ms": database}

    if not settings.BROKER_CONFIGURED:
        components["broker"] = {"state": "not configured (tasks run in the web process)"}
    elif isinstance(results["broker"], Exception):
        components["broker"] = {"state": _failure(results["broker"]),
                                "effect": "lookups answer 503; audit events wait in the outbox"}
        failing.append("broker")
    else:
        components["broker"] = {"state": "ok", **results["broker"]}

    audit = results["audit"]
    if isinstance(audit, Exception):
        components["audit"] = {"state": _failure(audit)}
        failing.append("audit")
    else:
        witnessed, text = audit.pop("witnesses")
        # Fewer than the quorum of countries' witnesses cosigning, or a rollback or fork
        # reported by one (audit.witnessing, docs/audit.md "The witnessed log").
        components["witnesses"] = {"state": "ok" if witnessed else "error", "detail": text}
        if not witnessed:
            failing.append("witnesses")
        state = drain_state(audit)
        components["audit"] = {"state": state, **audit}
        if state != "ok":
            failing.append("audit")
            log.error(
                "AUDIT ALERT: audit drain %s: %d event(s) waiting, the oldest %.0f s old, "
                "last drain %s s ago: check the Celery workers and the broker",
                state, audit["pending"], audit["lag_seconds"], audit["seconds_since_last_drain"],
            )
    return JsonResponse(
        {"status": "unhealthy" if failing else "ok", "failing": failing,
         "components": components},
        status=503 if failing else 200,
    )
