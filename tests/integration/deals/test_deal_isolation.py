"""Another tenant's deal, quote, approval, product and collection ids answer 404 on every route that
takes one, and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from app import db
from app.deals.collections.items import start_collections
from tests.factories import db_rows, territory
from tests.helpers import signup
from tests.integration.deals.support import VALID, deal, line, move, world

TABLES = (
    "products",
    "deals",
    "deal_stage_changes",
    "quotes",
    "quote_lines",
    "approvals",
    "contract_terms",
    "collections",
)


async def _state(admin_db, tenant_id):
    state = {}
    for table in TABLES:
        rows = await db_rows(
            admin_db, f"SELECT * FROM {table} WHERE tenant = $1 ORDER BY 1, 2", UUID(tenant_id)
        )
        state[table] = [dict(r) for r in rows]
    return state


async def test_other_tenants_ids_are_404_and_change_nothing(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    r = await client.post(
        f"/api/v1/deals/{d['id']}/quotes",
        json={"lines": [line(w.products["erp"])], "valid_until": VALID},
        headers=w.rep.headers,
    )
    q = r.json()
    approval = (await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.rep.headers)).json()
    stage_deal = await deal(client, w.rep, w.customer["id"])
    stage_approval = (await move(client, w.rep, stage_deal["id"], "demo")).json()
    await client.put(
        f"/api/v1/deals/{d['id']}/contract-terms", json={"party_a_contact": "张总"}, headers=w.rep.headers
    )
    async with db.transaction(UUID(w.owner.tenant_id)) as tx:
        items = await start_collections(tx, UUID(d["id"]), datetime.now(UTC))
    k = str(items[0].id)

    other = await signup(client)
    tb = await territory(client, other, "北京市")
    r = await client.post(
        "/api/v1/customers", json={"full_name": "北京某公司", "territory_id": tb["id"]}, headers=other.headers
    )
    own_customer = r.json()
    before = await _state(admin_db, w.owner.tenant_id)

    p, i, a = w.products["erp"]["id"], d["id"], approval["id"]
    attempts = [
        ("GET", f"/api/v1/products/{p}", None),
        ("PATCH", f"/api/v1/products/{p}", {"active": False}),
        ("GET", f"/api/v1/deals/{i}", None),
        ("PATCH", f"/api/v1/deals/{i}", {"title": "x"}),
        ("POST", f"/api/v1/deals/{i}/stage", {"to": "first_visit"}),
        ("GET", f"/api/v1/deals/{i}/stage-history", None),
        ("GET", f"/api/v1/deals/{i}/quotes", None),
        ("POST", f"/api/v1/deals/{i}/quotes", {"lines": [line(w.products["erp"])], "valid_until": VALID}),
        ("GET", f"/api/v1/deals/{i}/contract-terms", None),
        ("PUT", f"/api/v1/deals/{i}/contract-terms", {"party_a_contact": "x"}),
        ("GET", f"/api/v1/deals/{i}/collections", None),
        ("GET", f"/api/v1/quotes/{q['id']}", None),
        ("POST", f"/api/v1/quotes/{q['id']}/submit", None),
        ("POST", f"/api/v1/quotes/{q['id']}/approve", {}),
        ("POST", f"/api/v1/quotes/{q['id']}/reject", {"comment": "x"}),
        ("POST", f"/api/v1/quotes/{q['id']}/send", None),
        ("POST", f"/api/v1/approvals/{a}/approve", {}),
        ("POST", f"/api/v1/approvals/{stage_approval['id']}/approve", {}),
        ("POST", f"/api/v1/approvals/{a}/reject", {}),
        ("POST", f"/api/v1/collections/{k}/paid", {}),
    ]
    for method, url, body in attempts:
        r = await client.request(method, url, json=body, headers=other.headers)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert r.json()["type"] == "/problems/not-found"

    # A's ids inside B's bodies are unknown there; B's lists never show A's rows
    r = await client.post(
        "/api/v1/deals", json={"customer_id": w.customer["id"], "title": "x"}, headers=other.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id"
    own = (
        await client.post(
            "/api/v1/deals", json={"customer_id": own_customer["id"], "title": "B"}, headers=other.headers
        )
    ).json()
    r = await client.post(
        f"/api/v1/deals/{own['id']}/quotes",
        json={"lines": [line(w.products["erp"])], "valid_until": VALID},
        headers=other.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].product_id"
    r = await client.put(
        f"/api/v1/deals/{own['id']}/contract-terms", json={"quote_id": q["id"]}, headers=other.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "quote_id"
    assert [x["id"] for x in (await client.get("/api/v1/deals", headers=other.headers)).json()["items"]] == [
        own["id"]
    ]
    assert (await client.get("/api/v1/products", headers=other.headers)).json()["items"] == []
    assert (await client.get("/api/v1/approvals", params={"status": "all"}, headers=other.headers)).json()[
        "items"
    ] == []
    r = await client.post(
        "/api/v1/documents",
        headers=other.headers,
        json={"kind": "contract", "subject_type": "deal", "subject_id": i, "idempotency_key": "iso-1"},
    )
    assert r.status_code == 404

    after = await _state(admin_db, w.owner.tenant_id)
    assert after == before
    assert len(after["deals"]) == 2 and len(after["approvals"]) == 2 and len(after["collections"]) == 3
