"""The database engine, its pool and scoped transactions.

Every ``transaction(tenant_id, user_id)`` sets ``app.tenant_id`` and ``app.user_id`` with
``set_config(..., true)`` (transaction-local; empty for ``None``) so PostgreSQL row-level security
applies: a query that forgets its tenant filter then sees nothing rather than another tenant's rows.
A user id is passed only where no tenant is chosen: by login, to list the user's memberships (the
``memberships`` policy), and for account mail (a password reset; the ``account_mail`` policy on
``account_emails``); every other transaction leaves ``app.user_id`` empty.

A request holds one pooled connection (``held_connection()``, taken by the session dependency before
the session lookup) and each of its transactions runs on it: a request queues for the pool once.

**Reads in fewer round trips.** A ``GET`` on a session (``tenants.scope``) looks the session up with
``acre_session(hash, true)``, which also scopes the held connection at the session level: its tenant in
``app.tenant_id`` and ``default_transaction_read_only`` on (``Held.read_tenant``). That request's
transactions for its tenant are then no transactions at all: each statement runs on its own, under the
same forced row-level security, with no ``BEGIN`` and no ``COMMIT`` — two round trips for a one-query
page instead of four. Read committed takes a new snapshot per statement inside a transaction too, so a
read sees nothing different; a write among them is refused by PostgreSQL (``read-only transaction``),
never committed statement by statement: a ``GET`` that writes declares it (``opt={"writes": True}``)
and gets real transactions. The scope stays on the connection when the request releases it (unsetting
it would cost the round trip saved), and every use of a pooled connection replaces it before its first
statement: a read's lookup with its own, any other session lookup with none (so between its
transactions a request's connection has no tenant, as before), a scoped transaction transaction-locally
(opening ``READ WRITE``), the API-key lookup — the one autocommit statement that writes — after
``writable``. Nothing else runs statements on a pooled connection (``tests/unit/test_pool_use.py``).
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from app.scoped_transaction import ScopedTransaction

DB = PostgresEngine(config={"dsn": "postgresql://acre_app@127.0.0.1:5432/acre"})


@dataclass
class Tx:
    """One open transaction: its connection and callbacks to run once it has committed."""

    connection: asyncpg.Connection
    tenant_id: UUID | None
    user_id: UUID | None = None
    after_commit: list[Callable[[], Any]] = field(default_factory=list)
    # Set (``{}``) only on a transaction that reads and never writes (a page's ``GET``): lookups that
    # cost round trips and cannot change within it (a member's customer access) are kept here, so a
    # page's second service call does not read them again. ``None``: nothing is kept.
    read_memo: dict[Any, Any] | None = None

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.connection.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self.connection.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.connection.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        return await self.connection.execute(sql, *args)


_current: contextvars.ContextVar[Tx | None] = contextvars.ContextVar("acre_tx", default=None)


class PooledConnection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset query (``RESET ALL; UNLISTEN *; …``),
    which costs a round trip on every release. The one session state it may keep is a read's scope
    (module docstring), which every use of a pooled connection replaces before its first statement;
    locks are ``pg_advisory_xact_lock`` (the one session-level lock, the import job's, is unlocked in a
    ``finally``), and asyncpg still rolls back a transaction left open on release (overriding
    ``get_reset_query`` is public asyncpg API, since 0.30). ``acre_read_only``: the last request left
    it scoped for reads (read-only by default; ``writable`` undoes it)."""

    acre_read_only = False

    def get_reset_query(self) -> str:
        return ""


@dataclass(eq=False)
class Held:
    """A pooled connection held for one request: every ``transaction(..., held=...)`` of the request
    runs on it, one after another (two at once on it raise ``InterfaceError``: a request's work does not
    run scoped transactions concurrently). ``connection`` is ``None`` once released: a transaction
    opened after that (a background task, a streamed body) takes a connection of its own."""

    connection: asyncpg.Connection | None
    # the tenant the session lookup scoped this connection to for reads (``acre_session(hash, true)``);
    # ``None``: every transaction is a real one
    read_tenant: UUID | None = None

    def scoped_for_reads(self, tenant_id: UUID | None) -> None:
        """Record that the session lookup scoped the connection for reads: ``app.tenant_id`` (``None``:
        no session, no tenant) and ``default_transaction_read_only`` set at the session level."""
        assert self.connection is not None
        self.read_tenant = tenant_id
        _real(self.connection).acre_read_only = True

    def unscoped(self) -> None:
        """Record that the session lookup left the connection with no tenant and writable."""
        if self.connection is not None:
            _real(self.connection).acre_read_only = False


