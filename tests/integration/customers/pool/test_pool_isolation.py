"""Another tenant's ids — customers, notifications, grants, territories — answer 404 on every pool
route that takes one, even for that tenant's owner, and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.customers.pool.reclaim import warn_tenant
from tenants.scope import TenantScope
from tests.factories import customer, db_rows
from tests.integration.customers.pool.support import age, ledger_rows, pool_customer, team


async def _state(admin_db, tenant_id):
    state = {}
    for table in ("customers", "customer_ownership_history", "notifications", "cross_territory_grants"):
        rows = await db_rows(
            admin_db, f"SELECT * FROM {table} WHERE tenant = $1::uuid ORDER BY id", tenant_id
        )
        state[table] = [dict(r) for r in rows]
    return state


async def test_other_tenants_ids_are_404_on_every_pool_route(client, admin_db):
    a = await team(client, admin_db, reps=1)
    rep_a = a.reps[0]
    pooled = await pool_customer(client, a.owner, a.territory["id"])
    owned = await customer(
        client, a.owner, a.territory["id"], grade="B", owner_membership_id=rep_a.membership_id
    )
    await age(admin_db, owned["id"], 28)
    assert await warn_tenant(await TenantScope.for_job(a.owner.tenant_id)) == 1
    notification = (await client.get("/api/v1/notifications", headers=rep_a.headers)).json()["items"][0]
    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    r = await client.post(
        "/api/v1/cross-territory-grants",
        headers=a.owner.headers,
        json={"membership_id": rep_a.membership_id, "territory_id": a.territory["id"], "until": until},
    )
    assert r.status_code == 201
    grant = r.json()

    b = await team(client, admin_db, reps=1, name="杭州市")
    before = await _state(admin_db, a.owner.tenant_id)
    attempts = [
        ("POST", f"/api/v1/customers/{pooled['id']}/claim", None),
        ("POST", f"/api/v1/customers/{owned['id']}/claim", None),
        ("POST", f"/api/v1/customers/{owned['id']}/release", {"reason": "other", "note": "窃取"}),
        ("GET", f"/api/v1/customers/{pooled['id']}/pool-status", None),
        ("GET", f"/api/v1/customers/{owned['id']}/ownership", None),
        ("POST", f"/api/v1/notifications/{notification['id']}/read", None),
        ("DELETE", f"/api/v1/cross-territory-grants/{grant['id']}", None),
        (
            "POST",
            "/api/v1/cross-territory-grants",
            {"membership_id": b.reps[0].membership_id, "customer_id": pooled["id"], "until": until},
        ),
        (
            "POST",
            "/api/v1/cross-territory-grants",
            {"membership_id": b.reps[0].membership_id, "territory_id": a.territory["id"], "until": until},
        ),
    ]
    for who in (b.owner, b.reps[0]):
        for method, url, body in attempts:
            r = await client.request(method, url, json=body, headers=who.headers)
            assert r.status_code == 404, (method, url, r.status_code, r.text)
            assert r.json()["type"] == "/problems/not-found"
    assert await _state(admin_db, a.owner.tenant_id) == before

    # tenant B sees nothing of A in its own lists and its chain is its own
    assert (await client.get("/api/v1/pool", headers=b.owner.headers)).json()["items"] == []
    assert (await client.get("/api/v1/cross-territory-grants", headers=b.owner.headers)).json()["items"] == []
    verify = (await client.get("/api/v1/ownership/verify", headers=b.owner.headers)).json()
    assert verify["ok"] and verify["checked"] == len(await ledger_rows(admin_db, b.owner.tenant_id))
