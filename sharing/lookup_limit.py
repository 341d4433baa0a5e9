"""The lookup rate limit: at most LOOKUP_RATE_LIMIT_PER_HOUR lookups per member per sliding hour.

Where the count lives:

- Redis, whenever the default cache is Redis (production: every web host shares it). One
  round trip per lookup, overlapping the lookup's own Python work: a Lua script trims the
  member's sorted set to the last hour, counts it and, under the limit, adds this lookup.
  Redis runs a script alone, so two lookups of one member never both take the last slot.
- The `Lookup` ledger in the database when no Redis is configured (the development box of
  `make run`: SQLite, eager tasks, no broker), counted under a lock on the member's row.
- Redis configured but unreachable: the lookup is refused (`LimiterUnavailable`, a 503 that
  names the rate limiter). It never falls back to the database ledger: that ledger does not
  hold the lookups Redis counted, so a member could exceed the limit while Redis is away.

Both use the web process's clock, so a window means the same on every host and under test.
"""

import contextlib
import datetime as dt
import hashlib
import math
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import Count, Min
from django.utils.translation import gettext_lazy as _
from redis.exceptions import NoScriptError, RedisError

from core import errors
from core.redis import kept_client
from sharing.models import Lookup
from workinggroup.models import User

WINDOW = dt.timedelta(hours=1)
_WINDOW_MS = int(WINDOW.total_seconds() * 1000)

# KEYS[1]: the member's window; ARGV: now (ms), window (ms), limit, a name for this lookup.
# Answers 0 when the lookup is counted, else the milliseconds until the oldest one leaves.
_SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + ARGV[2] - ARGV[1]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
"""


class RateLimited(errors.RateLimited):
    """Too many lookups in the last hour; `retry_after` is whole seconds until the next one."""

    def __init__(self, retry_after: int):
        super().__init__(
            _("At most %(limit)d lookups an hour. Expected available in %(wait)d seconds.")
            % {"limit": settings.LOOKUP_RATE_LIMIT_PER_HOUR, "wait": retry_after},
            retry_after=retry_after,
        )


class LimiterUnavailable(errors.Unavailable):
    """Redis holds the rate limit and cannot be reached: no lookup is answered uncounted."""

    def __init__(self, cause: str):
        super().__init__(
            _("The lookup rate limiter (Redis) cannot be reached; try again shortly.")
        )
        self.cause = cause  # the Redis error, for the audit record (never shown)


# Redis names a loaded script by the SHA-1 of its text; EVALSHA of an unknown one answers
# NOSCRIPT, and the script is then sent whole (once per Redis start).
_SCRIPT_SHA = hashlib.sha1(_SLIDING_WINDOW.encode(), usedforsecurity=False).hexdigest()


@contextlib.contextmanager
def counting(user: User, now: dt.datetime):
    """Count one lookup of the member around the block; RateLimited or LimiterUnavailable
    come out of it when the block ends.

    With Redis, the script goes out before the block and its answer is read after it, so the
    block's work (the lookup's blind indexes and audit event) runs while Redis counts. The
    block must reveal nothing until then. A block that raises keeps its own exception.
    """
    limit = settings.LOOKUP_RATE_LIMIT_PER_HOUR
    client = kept_client()
    if client is None:
        _count_in_database(user, now, limit)
        yield
        return
    now_ms = int(now.timestamp() * 1000)
    command = (1, caches["default"].make_key(f"lookup-rate:{user.pk}"),
               now_ms, _WINDOW_MS, limit, f"{now_ms}:{uuid.uuid4().hex}")
    pool = client.connection_pool
    try:
        connection = pool.get_connection()
    except (RedisError, OSError) as exc:
        raise LimiterUnavailable(str(exc)) from exc
    try:
        connection.send_command("EVALSHA", _SCRIPT_SHA, *command)
    except (RedisError, OSError) as exc:
        _drop(pool, connection)
        raise LimiterUnavailable(str(exc)) from exc
    try:
        yield
    except BaseException:
        with contextlib.suppress(LimiterUnavailable):
            _answer(pool, connection, command)  # the block's own error is the one to see
        raise
    wait_ms = _answer(pool, connection, command)
    if wait_ms:
        raise RateLimited(max(1, math.ceil(wait_ms / 1000)))


def _answer(pool, connection, command) -> int:
    """Read the script's answer and give the connection back; LimiterUnavailable if none."""
    try:
        try:
            answer = connection.read_response()
        except NoScriptError:  # first use since Redis started
            connection.send_command("EVAL", _SLIDING_WINDOW, *command)
            answer = connection.read_response()
    except (RedisError, OSError) as exc:
        _drop(pool, connection)
        raise LimiterUnavailable(str(exc)) from exc
    pool.release(connection)
    return int(answer)


def _drop(pool, connection) -> None:
    """A connection in an unknown state is closed, never handed to the next caller."""
    connection.disconnect()
    pool.release(connection)


def _count_in_database(user: User, now: dt.datetime, limit: int) -> None:
    since = now - WINDOW
    with transaction.atomic():
        # Lock the member's row so concurrent lookups by one member count one after the other.
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        mine = Lookup.objects.filter(requested_by=user)
        mine.filter(performed_at__lte=since).delete()  # out of the window: no longer needed
        window = mine.aggregate(n=Count("id"), first=Min("performed_at"))
        if window["n"] >= limit:
            raise RateLimited(max(1, math.ceil((window["first"] - since).total_seconds())))
        Lookup.objects.create(requested_by=user, performed_at=now)
