"""Django's Redis cache, made to miss instead of fail when Redis is down (issue 22, item 3).

Everything the tracker caches (dashboards, the ranking, the navigation, the plan switcher and the
filter selects) is derived from the database and keyed by the data version, so a cache that
answers "not found" is always correct, only slower. Django's `RedisCache` raises on a connection
error instead, which turned a Redis outage into a 500 on every logged-in page, including the page a
successful save redirects to.

`TolerantRedisCache` catches Redis's connection and timeout errors in every cache operation:
reads miss, writes are dropped, `incr` of a missing key raises ValueError as for any miss. After an
error it does not try Redis again for `RETRY_SECONDS` (a page makes several cache calls; each
would otherwise wait for the connect timeout), and it logs one warning per outage, not one per call.
"""
import logging
import time

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger("tracker.cache")

RETRY_SECONDS = 5.0


def _redis_errors():
    import redis.exceptions

    # ConnectionError covers refused and reset connections and authentication failures;
    # TimeoutError a host that does not answer; BusyLoadingError (a subclass) a Redis still loading.
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class TolerantRedisCache(RedisCache):
    _MISS = object()

    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._errors = _redis_errors()

    def _call(self, name, default, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return default
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except self._errors as error:
            if not self._down_until:
                logger.warning("缓存（Redis）不可用，暂不使用缓存：%s", error)
            self._down_until = time.monotonic() + RETRY_SECONDS
            # Drop the pools: their connections are dead, and a new pool reconnects when Redis is back.
            self._cache._pools.clear()
            return default
        if self._down_until:
            logger.warning("缓存（Redis）已恢复")
            self._down_until = 0.0
        return result

    def add(self, key, value, timeout=None, version=None):
        return self._call("add", False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def set(self, key, value, timeout=None, version=None):
        self._call("set", None, key, value, timeout, version)

    def touch(self, key, timeout=None, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def incr(self, key, delta=1, version=None):
        result = self._call("incr", self._MISS, key, delta, version)
        if result is self._MISS:
            raise ValueError(f"Key '{key}' not found")
        return result

    def set_many(self, data, timeout=None, version=None):
        # Nothing was stored: every key failed.
        return self._call("set_many", list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        self._call("delete_many", None, keys, version)

    def clear(self):
        return self._call("clear", False)
