"""Another tenant's customer, contact and conflict ids answer 404 on every route that takes one,
and nothing changes."""

from __future__ import annotations

from tests.factories import assign, customer, db_rows, staff, territory
from tests.helpers import signup


async def _state(admin_db, tenant_id):
    tables = (
        "customers",
        "customer_contacts",
        "customer_followups",
        "customer_grade_changes",
        "customer_conflicts",
    )
    state = {}
    for table in tables:
        rows = await db_rows(admin_db, f"SELECT * FROM {table} WHERE tenant = $1 ORDER BY id", tenant_id)
        state[table] = [dict(r) for r in rows]
    return state


async def test_other_tenants_customer_ids_are_404_and_change_nothing(client, mailbox, app, admin_db):
    owner_a = await signup(client)
    rep_a = await staff(client, owner_a, mailbox, app, role="rep")
    ta = await territory(client, owner_a, "上海市")
    await assign(client, owner_a, ta["id"], rep_a, "rep")
    cust = await customer(client, owner_a, ta["id"], full_name="上海青禾软件有限公司")
    contact = (
        await client.post(
            f"/api/v1/customers/{cust['id']}/contacts", json={"name": "李总"}, headers=owner_a.headers
        )
    ).json()
    r = await client.post(
        f"/api/v1/customers/{cust['id']}/followups",
        json={"kind": "call", "summary": "首次电话"},
        headers=owner_a.headers,
    )
    assert r.status_code == 201
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "上海青禾软件有限责任公司", "territory_id": ta["id"]},
        headers=rep_a.headers,
    )
    conflict_id = r.json()["conflict_id"]
    assert r.status_code == 409 and conflict_id

    owner_b = await signup(client)
    tb = await territory(client, owner_b, "北京市")
    own_b = await customer(client, owner_b, tb["id"])
    before = await _state(admin_db, owner_a.tenant_id)

    c, k = cust["id"], contact["id"]
    attempts = [
        ("GET", f"/api/v1/customers/{c}", None),
        ("PATCH", f"/api/v1/customers/{c}", {"grade": "A", "full_name": "被改了"}),
        ("DELETE", f"/api/v1/customers/{c}", None),
        ("GET", f"/api/v1/customers/{c}/grade-history", None),
        ("GET", f"/api/v1/customers/{c}/contacts", None),
        ("POST", f"/api/v1/customers/{c}/contacts", {"name": "间谍"}),
        ("GET", f"/api/v1/customers/{c}/contacts/{k}", None),
        ("PATCH", f"/api/v1/customers/{c}/contacts/{k}", {"name": "间谍"}),
        ("DELETE", f"/api/v1/customers/{c}/contacts/{k}", None),
        # the contact id under B's own customer is not found either
        ("GET", f"/api/v1/customers/{own_b['id']}/contacts/{k}", None),
        ("PATCH", f"/api/v1/customers/{own_b['id']}/contacts/{k}", {"name": "间谍"}),
        ("DELETE", f"/api/v1/customers/{own_b['id']}/contacts/{k}", None),
        ("GET", f"/api/v1/customers/{c}/followups", None),
        ("POST", f"/api/v1/customers/{c}/followups", {"kind": "call", "summary": "x"}),
        ("POST", f"/api/v1/customer-conflicts/{conflict_id}/resolve", {"resolution": "x"}),
    ]
    for method, url, body in attempts:
        r = await client.request(method, url, json=body, headers=owner_b.headers)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert r.json()["type"] == "/problems/not-found"

    # A's ids inside B's bodies are unknown there; B's lists never show A's rows
    r = await client.post(
        "/api/v1/customers", json={"full_name": "新公司", "territory_id": ta["id"]}, headers=owner_b.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "territory_id"
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "新公司", "territory_id": tb["id"], "referrer_customer_id": c},
        headers=owner_b.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "referrer_customer_id"
    r = await client.patch(
        f"/api/v1/customers/{own_b['id']}", json={"territory_id": ta["id"]}, headers=owner_b.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "territory_id"
    listed = (await client.get("/api/v1/customers", headers=owner_b.headers)).json()["items"]
    assert [x["id"] for x in listed] == [own_b["id"]]
    r = await client.get("/api/v1/customers", params={"territory_id": ta["id"]}, headers=owner_b.headers)
    assert r.json()["items"] == []
    assert (await client.get("/api/v1/customer-conflicts", headers=owner_b.headers)).json()["items"] == []

    after = await _state(admin_db, owner_a.tenant_id)
    assert after == before
    assert len(after["customers"]) == 1 and len(after["customer_contacts"]) == 1
    assert len(after["customer_followups"]) == 1 and after["customer_conflicts"][0]["status"] == "open"
