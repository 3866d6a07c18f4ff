"""The request path: one pooled connection per request (the session lookup and every scoped
transaction on it, row-level security set per transaction), a session's ``GET`` read without
transactions on a read-only scoped connection, and rate limiters only in front of the routes of their
bucket."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from redis.asyncio import Redis

from app import db
from app.accounts.service import token_hash
from app.scoped_transaction import ScopedTransaction
from tenants.scope import resolve_session
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
        assert await resolve_session(a.token, held) is not None  # first, as on every request (not a read)
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


@contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements each request's held connection sends meanwhile, in order (asyncpg's query
    logger, on the connection from the request's acquiring it to its release)."""
    sent: list[str] = []
    original = db.held_connection

    @asynccontextmanager
    async def logging() -> AsyncIterator[db.Held]:
        def log(record: Any) -> None:
            sent.append(" ".join(record.query.split()))

        async with original() as held:
            assert held.connection is not None
            conn = held.connection._con  # behind the pool's proxy: still there after the release
            conn.add_query_logger(log)
            yield held
        conn.remove_query_logger(log)  # after the release: its unscoping is logged too

    monkeypatch.setattr(db, "held_connection", logging)
    yield sent


async def test_a_sessions_get_reads_in_two_round_trips_without_a_transaction(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signup(client)
    with statements(monkeypatch) as sent:
        r = await client.get("/api/v1/members", headers=owner.headers)
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    assert len(sent) == 2, sent
    assert sent[0].startswith("SELECT * FROM acre_session($1, true)")  # the lookup scopes it
    assert "FROM memberships" in sent[1]  # the read itself, on its own
    assert not any(s.startswith(("BEGIN", "COMMIT")) for s in sent)
    with statements(monkeypatch) as sent:  # a write: a real transaction, as before
        r = await client.post("/api/v1/invitations", json={"email": "rt@example.com"}, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert sent[0].startswith("SELECT * FROM acre_session($1)") and "true" not in sent[0]
    assert sent[1].startswith("BEGIN READ WRITE; SELECT set_config('app.tenant_id'")
    assert sent[-1].rstrip(";") == "COMMIT"


async def test_behind_a_transaction_pooler_reads_take_real_transactions(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await signup(client)
    with settings_env(database_session_scoped_reads="false"), statements(monkeypatch) as sent:
        r = await client.get("/api/v1/members", headers=owner.headers)
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    assert sent[0] == "SELECT * FROM acre_session($1)"
    assert sent[1].startswith("BEGIN READ WRITE;") and sent[-1].rstrip(";") == "COMMIT"


async def test_a_read_scoped_connection_sees_its_tenant_only_refuses_writes_and_is_rescoped_by_each_use(
    app: Any, client: Any
) -> None:
    a, b = await signup(client), await signup(client)
    ta = UUID(a.tenant_id)
    before = await _member_count(ta)
    async with db.held_connection() as held:
        assert held.connection is not None
        conn = held.connection
        scope = await resolve_session(a.token, held, read=True)
        assert scope is not None and held.read_tenant == ta
        async with scope.tx() as tx:
            assert tx.connection is conn and not conn.is_in_transaction()  # no transaction at all
            assert [r["tenant"] for r in await tx.fetch("SELECT DISTINCT tenant FROM memberships")] == [ta]
            assert (
                await tx.fetchval("SELECT count(*) FROM memberships WHERE tenant = $1", UUID(b.tenant_id))
                == 0
            )
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await tx.execute("UPDATE memberships SET role = role WHERE tenant = $1", ta)
        with pytest.raises(RuntimeError, match="its own tenant"):
            async with db.transaction(UUID(b.tenant_id), held=held):
                pass
        pid = await conn.fetchval("SELECT pg_backend_pid()")
    assert await _member_count(ta) == before
    # the read's scope stays on the pooled connection (unsetting it would cost the round trip saved)…
    pool = db.pool()
    conns = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        pids = [await c.fetchval("SELECT pg_backend_pid()") for c in conns]
        target = conns[pids.index(pid)]
        assert await target.fetchval("SELECT current_setting('app.tenant_id', true)") == str(ta)
        assert await target.fetchval("SHOW default_transaction_read_only") == "on"
        # …and every use replaces it before its first statement: a scoped transaction (read-write)…
        async with ScopedTransaction(target, None, None):
            assert await target.fetch("SELECT tenant FROM memberships") == []
            assert await target.fetchval("SHOW transaction_read_only") == "off"
        # …the API-key lookup's `writable` (it writes in autocommit)…
        await db.writable(target)
        assert await target.fetchval("SHOW default_transaction_read_only") == "off"
        assert await target.fetch("SELECT tenant FROM memberships") == []
        await db.writable(target)  # nothing left to undo: no statement
        # …and a session lookup that is not a read, which leaves no tenant behind
        await target.fetchrow("SELECT * FROM acre_session($1, true)", token_hash(a.token))
        await target.fetchrow("SELECT * FROM acre_session($1)", token_hash(a.token))
        assert await target.fetchval("SELECT current_setting('app.tenant_id', true)") == ""
        assert await target.fetchval("SHOW default_transaction_read_only") == "off"
    finally:
        for c in conns:
            await pool.release(c)


async def _member_count(tenant: UUID) -> int:
    async with db.transaction(tenant) as tx:
        return int(await tx.fetchval("SELECT count(*) FROM memberships"))


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


def test_what_startup_made_is_out_of_the_collectors_reach(app: Any) -> None:
    import gc

    # the app's lifespan froze it: a full collection walks only what requests make
    assert gc.get_freeze_count() > 100_000
