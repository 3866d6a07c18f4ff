"""Connections to Redis: one URL (``ACRE_REDIS_URL``), or a Redis Sentinel deployment
(``ACRE_REDIS_SENTINELS`` = ``host:port,host:port``, ``ACRE_REDIS_SENTINEL_MASTER``), where every new
connection asks the sentinels for the current master and a failover moves the clients to the new one.
The URL still gives the database number and the password of the master in the Sentinel case.

Used by the ARQ queue (API and worker), the rate limits and the per-account lock. A write that reached
an old master just before a failover but not its replica is lost with it; the outbox relay therefore
waits for a replica to have each batch (``WAIT``, ``ACRE_REDIS_WAIT_REPLICAS``) before it counts the
batch as enqueued (``app.outbox``)."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlsplit

from arq.connections import ArqRedis, RedisSettings
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel

from app.settings import Settings

R = TypeVar("R", bound=Redis)


def _master_options(settings: Settings) -> dict[str, Any]:
    url = urlsplit(settings.redis_url)
    db = int(url.path.strip("/") or 0) if url.scheme in ("redis", "rediss") else 0
    return {"db": db, "password": url.password, "username": url.username or None}


def client(settings: Settings, redis_class: type[R], **options: Any) -> R:
    """A client of the Redis master (``options``: socket timeouts and the like)."""
    if not settings.redis_sentinels:
        plain = redis_class(connection_pool=ConnectionPool.from_url(settings.redis_url, **options))
        plain.auto_close_connection_pool = True  # as from_url: closing the client closes its pool
        return plain
    timeouts = {k: v for k, v in options.items() if k.startswith("socket_")}
    sentinel = Sentinel(settings.redis_sentinels, sentinel_kwargs=timeouts, **options)
    return sentinel.master_for(
        settings.redis_sentinel_master, redis_class=redis_class, **_master_options(settings)
    )


def arq_client(settings: Settings, **options: Any) -> ArqRedis:
    redis = client(settings, ArqRedis, **options)
    redis.default_queue_name = settings.queue_name
    return redis


def arq_settings(settings: Settings) -> RedisSettings:
    """The worker's ``redis_settings``."""
    if not settings.redis_sentinels:
        return RedisSettings.from_dsn(settings.redis_url)
    options = _master_options(settings)
    return RedisSettings(
        host=list(settings.redis_sentinels),
        sentinel=True,
        sentinel_master=settings.redis_sentinel_master,
        database=options["db"],
        password=options["password"],
        username=options["username"],
    )
