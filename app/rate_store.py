"""The rate limiters' store: Redis, shared by every API process, and while Redis cannot be reached an
in-process memory store instead, so that login, signup and invitation acceptance keep working during a
Redis outage. The limit then holds per process rather than across processes, and counts start afresh
on each switch: a weaker limit for the outage, never none and never an error.

One warning when it switches to memory, one when Redis answers again. While Redis is down it is tried
again at most every ``RETRY_SECONDS`` (the other requests go straight to memory, without waiting for a
connection to fail).

A request is counted with ``hit``: one step that checks the limit and counts the request together (a
Lua script in Redis; plain code between two awaits in memory), so that concurrent requests, in one
process or in many, can never let more than the limit through. Litestar's own limiter reads the count,
then writes it back under a lock of its process only: two API processes (or two routes of one bucket)
each read the same count, and both requests passed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from litestar.stores.base import NamespacedStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.get_logger(__name__)
RETRY_SECONDS = 5.0
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_MEMORY_PRUNE_AT = 10_000  # counts kept in memory before the ended windows are dropped

# KEYS[1] one client's count in one bucket; ARGV: the limit, the window in ms. Counts this request
# unless the limit is reached (a refused request is not counted); the window opens at the first request.
# Returns {1 if counted else 0, the requests counted, the ms until the window ends}.
_HIT = """
local used = tonumber(redis.call('GET', KEYS[1]) or 0) or 0
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  used = 0
  ttl = tonumber(ARGV[2])
end
if used >= tonumber(ARGV[1]) then
  return {0, used, ttl}
end
redis.call('SET', KEYS[1], used + 1, 'PX', ttl)
return {1, used + 1, ttl}
"""


@dataclass(frozen=True)
class Hit:
    """One request counted against a limit (or refused, when ``allowed`` is false)."""

    allowed: bool
    used: int  # requests counted in this window, this one included when allowed
    reset_in: int  # whole seconds until the window ends (at least 1)


class _Outage:
    """Whether Redis is down, shared by a store and its namespaces (they share one Redis client)."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.next_try = 0.0

    def redis_worth_trying(self) -> bool:
        return self.since is None or time.monotonic() >= self.next_try

    def lost(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
            log.warning("rate limits fall back to this process's memory: redis unreachable", error=repr(exc))
        self.next_try = now + RETRY_SECONDS

    def back(self) -> None:
        if self.since is not None:
            log.warning("rate limits are in redis again", down_s=round(time.monotonic() - self.since, 1))
            self.since = None


class FallbackStore(NamespacedStore):
    def __init__(self, redis: RedisStore, outage: _Outage | None = None) -> None:
        self.redis = redis
        self.memory = MemoryStore()
        self.outage = outage or _Outage()
        self.namespace = redis.namespace
        self._hit_script = redis._redis.register_script(_HIT)
        self._hits: dict[str, tuple[int, float]] = {}  # memory: key -> (count, window end, monotonic)

    def with_namespace(self, namespace: str) -> FallbackStore:
        return FallbackStore(self.redis.with_namespace(namespace), self.outage)

    async def aclose(self) -> None:
        """Close the Redis client (shared with this store's namespaces): for apps that live shorter
        than their process, such as tests'."""
        await self.redis._redis.aclose()  # type: ignore[attr-defined]  # the stubs predate aclose

    async def _call(self, operation: str, *args: Any) -> Any:
        if self.outage.redis_worth_trying():
            try:
                result = await getattr(self.redis, operation)(*args)
            except _REDIS_DOWN as exc:
                self.outage.lost(exc)
            else:
                self.outage.back()
                return result
        return await getattr(self.memory, operation)(*args)

    async def hit(self, key: str, limit: int, window_seconds: int) -> Hit:
        """Count a request of ``key`` against ``limit`` requests per ``window_seconds``, atomically."""
        if self.outage.redis_worth_trying():
            try:
                counted, used, ttl_ms = await self._hit_script(
                    keys=[self.redis._make_key(f"hits:{key}")], args=[limit, window_seconds * 1000]
                )
            except _REDIS_DOWN as exc:
                self.outage.lost(exc)
            else:
                self.outage.back()
                return Hit(bool(counted), int(used), max(1, math.ceil(int(ttl_ms) / 1000)))
        return self._memory_hit(key, limit, window_seconds)

    def _memory_hit(self, key: str, limit: int, window_seconds: int) -> Hit:
        now = time.monotonic()
        if len(self._hits) >= _MEMORY_PRUNE_AT:
            self._hits = {k: v for k, v in self._hits.items() if v[1] > now}
        used, ends = self._hits.get(key, (0, 0.0))
        if ends <= now:
            used, ends = 0, now + window_seconds
        reset_in = max(1, math.ceil(ends - now))
        if used >= limit:
            return Hit(False, used, reset_in)
        self._hits[key] = (used + 1, ends)
        return Hit(True, used + 1, reset_in)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self._call("set", key, value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        value: bytes | None = await self._call("get", key, renew_for)
        return value

    async def delete(self, key: str) -> None:
        await self._call("delete", key)

    async def delete_all(self) -> None:
        await self._call("delete_all")

    async def exists(self, key: str) -> bool:
        return bool(await self._call("exists", key))

    async def expires_in(self, key: str) -> int | None:
        seconds: int | None = await self._call("expires_in", key)
        return seconds
