"""The reclaim sweep: exactly the due customers, with ledger rows, exemptions honoured, idempotent
and safe to run twice at once, and never from under a follow-up landing concurrently."""

from __future__ import annotations

import asyncio

import asyncpg

from app.customers.pool import rules as pool_rules
from app.customers.pool.jobs import reclaim_sweep
from app.customers.pool.reclaim import reclaim_tenant
from app.customers.pool.rules import ReclaimExemption
from tenants.scope import TenantScope
from tests.factories import customer, db_rows
from tests.integration.customers.pool.support import age, ledger_rows, team


async def _owners(admin_db, ids):
    rows = await db_rows(
        admin_db, "SELECT id, owner_membership_id FROM customers WHERE id = ANY($1::uuid[])", ids
    )
    return {str(r["id"]): (str(r["owner_membership_id"]) if r["owner_membership_id"] else None) for r in rows}


async def test_sweep_reclaims_exactly_the_due_customers(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0].membership_id
    tid = t.territory["id"]
    # grade: days since the last follow-up → due?  (A 15, B 30, C 60, D 90)
    cases = {"A": (16, True), "B": (29, False), "C": (61, True), "D": (89, False)}
    made = {}
    for grade, (days, _) in cases.items():
        made[grade] = await customer(client, t.owner, tid, grade=grade, owner_membership_id=rep)
        await age(admin_db, made[grade]["id"], days)
    won = await customer(client, t.owner, tid, grade="A", owner_membership_id=rep, status="won")
    await age(admin_db, won["id"], 400)

    moved = await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id))
    assert moved == 2
    owners = await _owners(admin_db, [c["id"] for c in [*made.values(), won]])
    for grade, (_, due) in cases.items():
        assert owners[made[grade]["id"]] == (None if due else rep), grade
    assert owners[won["id"]] == rep  # won customers are the customer base, never reclaimed

    rows = [r for r in await ledger_rows(admin_db, t.owner.tenant_id) if r["cause"] == "reclaim"]
    assert sorted(str(r["customer_id"]) for r in rows) == sorted([made["A"]["id"], made["C"]["id"]])
    assert all(str(r["from_membership_id"]) == rep and r["to_membership_id"] is None for r in rows)
    assert all(r["actor"] is None and r["reason"] for r in rows)

    assert await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)) == 0  # idempotent
    assert await reclaim_sweep({}) >= 0  # the cron entry point runs over every tenant
    assert len([r for r in await ledger_rows(admin_db, t.owner.tenant_id) if r["cause"] == "reclaim"]) == 2

    r = await client.get("/api/v1/ownership/verify", headers=t.owner.headers)
    assert r.status_code == 200 and r.json()["ok"] is True


async def test_exempt_customers_are_skipped(client, admin_db, monkeypatch):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0].membership_id
    keep = await customer(
        client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep, industry="签约中"
    )
    lose = await customer(client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep)
    for c in (keep, lose):
        await age(admin_db, c["id"], 40)
    clause = ReclaimExemption(
        "contract_out",
        "a contract is out for signature",
        "SELECT id AS customer_id FROM customers WHERE tenant = {tenant} AND industry = '签约中'",
    )
    monkeypatch.setattr(pool_rules, "RECLAIM_EXEMPTIONS", [clause])

    assert await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)) == 1
    assert await _owners(admin_db, [keep["id"], lose["id"]]) == {keep["id"]: rep, lose["id"]: None}
    r = await client.get(f"/api/v1/customers/{keep['id']}/pool-status", headers=t.reps[0].headers)
    reclaim = r.json()["reclaim"]
    assert reclaim["exempt"] is True and reclaim["exempt_reasons"] == ["contract_out"]
    assert "a contract is out for signature" in reclaim["message"]


async def test_two_sweeps_at_once_move_each_customer_once(client, admin_db):
    t = await team(client, admin_db, reps=2)
    made = []
    for i in range(40):
        c = await customer(
            client, t.owner, t.territory["id"], grade="B", owner_membership_id=t.reps[i % 2].membership_id
        )
        made.append(c)
    for c in made:
        await age(admin_db, c["id"], 31)
    scope = await TenantScope.for_job(t.owner.tenant_id)
    results = await asyncio.gather(reclaim_tenant(scope, batch=7), reclaim_tenant(scope, batch=7))
    assert sum(results) == 40
    rows = [r for r in await ledger_rows(admin_db, t.owner.tenant_id) if r["cause"] == "reclaim"]
    assert len(rows) == 40 and len({r["customer_id"] for r in rows}) == 40
    assert set((await _owners(admin_db, [c["id"] for c in made])).values()) == {None}
    seqs = [r["seq"] for r in await ledger_rows(admin_db, t.owner.tenant_id)]
    assert seqs == list(range(1, len(seqs) + 1))  # one unbroken chain, no forks


async def test_a_follow_up_holding_the_row_is_not_reclaimed(client, admin_db, stack):
    """The follow-up's transaction holds the customer's row (as ``create_followup`` does) while the
    sweep runs: the sweep skips it, and after the follow-up commits it is no longer due."""
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    fresh = await customer(
        client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep.membership_id
    )
    stale = await customer(
        client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep.membership_id
    )
    for c in (fresh, stale):
        await age(admin_db, c["id"], 20)
    conn = await asyncpg.connect(stack.app_url)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", t.owner.tenant_id)
        await conn.execute("SELECT 1 FROM customers WHERE id = $1::uuid FOR UPDATE", fresh["id"])
        await conn.execute("UPDATE customers SET last_followup_at = now() WHERE id = $1::uuid", fresh["id"])
        moved = await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id))
        await tx.commit()
    finally:
        await conn.close()
    assert moved == 1
    assert await reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)) == 0
    owners = await _owners(admin_db, [fresh["id"], stale["id"]])
    assert owners == {fresh["id"]: rep.membership_id, stale["id"]: None}


async def test_sweep_racing_real_follow_ups(client, admin_db):
    """Through the real follow-up route: whichever wins, a follow-up that was accepted means the
    customer was not reclaimed, and a reclaimed customer got no follow-up."""
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    made = [
        await customer(client, t.owner, t.territory["id"], grade="A", owner_membership_id=rep.membership_id)
        for _ in range(12)
    ]
    for c in made:
        await age(admin_db, c["id"], 20)

    async def follow_up(c):
        return await client.post(
            f"/api/v1/customers/{c['id']}/followups",
            json={"kind": "call", "summary": "回访"},
            headers=rep.headers,
        )

    responses = await asyncio.gather(
        *(follow_up(c) for c in made[:6]),
        reclaim_tenant(await TenantScope.for_job(t.owner.tenant_id)),
        *(follow_up(c) for c in made[6:]),
    )
    statuses = [r.status_code for r in responses if not isinstance(r, int)]
    owners = await _owners(admin_db, [c["id"] for c in made])
    for c, code in zip(made, statuses, strict=True):
        assert code in (201, 403)
        assert (owners[c["id"]] == rep.membership_id) == (code == 201), (code, owners[c["id"]])
    reclaimed = {
        str(r["customer_id"])
        for r in await ledger_rows(admin_db, t.owner.tenant_id)
        if r["cause"] == "reclaim"
    }
    assert reclaimed == {c["id"] for c in made if owners[c["id"]] is None}
