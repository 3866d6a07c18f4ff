"""Per-client-address limits on the public endpoints, one bucket each: Litestar's rate-limit middleware,
one ``RateLimitConfig`` per bucket, each counting in its own Redis namespace, so that using one
endpoint never spends another's allowance (four verifications do not block a signup).

A route joins a bucket by declaring it: ``@post(..., opt=rate_limits.bucket("login"))``. The key is
the connection's client address (a forwarding header is not trusted). Past the limit the middleware
raises ``TooManyRequestsException``: the API answers problem+json with ``Retry-After``
(``app.errors``); a page may render its own 429 (the signing page, the account pages).

While Redis cannot be reached the buckets count in this process's memory instead (``app.rate_store``):
a weaker limit during the outage, never none and never an error.

The per-account limit on passwords (credential stuffing from many addresses) is not here: it needs the
email from the body and counts failures, not requests (``app.accounts.lockout``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from app.rate_store import FallbackStore
from app.settings import Settings

ROOT_STORE = "rate_limit"  # owns the Redis connection; every bucket's store is a namespace of it
_OPT = "rate_limit"
# bucket -> its limit per client address and minute
BUCKETS: dict[str, Callable[[Settings], int]] = {
    "login": lambda s: s.login_rate_limit_per_minute,
    "signup": lambda s: s.login_rate_limit_per_minute,
    "invitation": lambda s: s.login_rate_limit_per_minute,  # acceptance: the API and the page's form
    "password_reset": lambda s: s.login_rate_limit_per_minute,  # request and new password, API and pages
    "verify": lambda s: s.login_rate_limit_per_minute,  # the page's form and the API
    # the signing link: the page (each load records a view) and its form posts; not the page images,
    # the signed PDF or the script
    "signing": lambda s: s.signing_rate_limit_per_minute,
}


def bucket(name: str) -> dict[str, str]:
    """The ``opt`` of a route handler counted in bucket ``name``."""
    if name not in BUCKETS:
        raise ValueError(f"no rate-limit bucket {name!r}")
    return {_OPT: name}


def counted(opt: Mapping[str, Any]) -> bool:
    """Whether a route handler with this ``opt`` is counted in a bucket (so may answer 429)."""
    return opt.get(_OPT) in BUCKETS


def _store_name(name: str) -> str:
    return f"{ROOT_STORE}:{name}"


def _config(name: str, settings: Settings) -> RateLimitConfig:
    async def check(request: Request[Any, Any, Any]) -> bool:  # async: a sync one runs in a thread
        return bool(request.route_handler.opt.get(_OPT) == name)

    return RateLimitConfig(
        rate_limit=("minute", BUCKETS[name](settings)), check_throttle_handler=check, store=_store_name(name)
    )


def middleware(settings: Settings) -> list[DefineMiddleware]:
    """One rate-limit middleware per bucket (limits read from ``settings`` now)."""
    return [_config(name, settings).middleware for name in BUCKETS]


def stores(settings: Settings) -> dict[str, Store]:
    """The Redis stores the buckets count in: one connection, a namespace per bucket."""
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    root = FallbackStore(RedisStore(client, namespace="acre:ratelimit"))
    return {ROOT_STORE: root, **{_store_name(name): root.with_namespace(name) for name in BUCKETS}}
