"""Rules per pool and caps with nuance: a pool's rules override the tenant's; owned and daily caps
per territory and per member; locks (锁定) with their own cap and no auto-reclaim; won customers
counted or not; the new-in-pool delay; reclaim into the pool a rule names; release into a chosen
pool with a reason from the list."""

from __future__ import annotations

import asyncio
import json

from app.customers.pool.reclaim import reclaim_tenant
from tenants.scope import TenantScope
from tests.factories import customer, db_value, territory
from tests.helpers import connect
from tests.integration.customers.pool.support import age, ledger_rows, pool_customer, put_rules, team


async def _claim(client, who, cid):
    return await client.post(f"/api/v1/customers/{cid}/claim", headers=who.headers)


async def _pool_of_territory(admin_db, territory_id):
    return await db_value(admin_db, "SELECT id FROM pools WHERE territory_id = $1::uuid", territory_id)


async def _custom_pool(admin_db, tenant_id, name="大客户", **rules):
    return await db_value(
        admin_db,
        "INSERT INTO pools (tenant, name, kind, rules)"
        " VALUES ($1::uuid, $2, 'key_accounts', $3::jsonb) RETURNING id",
        tenant_id,
        name,
        json.dumps(rules) if rules else None,
    )


async def test_a_pools_rules_override_the_tenants(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    await put_rules(client, t.owner, owned_cap=100)
    pool_id = await _pool_of_territory(admin_db, t.territory["id"])
    await db_value(
        admin_db, """UPDATE pools SET rules = '{"owned_cap": 1}' WHERE id = $1 RETURNING 1""", pool_id
    )
    first, second = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(2)]
    assert (await _claim(client, rep, first["id"])).status_code == 200
    r = await _claim(client, rep, second["id"])
    assert r.status_code == 409 and r.json()["rule"] == "owned_cap" and r.json()["params"]["cap"] == 1

    # grade days per pool: 5 days for grade A in this pool, the tenant's 15 elsewhere
    other = await territory(client, t.owner, "无锡市")
    await db_value(
        admin_db,
        """UPDATE pools SET rules = '{"grades": {"A": {"no_followup_days": 5}}}' WHERE id = $1 RETURNING 1""",
        pool_id,
    )
    here = await customer(
        client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep.membership_id
    )
    there = await customer(client, t.owner, other["id"], grade="A", owner_membership_id=rep.membership_id)
    for c in (here, there):
        await age(admin_db, c["id"], 6)
    assert await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)) == 1  # here, not there
    owners = {
        c["id"]: await db_value(
            admin_db, "SELECT owner_membership_id FROM customers WHERE id = $1::uuid", c["id"]
        )
        for c in (here, there)
    }
    assert owners[here["id"]] is None and str(owners[there["id"]]) == rep.membership_id


async def test_caps_per_member_beat_per_territory_beat_the_rules(client, admin_db):
    t = await team(client, admin_db, reps=2)
    a, b = t.reps
    await put_rules(client, t.owner, owned_cap=100)
    async with connect(admin_db) as conn:
        await conn.execute(
            "INSERT INTO pool_cap_overrides (tenant, territory_id, owned_cap, daily_claim_cap)"
            " VALUES ($1::uuid, $2::uuid, 1, 2)",
            t.owner.tenant_id,
            t.territory["id"],
        )
        await conn.execute(
            "INSERT INTO pool_cap_overrides (tenant, membership_id, owned_cap)"
            " VALUES ($1::uuid, $2::uuid, 5)",
            t.owner.tenant_id,
            b.membership_id,
        )
    made = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(4)]
    assert (await _claim(client, a, made[0]["id"])).status_code == 200
    r = await _claim(client, a, made[1]["id"])  # the territory's owned cap of 1
    assert r.status_code == 409 and r.json()["rule"] == "owned_cap" and r.json()["params"]["cap"] == 1
    assert (await _claim(client, b, made[1]["id"])).status_code == 200  # b's own cap of 5
    assert (await _claim(client, b, made[2]["id"])).status_code == 200
    r = await _claim(client, b, made[3]["id"])  # the territory's daily cap of 2 still holds for b
    assert r.status_code == 409 and r.json()["rule"] == "daily_cap" and r.json()["params"]["cap"] == 2


async def test_won_customers_count_toward_the_cap_when_the_setting_says(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id, status="won")
    made = await pool_customer(client, t.owner, t.territory["id"])
    await put_rules(client, t.owner, owned_cap=1, count_won=True)
    r = await _claim(client, rep, made["id"])
    assert r.status_code == 409 and r.json()["rule"] == "owned_cap" and r.json()["params"]["count"] == 1
    await put_rules(client, t.owner, owned_cap=1, count_won=False)
    assert (await _claim(client, rep, made["id"])).status_code == 200


