"""``db.transaction``: the scope GUCs set with the BEGIN, asyncpg's commit, rollback and savepoints
on top, and pooled connections handed back clean (no reset query runs on release); the pool's size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any
from uuid import UUID, uuid4

import pytest

from app import db
from app.settings import get_settings
from tests.conftest import ROOT
from tests.helpers import signup


async def _guc(tx: db.Tx) -> tuple[str, str]:
    row = await tx.fetchrow(
        "SELECT current_setting('app.tenant_id', true) AS t, current_setting('app.user_id', true) AS u"
    )
    assert row is not None
    return row["t"], row["u"]


async def test_the_scope_is_set_for_the_transaction_only(app: Any) -> None:
    tenant, user = uuid4(), uuid4()
    async with db.transaction(tenant, user) as tx:
        assert await _guc(tx) == (str(tenant), str(user))
        assert tx.connection.is_in_transaction()
    async with db.transaction(None) as tx:
        assert await _guc(tx) == ("", "")
    async with db.pool().acquire() as conn:  # a later borrower sees nothing of those transactions
        assert not conn.is_in_transaction()
        # (a signed-in read may have left its own scope on a pooled connection: every use of one
        # replaces it before its first statement — app/db.py, tests/unit/test_pool_use.py)
        assert await conn.fetchval("SELECT current_setting('app.tenant_id', true)") != str(tenant)
        assert await conn.fetchval("SELECT current_setting('app.user_id', true)") in (None, "")


async def test_commit_rollback_and_savepoints(app: Any, client: Any) -> None:
    owner = await signup(client)
    tenant = UUID(owner.tenant_id)

    async def name() -> str:
        async with db.transaction(tenant) as tx:
            return str(await tx.fetchval("SELECT name FROM tenants WHERE id = $1", tenant))

    before = await name()
    with pytest.raises(ZeroDivisionError):
        async with db.transaction(tenant) as tx:
            await tx.execute("UPDATE tenants SET name = 'rolled back' WHERE id = $1", tenant)
            raise ZeroDivisionError
    assert await name() == before

    async with db.transaction(tenant) as tx:
        with pytest.raises(ValueError):
            async with tx.connection.transaction():  # a savepoint inside the scoped transaction
                await tx.execute("UPDATE tenants SET name = 'savepoint undone' WHERE id = $1", tenant)
                raise ValueError
        assert await tx.fetchval("SELECT name FROM tenants WHERE id = $1", tenant) == before
        async with tx.connection.transaction():
            await tx.execute("UPDATE tenants SET name = 'committed' WHERE id = $1", tenant)
    assert await name() == "committed"

    committed: list[bool] = []
    with pytest.raises(Exception, match="division by zero"):
        async with db.transaction(tenant) as tx:
            tx.after_commit.append(lambda: committed.append(True))
            await tx.execute("SELECT 1 / 0")
    assert committed == []


async def test_rls_still_hides_other_tenants(app: Any, client: Any) -> None:
    a, b = await signup(client), await signup(client)
    async with db.transaction(UUID(a.tenant_id)) as tx:
        seen = {r["tenant"] for r in await tx.fetch("SELECT tenant FROM memberships")}
    assert seen == {UUID(a.tenant_id)} and UUID(b.tenant_id) not in seen
    async with db.transaction(None) as tx:
        assert await tx.fetchval("SELECT count(*) FROM memberships") == 0


# The API with ACRE_DATABASE_POOL_SIZE=3, in a process of its own (one pool per process): its pool
# hands out three connections, and a fourth borrower waits.
_POOL_PROBE = """
import asyncio, json
from app import db
from app.main import create_app

async def main():
    app = create_app()
    async with app.lifespan():
        pool = db.pool()
        held = [await pool.acquire() for _ in range(3)]
        try:
            held.append(await pool.acquire(timeout=0.5))
            fourth = "acquired"
        except TimeoutError:
            fourth = "waited"
        for conn in held:
            await pool.release(conn)
        print(json.dumps({"max_size": pool.get_max_size(), "fourth": fourth}))

asyncio.run(main())
"""


def test_the_pool_holds_at_most_acre_database_pool_size_connections(stack: Any) -> None:
    env = {**os.environ, "ACRE_DATABASE_POOL_SIZE": "3"}
    run = subprocess.run(
        [sys.executable, "-c", _POOL_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"max_size": 3, "fourth": "waited"}


async def test_a_second_pool_is_refused(app: Any, stack: Any) -> None:
    running = db.pool()
    with pytest.raises(RuntimeError, match="already started"):
        await db.start(stack.app_url, 3)
    assert db.pool() is running and running.get_max_size() == get_settings().database_pool_size
