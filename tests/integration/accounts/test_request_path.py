"""The request path: one pooled connection per request (the session lookup and every scoped
transaction on it, row-level security set per transaction), and rate limiters only in front of the
routes of their bucket."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from redis.asyncio import Redis

from app import db
from tests.helpers import client_at, random_ip, settings_env, signup


@contextmanager
def acquisitions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The pool acquisitions made meanwhile, but for the app's background relay (its own task; Litestar
    may resolve a dependency in a task of its own, so the request's are not all in this one)."""
    pool_class = type(db.pool())  # asyncpg's Pool (slotted: patched on its class)
    original = pool_class.acquire
    seen: list[str] = []

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        current = asyncio.current_task()
        if current is None or current.get_name() != "outbox-relay":
            seen.append("acquire")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pool_class, "acquire", counting)
    try:
        yield seen
    finally:
        monkeypatch.undo()


async def test_an_authenticated_request_takes_one_pooled_connection(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signup(client)
    with acquisitions(monkeypatch) as seen:
        r = await client.get("/api/v1/members", headers=owner.headers)  # session, then a scoped read
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    assert seen == ["acquire"]
    with acquisitions(monkeypatch) as seen:
        r = await client.post(
            "/api/v1/invitations", json={"email": "one-conn@example.com"}, headers=owner.headers
        )
    assert r.status_code == 201, r.text
    assert seen == ["acquire"]
    with acquisitions(monkeypatch) as seen:
        r = await client.get("/api/v1/members", headers={"Authorization": "Bearer not-a-session"})
    assert r.status_code == 401 and seen == ["acquire"]


async def test_rls_applies_per_transaction_on_the_held_connection(app: Any, client: Any) -> None:
    a, b = await signup(client), await signup(client)
    ta, tb = UUID(a.tenant_id), UUID(b.tenant_id)
    sql = "SELECT DISTINCT tenant FROM memberships"  # no tenant filter: RLS alone decides
    async with db.held_connection() as held:
        assert held.connection is not None
        pid = await held.connection.fetchval("SELECT pg_backend_pid()")
        async with db.transaction(ta, held=held) as tx:
            assert tx.connection is held.connection
            assert [r["tenant"] for r in await tx.fetch(sql)] == [ta]
        # between transactions the connection has no tenant, and sees no tenant's rows
        assert await held.connection.fetchval("SELECT current_setting('app.tenant_id', true)") in ("", None)
        assert await held.connection.fetch(sql) == []
        async with db.transaction(tb, held=held) as tx:
            assert await tx.fetchval("SELECT pg_backend_pid()") == pid
            assert [r["tenant"] for r in await tx.fetch(sql)] == [tb]
            assert await tx.fetchval("SELECT count(*) FROM memberships WHERE tenant = $1", ta) == 0
        with pytest.raises(ZeroDivisionError):
            async with db.transaction(ta, held=held):
                raise ZeroDivisionError
        assert not held.connection.is_in_transaction()  # rolled back, the connection reusable
    assert held.connection is None
    async with db.transaction(ta, held=held) as tx:  # after release: a connection of its own
        assert [r["tenant"] for r in await tx.fetch(sql)] == [ta]


async def test_two_transactions_at_once_on_the_held_connection_fail_loudly(app: Any) -> None:
    async with db.held_connection() as held:
        async with db.transaction(None, held=held):
            with pytest.raises(Exception, match="outermost"):
                # a task of a fresh context does not join the open one (that is per context): it collides
                await asyncio.create_task(_open(held), context=contextvars.Context())


async def _open(held: db.Held) -> None:
    async with db.transaction(None, held=held):
        pass


def _middleware(app: Any, path: str, method: str) -> list[Any]:
    """What runs in front of the handler of ``method path``: its (and the app's) middleware."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if route.path == path and method in handler.http_methods:
                return [getattr(m, "middleware", m) for m in handler.resolve_middleware()]
    raise LookupError(path)


async def _limiter_keys(redis_url: str, ip: str) -> list[bytes]:
    redis = Redis.from_url(redis_url)
    try:
        return [key async for key in redis.scan_iter(match=f"acre:ratelimit*{ip}*")]
    finally:
        await redis.aclose()


async def test_only_the_routes_of_a_bucket_touch_its_limiter(app: Any, client: Any, stack: Any) -> None:
    from app.main import create_app

    owner = await signup(client)
    with settings_env(login_rate_limit_per_minute="3"):
        limited = create_app()
    assert _middleware(limited, "/api/v1/me", "GET") == []  # no limiter: not even a check
    assert _middleware(limited, "/api/v1/pool", "GET") == []
    assert len(_middleware(limited, "/api/v1/auth/login", "POST")) == 1
    ip = random_ip()
    try:
        async with client_at(limited, ip) as c:
            for _ in range(6):  # twice the login limit, on routes outside every bucket
                assert (await c.get("/api/v1/me", headers=owner.headers)).status_code == 200
                assert (await c.get("/health")).status_code == 200
            assert await _limiter_keys(stack.redis_url, ip) == []
            wrong = {"email": owner.email, "password": "Not-the-password-1"}
            for _ in range(3):
                assert (await c.post("/api/v1/auth/login", json=wrong)).status_code == 401
            r = await c.post("/api/v1/auth/login", json=wrong)
            assert r.status_code == 429 and r.json()["type"] == "/problems/rate-limited"
            assert len(await _limiter_keys(stack.redis_url, ip)) == 1  # the login bucket's count
            assert (await c.get("/api/v1/me", headers=owner.headers)).status_code == 200
    finally:
        await limited.stores.get("rate_limit").aclose()
