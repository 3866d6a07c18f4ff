"""Claims racing each other through the real app, each request its own transaction."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.integration.customers.pool.support import ledger_rows, pool_customer, put_rules, team


async def test_fifty_reps_claiming_one_customer_exactly_one_wins(client, admin_db):
    t = await team(client, admin_db, reps=50)
    made = await pool_customer(client, t.owner, t.territory["id"])
    url = f"/api/v1/customers/{made['id']}/claim"
    responses = await asyncio.gather(*(client.post(url, headers=rep.headers) for rep in t.reps))

    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: 49}, codes
    winner = next(t.reps[i] for i, r in enumerate(responses) if r.status_code == 200)
    winner_name = next(r.json()["owner_name"] for r in responses if r.status_code == 200)
    losers = [r.json() for r in responses if r.status_code == 409]
    assert all(body["rule"] == "owned" and body["params"]["owner"] == winner_name for body in losers)
    rows = await ledger_rows(admin_db, t.owner.tenant_id, made["id"])
    assert [(r["cause"], str(r["to_membership_id"])) for r in rows] == [("claim", winner.membership_id)]


async def test_one_rep_at_cap_minus_one_claiming_fifty_gets_exactly_one(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    await put_rules(client, t.owner, owned_cap=3)
    owned = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(2)]
    for c in owned:
        assert (
            await client.post(f"/api/v1/customers/{c['id']}/claim", headers=rep.headers)
        ).status_code == 200
    targets = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(50)]

    responses = await asyncio.gather(
        *(client.post(f"/api/v1/customers/{c['id']}/claim", headers=rep.headers) for c in targets)
    )
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: 49}, codes
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"owned_cap"}
    rows = await ledger_rows(admin_db, t.owner.tenant_id)
    claims = [r for r in rows if r["cause"] == "claim" and str(r["to_membership_id"]) == rep.membership_id]
    assert len(claims) == 3
    r = await client.get("/api/v1/customers", params={"owner": "me", "limit": 200}, headers=rep.headers)
    assert len(r.json()["items"]) == 3
