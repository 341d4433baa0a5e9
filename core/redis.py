"""The default cache's Redis client, kept: one per process, for the calls on every request.

Django's Redis cache builds a new client for each call (about 1 ms here, five times a round
trip). The client is kept on the cache backend itself, so a changed CACHES setting (tests)
gets a fresh one.
"""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def kept_client():
    """The default cache's redis-py client, or None when the default cache is not Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = backend.__dict__.get("_kept_redis_client")
    if client is None:
        client = backend.__dict__["_kept_redis_client"] = backend._cache.get_client(write=True)
    return client
