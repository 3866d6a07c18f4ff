"""The rate limiters' store: Redis, shared by every API process, and while Redis cannot be reached an
in-process memory store instead, so that login, signup and invitation acceptance keep working during a
Redis outage. The limit then holds per process rather than across processes, and counts start afresh
on each switch: a weaker limit for the outage, never none and never an error.

One warning when it switches to memory, one when Redis answers again. While Redis is down it is tried
again at most every ``RETRY_SECONDS`` (the other requests go straight to memory, without waiting for a
connection to fail).
"""

from __future__ import annotations

import time
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