async def test_locks_have_their_cap_and_keep_the_sweep_away(client, admin_db):
    t = await team(client, admin_db, reps=2)
    rep, other = t.reps
    await put_rules(client, t.owner, lock_cap=1)
    mine = [
        await customer(client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep.membership_id)
        for _ in range(3)
    ]
    r = await client.post(f"/api/v1/customers/{mine[0]['id']}/lock", headers=rep.headers)
    assert r.status_code == 200 and r.json()["locked_at"] is not None
    r = await client.post(f"/api/v1/customers/{mine[1]['id']}/lock", headers=rep.headers)
    assert (
        r.status_code == 409
        and r.json()["rule"] == "lock_cap"
        and r.json()["params"] == {"count": 1, "cap": 1}
    )
    r = await client.post(f"/api/v1/customers/{mine[1]['id']}/lock", headers=other.headers)
    assert r.status_code in (403, 404)
    r = await client.post(f"/api/v1/customers/{mine[1]['id']}/lock", headers=t.owner.headers)
    assert r.status_code == 403  # only its owner locks

    for c in mine:
        await age(admin_db, c["id"], 20)
    assert await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)) == 2  # not the locked one
    assert (
        await db_value(
            admin_db, "SELECT owner_membership_id::text FROM customers WHERE id = $1::uuid", mine[0]["id"]
        )
        == rep.membership_id
    )
    status = (await client.get(f"/api/v1/customers/{mine[0]['id']}/pool-status", headers=rep.headers)).json()
    assert status["reclaim"]["exempt"] is True and "locked" in status["reclaim"]["exempt_reasons"]

    r = await client.delete(f"/api/v1/customers/{mine[0]['id']}/lock", headers=rep.headers)
    assert r.status_code == 200 and r.json()["locked_at"] is None
    assert await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)) == 1


async def test_two_locks_racing_for_the_last_slot_one_wins(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    await put_rules(client, t.owner, lock_cap=1)
    mine = [
        await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id)
        for _ in range(2)
    ]
    results = await asyncio.gather(
        *(client.post(f"/api/v1/customers/{c['id']}/lock", headers=rep.headers) for c in mine)
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    locked = await db_value(
        admin_db,
        "SELECT count(*) FROM customers WHERE owner_membership_id = $1::uuid AND locked_at IS NOT NULL",
        rep.membership_id,
    )
    assert locked == 1


async def test_a_customer_just_back_in_the_pool_waits_the_delay(client, admin_db):
    t = await team(client, admin_db, reps=2)
    a, b = t.reps
    await put_rules(client, t.owner, new_in_pool_hours=2)
    made = await customer(client, t.owner, t.territory["id"], owner_membership_id=a.membership_id)
    r = await client.post(
        f"/api/v1/customers/{made['id']}/release", json={"reason": "no_need"}, headers=a.headers
    )
    assert r.status_code == 200, r.text
    r = await _claim(client, b, made["id"])
    assert r.status_code == 409 and r.json()["rule"] == "new_in_pool" and r.json()["params"]["hours"] == 2
    status = (await client.get(f"/api/v1/customers/{made['id']}/pool-status", headers=b.headers)).json()
    assert status["claim"]["rule"] == "new_in_pool"
    await db_value(
        admin_db,
        "UPDATE customers SET pooled_at = now() - interval '3 hours' WHERE id = $1::uuid RETURNING 1",
        made["id"],
    )
    assert (await _claim(client, b, made["id"])).status_code == 200


async def test_reclaim_goes_to_the_pool_a_rule_names(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    lost = await _custom_pool(admin_db, t.owner.tenant_id, "流失客户")
    r = await client.put(
        "/api/v1/pool-rules", json={"reclaim_to_pool_id": str(t.owner.tenant_id)}, headers=t.owner.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reclaim_to_pool_id"
    await put_rules(client, t.owner, reclaim_to_pool_id=str(lost))
    made = await customer(
        client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep.membership_id
    )
    await age(admin_db, made["id"], 16)
    assert await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)) == 1
    assert await db_value(admin_db, "SELECT pool_id FROM customers WHERE id = $1::uuid", made["id"]) == lost
    last = (await ledger_rows(admin_db, t.owner.tenant_id, made["id"]))[-1]
    assert last["cause"] == "reclaim" and last["pool_id"] == lost


async def test_release_takes_a_reason_from_the_list_and_a_pool(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    other = await territory(client, t.owner, "无锡市")
    lost = await _custom_pool(admin_db, t.owner.tenant_id, "流失客户")
    made = await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id)
    url = f"/api/v1/customers/{made['id']}/release"
    for body, field in (
        ({"reason": ""}, "reason"),
        ({"reason": "我不想要了"}, "reason"),
        ({"reason": "other", "pool_id": await _pool_of_territory(admin_db, other["id"])}, "pool_id"),
        ({"reason": "other", "pool_id": t.owner.tenant_id}, "pool_id"),
    ):
        body = {k: str(v) for k, v in body.items()}
        r = await client.post(url, json=body, headers=rep.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)
    assert (
        await db_value(
            admin_db, "SELECT owner_membership_id::text FROM customers WHERE id = $1::uuid", made["id"]
        )
        == rep.membership_id
    )

    r = await client.post(
        url, json={"reason": "competitor", "pool_id": str(lost), "note": "选了别家"}, headers=rep.headers
    )
    assert r.status_code == 200 and r.json()["pool_id"] == str(lost)
    last = (await ledger_rows(admin_db, t.owner.tenant_id, made["id"]))[-1]
    assert (last["cause"], last["pool_id"], last["reason"]) == (
        "release",
        lost,
        "Chose a competitor: 选了别家",
    )
