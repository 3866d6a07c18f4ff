"""The price list: everyone reads, owner/admin write; SKU unique per tenant; floor ≤ list; money as
decimal strings."""

from __future__ import annotations

from tests.integration.deals.support import product, world


async def test_price_list_write_rights_and_validation(client, mailbox, app):
    w = await world(client, mailbox, app)
    erp = w.products["erp"]
    assert erp["list_price"] == "6800.00" and erp["floor_price"] == "5000.00" and erp["currency"] == "CNY"
    listed = (await client.get("/api/v1/products", headers=w.rep.headers)).json()["items"]
    assert {p["id"] for p in listed} == {erp["id"], w.products["svc"]["id"]}
    body = {"sku": "NEW-1", "name": "新产品", "unit": "module", "list_price": "100", "floor_price": "90"}
    for who in (w.rep, w.manager):
        assert (await client.post("/api/v1/products", json=body, headers=who.headers)).status_code == 403
    r = await client.post("/api/v1/products", json={**body, "sku": erp["sku"]}, headers=w.owner.headers)
    assert r.status_code == 409
    for fields, name in (
        ({"floor_price": "101"}, "floor_price"),
        ({"list_price": "-1", "floor_price": "0"}, "list_price"),
        ({"list_price": "1.001"}, "list_price"),
        ({"unit": "kilogram"}, "unit"),
    ):
        r = await client.post("/api/v1/products", json={**body, **fields}, headers=w.owner.headers)
        assert r.status_code == 422, (fields, r.text)
        assert r.json()["errors"][0]["field"] == name
    r = await client.patch(
        f"/api/v1/products/{erp['id']}", json={"floor_price": "7000"}, headers=w.owner.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "floor_price"
    r = await client.patch(f"/api/v1/products/{erp['id']}", json={"active": False}, headers=w.rep.headers)
    assert r.status_code == 403
    r = await client.patch(
        f"/api/v1/products/{erp['id']}",
        json={"active": False, "list_price": "7000.5"},
        headers=w.owner.headers,
    )
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["list_price"] == "7000.50"
    active = (await client.get("/api/v1/products", params={"active": "true"}, headers=w.rep.headers)).json()
    assert erp["id"] not in [p["id"] for p in active["items"]]
    same_sku_elsewhere = await product(client, w.owner, sku="NEW-1")
    assert same_sku_elsewhere["sku"] == "NEW-1"
