"""The lookup rate limit: at most LOOKUP_RATE_LIMIT_PER_HOUR lookups per member per sliding hour.

Where the count lives:

- Redis, whenever the default cache is Redis (production: every web host shares it). One
  round trip per lookup: a Lua script trims the member's sorted set to the last hour, counts
  it and, under the limit, adds this lookup. Redis runs a script alone, so two lookups of one
  member never both take the last slot.
- The `Lookup` ledger in the database when no Redis is configured (the development box of
  `make run`: SQLite, eager tasks, no broker), counted under a lock on the member's row.
- Redis configured but unreachable: the lookup is refused (`LimiterUnavailable`, a 503 that
  names the rate limiter). It never falls back to the database ledger: that ledger does not
  hold the lookups Redis counted, so a member could exceed the limit while Redis is away.

Both use the web process's clock, so a window means the same on every host and under test.
"""

import datetime as dt
import math
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import Count, Min
from redis.exceptions import RedisError

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


class RateLimited(Exception):
    """Too many lookups in the last hour; `retry_after` is whole seconds until the next one."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class LimiterUnavailable(Exception):
    """Redis holds the rate limit and cannot be reached: no lookup is answered uncounted."""


def _redis():
    """(script, backend) when the default cache is Redis, else None.

    Django's Redis cache builds a new client on every call (about 1 ms); the script keeps one
    client, on the backend so a changed CACHES setting (tests) gets a fresh one.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    script = backend.__dict__.get("_lookup_limit_script")
    if script is None:
        client = backend._cache.get_client(write=True)
        script = backend.__dict__["_lookup_limit_script"] = client.register_script(
            _SLIDING_WINDOW
        )
    return script, backend


def count_lookup(user: User, now: dt.datetime) -> None:
    """Count one lookup of the member, or raise RateLimited / LimiterUnavailable."""
    limit = settings.LOOKUP_RATE_LIMIT_PER_HOUR
    redis = _redis()
    if redis is None:
        _count_in_database(user, now, limit)
        return
    script, backend = redis
    now_ms = int(now.timestamp() * 1000)
    try:
        wait_ms = script(
            keys=[backend.make_key(f"lookup-rate:{user.pk}")],
            args=[now_ms, _WINDOW_MS, limit, f"{now_ms}:{uuid.uuid4().hex}"],
        )
    except RedisError as exc:
        raise LimiterUnavailable(str(exc)) from exc
    if wait_ms:
        raise RateLimited(max(1, math.ceil(wait_ms / 1000)))


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
