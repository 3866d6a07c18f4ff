"""Per-client-address limits on the public endpoints, one bucket each: Litestar's rate-limit middleware,
one ``RateLimitConfig`` per bucket, each counting in its own Redis namespace, so that using one
endpoint never spends another's allowance (four verifications do not block a signup).

A route joins a bucket by declaring it: ``@post(..., middleware=[rate_limits.bucket("login")])``; the
limiter runs in front of those handlers only, and every other route has no limiter at all (no
middleware, no Redis round trip). The limits are those ``create_app`` was given (``install``), read by
each handler's limiter at its first request. The key is the connection's client address (a
forwarding header is not trusted). Past the limit the middleware raises ``TooManyRequestsException``
(counted in ``acre_rate_limit_refusals``) with Litestar's ``RateLimit-*`` headers: the API answers
problem+json with ``Retry-After`` (``app.errors``); a page may render its own 429 (the signing page,
the account pages); an answered request carries the same headers.

The count is Litestar's configuration (``RateLimitConfig``, a fixed window opened by the first
request) but not its middleware: that reads a count and writes it back under a lock of one process,
so requests at once through two API processes both passed. Each request is checked and counted in one
atomic step of the store (``FallbackStore.hit``): the limit holds across every process.

A bucket may also count something other than the address: ``spend(app, bucket, identity)`` counts
one request of an API key or of a public form, with the same store and window.

While Redis cannot be reached the buckets count in this process's memory instead (``app.rate_store``):
a weaker limit during the outage, never none and never an error.

The per-account limit on passwords (credential stuffing from many addresses) is not here: it needs the
email from the body and counts failures, not requests (``app.accounts.lockout``)."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import Redis

from app import redis_conn
from app.metrics import RATE_LIMIT_REFUSALS
from app.rate_store import FallbackStore, Hit
from app.settings import Settings

ROOT_STORE = "rate_limit"  # owns the Redis connection; every bucket's store is a namespace of it
DRAIN_BYTES = 256 * 1024  # of a refused request's body, read so that its 429 reaches the client
_STATE = "rate_limits"  # app.state key: bucket -> its RateLimitConfig
# bucket -> its limit per client address and minute
BUCKETS: dict[str, Callable[[Settings], int]] = {
    "login": lambda s: s.login_rate_limit_per_minute,
    "signup": lambda s: s.login_rate_limit_per_minute,
    "invitation": lambda s: s.login_rate_limit_per_minute,  # acceptance: the API and the page's form
    "password_reset": lambda s: s.login_rate_limit_per_minute,  # request and new password, API and pages
    "verify": lambda s: s.login_rate_limit_per_minute,  # the page's form and the API
    # the 撞单 check answers who owns a company: live as a rep types, never a way to list the market
    "lookup": lambda s: s.lookup_rate_limit_per_minute,
    # the signing link: the page (each load records a view) and its form posts; not the page images,
    # the signed PDF or the script
    "signing": lambda s: s.signing_rate_limit_per_minute,
    # the public inquiry form's posts (per client address: a route middleware) …
    "inquiry": lambda s: s.inquiry_rate_limit_per_minute,
    # … and per form, whatever the address (``spend``)
    "inquiry_form": lambda s: s.inquiry_form_rate_limit_per_minute,
    # per API key, whatever the address (``spend``, from the session dependency)
    "api_key": lambda s: s.api_key_rate_limit_per_minute,
}


class _Limiter:
    """Bucket ``name``'s limiter in front of one route handler, with the app's config for the bucket
    (a handler is declared before any app, which is made with its settings later)."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application = scope["litestar_app"]
        config: RateLimitConfig = application.state[_STATE][self.name]
        store = config.get_store_from_app(application)
        assert isinstance(store, FallbackStore), store
        unit, limit = config.rate_limit
        who = config.identifier_for_request(application.request_class(scope))
        hit = await store.hit(who, limit, DURATION_VALUES[unit])
        headers = _headers(config, hit)
        if not hit.allowed:
            RATE_LIMIT_REFUSALS.labels(self.name).inc()
            await _drain(receive)
            raise TooManyRequestsException(headers=headers)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                response_headers = MutableScopeHeaders(message)
                for key, value in headers.items():
                    response_headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _drain(receive: Receive) -> None:
    """Read (and drop) what is left of a refused request's body, up to ``DRAIN_BYTES``: answered with
    its body unread, a client still sending it (a multipart upload, sent after its headers) met a reset
    connection, its 429 lost, about one time in four. A larger body is left unread (its sender may
    see the reset)."""
    drained = 0
    while drained <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _headers(config: RateLimitConfig, hit: Hit) -> dict[str, str]:
    """Litestar's ``RateLimit-*`` headers (the IETF draft's) for ``hit``."""
    unit, limit = config.rate_limit
    return {
        config.rate_limit_policy_header_key: f"{limit}; w={DURATION_VALUES[unit]}",
        config.rate_limit_limit_header_key: str(limit),
        config.rate_limit_remaining_header_key: str(max(0, limit - hit.used)),
        config.rate_limit_reset_header_key: str(hit.reset_in),
    }


def bucket(name: str) -> DefineMiddleware:
    """The middleware of a route handler counted in bucket ``name``."""
    if name not in BUCKETS:
        raise ValueError(f"no rate-limit bucket {name!r}")
    return DefineMiddleware(_Limiter, name=name)


async def spend(app: Litestar, name: str, identity: str) -> None:
    """Count one request of ``identity`` (an API key, a form: not the client address) in bucket
    ``name``, with the bucket's limit and store, in the same atomic step as the middleware; past the
    limit ``TooManyRequestsException`` (429 with ``Retry-After``)."""
    config: RateLimitConfig = app.state[_STATE][name]
    store = config.get_store_from_app(app)
    assert isinstance(store, FallbackStore), store
    unit, limit = config.rate_limit
    hit = await store.hit(f"{name}::{identity}", limit, DURATION_VALUES[unit])
    if not hit.allowed:
        RATE_LIMIT_REFUSALS.labels(name).inc()
        raise TooManyRequestsException(headers=_headers(config, hit))


def counted(handler: BaseRouteHandler) -> bool:
    """Whether a route handler is counted in a bucket (so may answer 429)."""
    return any(getattr(m, "middleware", None) is _Limiter for m in handler.resolve_middleware())


def _store_name(name: str) -> str:
    return f"{ROOT_STORE}:{name}"


def install(app: Litestar, settings: Settings) -> None:
    """Give ``app`` the buckets' limits (read from ``settings`` now); before its first request."""
    app.state[_STATE] = {
        name: RateLimitConfig(rate_limit=("minute", limit(settings)), store=_store_name(name))
        for name, limit in BUCKETS.items()
    }


def stores(settings: Settings) -> dict[str, Store]:
    """The Redis stores the buckets count in: one connection, a namespace per bucket."""
    client = redis_conn.client(settings, Redis, socket_connect_timeout=1, socket_timeout=1)
    root = FallbackStore(RedisStore(client, namespace="acre:ratelimit"))
    return {ROOT_STORE: root, **{_store_name(name): root.with_namespace(name) for name in BUCKETS}}