def _real(conn: asyncpg.Connection) -> Any:
    """The connection behind a pool's proxy (``app.scoped_transaction`` names this private API)."""
    return getattr(conn, "_con", conn)


async def writable(conn: asyncpg.Connection) -> None:
    """Before an autocommit statement that writes (the API-key lookup): undo the read-only scope a read
    left on this pooled connection, if one did (else no round trip)."""
    real = _real(conn)
    if getattr(real, "acre_read_only", False):
        await conn.execute(_UNSCOPE)
        real.acre_read_only = False


_UNSCOPE = (
    "SELECT set_config('app.tenant_id', '', false), set_config('default_transaction_read_only', 'off', false)"
)


@asynccontextmanager
async def held_connection() -> AsyncIterator[Held]:
    """Acquire one pooled connection for a request and release it on exit (after the handler, before
    the response is sent). It is held through the whole handler, slow non-database work included. A
    connection may come back scoped by a read before (module docstring)."""
    conn = await pool().acquire()
    held = Held(conn)
    try:
        yield held
    finally:
        held.connection = None
        await pool().release(conn)


def configure(dsn: str) -> None:
    """Point the engine at ``dsn`` without a pool (the migrations: Piccolo connects per query)."""
    DB.config = {"dsn": dsn}


async def start(dsn: str, pool_size: int) -> None:
    """Open this process's pool on ``dsn``: at most ``pool_size`` connections
    (``ACRE_DATABASE_POOL_SIZE`` in the API and the worker). Raises if a pool is already open: Piccolo
    would keep that one, with its own address and size."""
    if DB.pool is not None:
        raise RuntimeError("the database pool is already started: db.stop() it first")
    configure(dsn)
    await DB.start_connection_pool(min_size=1, max_size=pool_size, connection_class=PooledConnection)


def pool() -> asyncpg.Pool:
    if DB.pool is None:
        raise RuntimeError("the database pool is not started: call db.start(...)")
    return DB.pool


async def stop() -> None:
    await DB.close_connection_pool()


def current_tx() -> Tx:
    """The transaction open in this task; raises if none is (writes must happen inside one)."""
    tx = _current.get()
    if tx is None:
        raise RuntimeError("no transaction is open: wrap the call in db.transaction(...)")
    return tx


@asynccontextmanager
async def _scoped(
    conn: asyncpg.Connection, tenant_id: UUID | None, user_id: UUID | None
) -> AsyncIterator[Tx]:
    async with ScopedTransaction(conn, tenant_id, user_id):
        tx = Tx(connection=conn, tenant_id=tenant_id, user_id=user_id)
        token = _current.set(tx)
        try:
            yield tx
        finally:
            _current.reset(token)


@asynccontextmanager
async def transaction(
    tenant_id: UUID | None, user_id: UUID | None = None, *, held: Held | None = None
) -> AsyncIterator[Tx]:
    """Open a transaction scoped to ``tenant_id`` (``None`` = only global tables are visible), on the
    ``held`` connection while it is held, else on one acquired from the pool for the transaction. On a
    connection scoped for reads (``Held.read_tenant``) it is no transaction: its statements run one by
    one, read-only (module docstring).

    Nested use joins the outer transaction, which must be for the same tenant (its ``user_id``
    stays). Callbacks in ``Tx.after_commit`` run after a successful commit, never after a rollback.
    """
    outer = _current.get()
    if outer is not None:
        if outer.tenant_id != tenant_id:
            raise RuntimeError("nested transaction for another tenant")
        yield outer
        return
    if held is not None and held.connection is not None and held.read_tenant is not None:
        if held.read_tenant != tenant_id or user_id is not None:
            raise RuntimeError("a read-only request's connection is scoped to its own tenant only")
        tx = Tx(connection=held.connection, tenant_id=tenant_id)
        token = _current.set(tx)
        try:
            yield tx
        finally:
            _current.reset(token)
    elif held is not None and held.connection is not None:
        async with _scoped(held.connection, tenant_id, user_id) as tx:
            yield tx
    else:
        conn: asyncpg.Connection
        async with pool().acquire() as conn, _scoped(conn, tenant_id, user_id) as tx:
            yield tx
    for callback in tx.after_commit:
        callback()


async def ping() -> None:
    await pool().fetchval("SELECT 1")
