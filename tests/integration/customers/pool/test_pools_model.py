"""The pools model: every territory has its pool, every customer one, a pool's scope decides who
sees and claims its customers, and the ownership history names the pool of each entry."""

from __future__ import annotations

from tests.factories import db_rows, db_value, territory
from tests.helpers import connect
from tests.integration.customers.pool.support import ledger_rows, pool_customer, quick_members, team


async def test_a_territory_has_its_pool_and_a_customer_entered_there_is_in_it(client, admin_db):
    t = await team(client, admin_db, reps=1)
    pool_id = await db_value(
        admin_db,
        "SELECT id FROM pools WHERE territory_id = $1::uuid AND kind = 'territory'",
        t.territory["id"],
    )
    assert pool_id is not None
    made = await pool_customer(client, t.owner, t.territory["id"])
    assert (
        await db_value(admin_db, "SELECT pool_id FROM customers WHERE id = $1::uuid", made["id"]) == pool_id
    )

    rep = t.reps[0]
    assert (
        await client.post(f"/api/v1/customers/{made['id']}/claim", headers=rep.headers)
    ).status_code == 200
    r = await client.post(
        f"/api/v1/customers/{made['id']}/release", json={"reason": "other", "note": "x"}, headers=rep.headers
    )
    assert r.status_code == 200, r.text
    rows = await ledger_rows(admin_db, t.owner.tenant_id, made["id"])
    assert [(r["cause"], r["pool_id"]) for r in rows] == [("claim", pool_id), ("release", pool_id)]
    assert (await client.get("/api/v1/ownership/verify", headers=t.owner.headers)).json()["ok"] is True


async def test_a_customer_in_its_territorys_pool_follows_its_territory(client, admin_db):
    t = await team(client, admin_db, reps=1)
    other = await territory(client, t.owner, "无锡市")
    made = await pool_customer(client, t.owner, t.territory["id"])
    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE customers SET territory_id = $2::uuid WHERE id = $1::uuid", made["id"], other["id"]
        )
        pool = await conn.fetchval(
            "SELECT p.territory_id FROM customers c JOIN pools p ON p.tenant = c.tenant AND p.id = c.pool_id"
            " WHERE c.id = $1::uuid",
            made["id"],
        )
    assert str(pool) == other["id"]


async def test_a_scoped_pool_is_seen_and_claimed_only_by_its_scope(client, admin_db):
    t = await team(client, admin_db, reps=1)
    outsider = t.reps[0]  # works the customer's territory, not in the pool's scope
    (insider,) = await quick_members(client, admin_db, t.owner, 1)
    made = await pool_customer(client, t.owner, t.territory["id"])
    async with connect(admin_db) as conn:
        pool_id = await conn.fetchval(
            "INSERT INTO pools (tenant, name, kind) VALUES ($1::uuid, '大客户', 'key_accounts') RETURNING id",
            t.owner.tenant_id,
        )
        await conn.execute(
            "INSERT INTO pool_scopes (tenant, pool_id, membership_id) VALUES ($1::uuid, $2, $3::uuid)",
            t.owner.tenant_id,
            pool_id,
            insider.membership_id,
        )
        await conn.execute("UPDATE customers SET pool_id = $2 WHERE id = $1::uuid", made["id"], pool_id)

    assert (await client.get(f"/api/v1/customers/{made['id']}", headers=outsider.headers)).status_code == 404
    r = await client.post(f"/api/v1/customers/{made['id']}/claim", headers=outsider.headers)
    assert r.status_code == 404
    listed = (await client.get("/api/v1/pool", headers=outsider.headers)).json()["items"]
    assert made["id"] not in [i["id"] for i in listed]
    listed = (await client.get("/api/v1/pool", headers=insider.headers)).json()["items"]
    assert made["id"] in [i["id"] for i in listed]

    r = await client.post(f"/api/v1/customers/{made['id']}/claim", headers=insider.headers)
    assert r.status_code == 200, r.text
    (entry,) = await ledger_rows(admin_db, t.owner.tenant_id, made["id"])
    assert entry["pool_id"] == pool_id and entry["cause"] == "claim"


async def test_an_entry_written_before_pools_still_verifies(client, admin_db):
    t = await team(client, admin_db, reps=1)
    made = await pool_customer(client, t.owner, t.territory["id"])
    async with connect(admin_db) as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", t.owner.tenant_id)
        await conn.execute(
            "SELECT acre_ownership_append(ARRAY[$1::uuid], ARRAY[NULL::uuid], ARRAY[$2::uuid], 'assign',"
            " NULL, 'v1', NULL, ARRAY[NULL::uuid])",
            made["id"],
            t.reps[0].membership_id,
        )
    (row,) = await db_rows(
        admin_db, "SELECT pool_id FROM customer_ownership_history WHERE customer_id = $1::uuid", made["id"]
    )
    assert row["pool_id"] is None
    body = (await client.get("/api/v1/ownership/verify", headers=t.owner.headers)).json()
    assert body["ok"] is True and body["checked"] >= 1
