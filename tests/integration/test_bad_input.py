"""Bad input never answers 500: NUL in text, unsupported methods, deleting a customer that deals
still name (another tenant's ids in bodies: beside each domain's isolation tests)."""

from __future__ import annotations

from typing import Any

from tests.factories import customer, db_value, territory
from tests.helpers import PASSWORD, signup


def _nul_fields(r: Any) -> list[str]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] == "/problems/validation"
    assert all(e["message"] == "Text cannot contain the NUL character" for e in body["errors"])
    return [e["field"] for e in body["errors"]]


async def test_nul_in_public_bodies_is_a_422_naming_the_field(client):
    r = await client.post("/api/v1/auth/login", json={"email": "a\u0000@example.com", "password": PASSWORD})
    assert _nul_fields(r) == ["email"]
    r = await client.post(
        "/api/v1/signup",
        json={
            "company_name": "零\u0000公司",
            "slug": "nul-co",
            "email": "nul@example.com",
            "password": PASSWORD,
            "name": "N\u0000",
            "locale": "en",
        },
    )
    assert _nul_fields(r) == ["company_name", "name"]
    r = await client.post("/api/v1/invitations/tok%00en/accept", json={"password": PASSWORD, "name": "x"})
    assert r.status_code == 422, r.text  # the path parameter


async def test_nul_in_nested_fields_keys_queries_and_forms(client):
    owner = await signup(client)
    nj = await territory(client, owner, "南京市")
    r = await client.post(
        "/api/v1/visit-plans",
        json={"plan_date": "2030-01-02", "items": [{"customer_id": nj["id"], "purpose": "拜\u0000访"}]},
        headers=owner.headers,
    )
    assert _nul_fields(r) == ["items[0].purpose"]
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "x", "territory_id": nj["id"], "n\u0000": 1},
        headers=owner.headers,
    )
    assert _nul_fields(r) == ["n\u0000"]
    r = await client.get("/api/v1/customers", params={"q": "紫金\u0000山"}, headers=owner.headers)
    assert _nul_fields(r) == ["q"]
    r = await client.post(
        "/api/v1/customers/import",
        files={"file": ("a.csv", b"full_name\n\x00", "text/csv")},
        data={"territory_id": "南\u0000京"},
        headers=owner.headers,
    )
    assert _nul_fields(r) == ["territory_id"]  # a form's text field; a file's bytes may hold NUL
    # A NUL-free body with an escaped backslash is left alone.
    r = await client.post(
        "/api/v1/territories", json={"name": "南京\\u0000区", "level": "custom"}, headers=owner.headers
    )
    assert r.status_code == 201 and r.json()["name"] == "南京\\u0000区"


async def test_an_unsupported_method_answers_405_with_allow(client):
    r = await client.put("/api/v1/me")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET"}
    assert "PUT" not in r.headers["allow"]
    r = await client.delete("/api/v1/customers")
    assert r.status_code == 405 and {"GET", "POST"} <= set(r.headers["allow"].replace(" ", "").split(","))


async def test_deleting_a_customer_with_deals_is_a_409_saying_why(client, admin_db):
    owner = await signup(client, locale="zh-CN")
    c = await customer(client, owner, (await territory(client, owner, "南京市"))["id"])
    r = await client.post(
        "/api/v1/deals",
        json={"customer_id": c["id"], "title": "ERP", "amount": "100.00"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.delete(f"/api/v1/customers/{c['id']}", headers=owner.headers)
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == "该客户有 1 个商机，不能删除" and r.json()["deals"] == 1
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE id = $1", c["id"]) == 1

    other = await customer(client, owner, c["territory_id"])
    r = await client.post(
        "/api/v1/market-incidents",
        json={"title": "竞品降价", "description": "对手报价低三成", "customer_id": other["id"]},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.delete(f"/api/v1/customers/{other['id']}", headers=owner.headers)
    assert r.status_code == 409 and r.json()["detail"] == "该客户被市场事件引用，不能删除", r.text
