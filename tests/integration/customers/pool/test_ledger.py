"""The ownership history is tamper-evident: verify recomputes the chain and names the first broken
entry; the database refuses UPDATE and DELETE (grant revoked from the app role, and a trigger)."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg
import pytest

from app import db
from app.customers.ledger import OwnershipChange, verify_chain
from app.customers.owner_changes import Moves, change_owners
from tenants.scope import TenantScope
from tests.helpers import connect
from tests.integration.customers.pool.support import ledger_rows, pool_customer, team


async def _history(client, admin_db):
    t = await team(client, admin_db, reps=2)
    for _ in range(3):
        c = await pool_customer(client, t.owner, t.territory["id"])
        for rep in t.reps:
            url = f"/api/v1/customers/{c['id']}"
            assert (await client.post(url + "/claim", headers=rep.headers)).status_code == 200
            r = await client.post(
                url + "/release", json={"reason": "other", "note": "轮换"}, headers=rep.headers
            )
            assert r.status_code == 200
    return t


async def test_verify_is_ok_then_names_the_tampered_entry(client, admin_db):
    t = await _history(client, admin_db)
    r = await client.get("/api/v1/ownership/verify", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["checked"] == 12 and body["first_broken_id"] is None
    assert body["head_seq"] == 12 and len(body["head_hash"]) == 64

    rows = await ledger_rows(admin_db, t.owner.tenant_id)
    victim = rows[5]
    async with connect(admin_db) as conn:  # a superuser who knows to disable the trigger
        async with conn.transaction():
            await conn.execute("ALTER TABLE customer_ownership_history DISABLE TRIGGER USER")
            await conn.execute(
                "UPDATE customer_ownership_history SET to_membership_id = $2 WHERE id = $1",
                victim["id"],
                UUID(t.reps[1].membership_id),
            )
            await conn.execute("ALTER TABLE customer_ownership_history ENABLE TRIGGER USER")
    body = (await client.get("/api/v1/ownership/verify", headers=t.owner.headers)).json()
    assert body["ok"] is False and body["first_broken_id"] == victim["id"] and body["first_broken_seq"] == 6


async def test_recomputing_the_tampered_hash_still_breaks_the_next_link(client, admin_db):
    t = await _history(client, admin_db)
    rows = await ledger_rows(admin_db, t.owner.tenant_id)
    victim, after = rows[3], rows[4]
    async with connect(admin_db) as conn, conn.transaction():
        await conn.execute("ALTER TABLE customer_ownership_history DISABLE TRIGGER USER")
        await conn.execute(
            "UPDATE customer_ownership_history SET reason = '伪造', hash = sha256(acre_ownership_content("
            " tenant, seq, customer_id, from_membership_id, to_membership_id, cause, actor, '伪造',"
            " plan_id, at, pool_id) || prev_hash) WHERE id = $1",
            victim["id"],
        )
        await conn.execute("ALTER TABLE customer_ownership_history ENABLE TRIGGER USER")
    body = (await client.get("/api/v1/ownership/verify", headers=t.owner.headers)).json()
    assert body["ok"] is False and body["first_broken_id"] == after["id"]


async def test_a_deleted_entry_is_a_gap(client, admin_db):
    t = await _history(client, admin_db)
    rows = await ledger_rows(admin_db, t.owner.tenant_id)
    async with connect(admin_db) as conn, conn.transaction():
        await conn.execute("ALTER TABLE customer_ownership_history DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM customer_ownership_history WHERE id = $1", rows[2]["id"])
        await conn.execute("ALTER TABLE customer_ownership_history ENABLE TRIGGER USER")
    body = (await client.get("/api/v1/ownership/verify", headers=t.owner.headers)).json()
    assert body["ok"] is False and body["first_broken_id"] == rows[3]["id"]


async def test_the_database_refuses_update_and_delete(client, admin_db, stack):
    t = await _history(client, admin_db)
    conn = await asyncpg.connect(stack.app_url)  # the application's own role
    try:
        for sql in (
            "UPDATE customer_ownership_history SET reason = 'x'",
            "DELETE FROM customer_ownership_history",
            "TRUNCATE customer_ownership_history",
        ):
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", t.owner.tenant_id)
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                    await conn.execute(sql)
    finally:
        await conn.close()
    async with connect(admin_db) as conn:  # even the superuser hits the trigger
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(
                "UPDATE customer_ownership_history SET reason = 'x' WHERE tenant = $1::uuid",
                t.owner.tenant_id,
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(
                "DELETE FROM customer_ownership_history WHERE tenant = $1::uuid", t.owner.tenant_id
            )
    assert len(await ledger_rows(admin_db, t.owner.tenant_id)) == 12


async def test_verify_needs_admin(client, admin_db):
    t = await team(client, admin_db, reps=1)
    r = await client.get("/api/v1/ownership/verify", headers=t.reps[0].headers)
    assert r.status_code == 403


async def test_bulk_append_is_one_statement_per_batch_and_chains(client, admin_db):
    """10,000 entries through the public API (as an import would), then verified."""
    t = await team(client, admin_db, reps=1)
    tenant = UUID(t.owner.tenant_id)
    changes = [OwnershipChange(uuid4(), None, UUID(t.reps[0].membership_id)) for _ in range(10_000)]
    scope = await TenantScope.for_job(tenant)
    async with db.transaction(tenant) as tx:
        imported = await change_owners(
            tx, scope, Moves.listed(changes), cause="import", reason="导入 批次1", created=True
        )
        assert (imported.moved, imported.written) == (10_000, 10_000)
        nothing = await change_owners(tx, scope, Moves.listed([]), cause="import", created=True)
        assert (nothing.moved, nothing.written) == (0, 0)
        with pytest.raises(ValueError):
            await change_owners(tx, scope, Moves.listed(changes[:1]), cause="stolen", created=True)
    async with db.transaction(tenant) as tx:
        result = await verify_chain(tx)
    assert result.ok and result.checked == 10_000 and result.head_seq == 10_000
