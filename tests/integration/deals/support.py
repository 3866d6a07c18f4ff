"""A small sales world for the deals tests: a company with its profile (Party B of its documents), a
province with a city, its manager and rep, another province with its own manager, a customer of the
rep, and a price list."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tests.factories import assign, company_profile, customer, staff, territory
from tests.helpers import Member, signup

VALID = (date.today() + timedelta(days=30)).isoformat()


@dataclass
class World:
    owner: Member
    manager: Member
    rep: Member
    other_manager: Member
    province: dict[str, Any]
    city: dict[str, Any]
    other_province: dict[str, Any]
    customer: dict[str, Any]
    products: dict[str, dict[str, Any]] = field(default_factory=dict)


async def product(client: Any, who: Member, **fields: Any) -> dict[str, Any]:
    body = {
        "sku": f"SKU-{secrets.token_hex(3)}",
        "name": "财务核算",
        "unit": "seat",
        "list_price": "6800.00",
        "floor_price": "5000.00",
        "edition": "标准版",
    }
    body.update(fields)
    r = await client.post("/api/v1/products", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def world(client: Any, mailbox: Any, app: Any) -> World:
    owner = await signup(client)
    await company_profile(client, owner)
    manager = await staff(client, owner, mailbox, app, role="manager")
    rep = await staff(client, owner, mailbox, app, role="rep")
    other_manager = await staff(client, owner, mailbox, app, role="manager")
    province = await territory(client, owner, f"江苏省{secrets.token_hex(2)}", level="province")
    city = await territory(client, owner, "苏州市", parent=province["id"], level="prefecture")
    other = await territory(client, owner, f"浙江省{secrets.token_hex(2)}", level="province")
    await assign(client, owner, province["id"], manager, "manager")
    await assign(client, owner, city["id"], rep, "rep")
    await assign(client, owner, other["id"], other_manager, "manager")
    cust = await customer(client, rep, city["id"], address="苏州工业园区星湖街 218 号", phone="0512-62883456")
    w = World(owner, manager, rep, other_manager, province, city, other, cust)
    w.products["erp"] = await product(client, owner, sku=f"ERP-{secrets.token_hex(3)}")
    w.products["svc"] = await product(
        client,
        owner,
        sku=f"SVC-{secrets.token_hex(3)}",
        name="实施服务",
        unit="service_day",
        list_price="1200.00",
        floor_price="800.00",
    )
    return w


async def deal(client: Any, who: Member, customer_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"customer_id": customer_id, "title": "恒泰 ERP 项目", "amount": "50000.00"}
    body.update(fields)
    r = await client.post("/api/v1/deals", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def line(product: dict[str, Any], quantity: str = "2", **fields: Any) -> dict[str, Any]:
    return {"product_id": product["id"], "quantity": quantity, **fields}


async def quote(client: Any, who: Member, deal_id: str, lines: list[dict[str, Any]], **fields: Any) -> Any:
    body: dict[str, Any] = {"lines": lines, "valid_until": VALID}
    body.update(fields)
    return await client.post(f"/api/v1/deals/{deal_id}/quotes", json=body, headers=who.headers)


async def approved_quote(client: Any, w: World, deal_id: str) -> dict[str, Any]:
    r = await quote(client, w.rep, deal_id, [line(w.products["erp"])])
    assert r.status_code == 201, r.text
    q = r.json()
    assert (await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.rep.headers)).status_code == 202
    r = await client.post(f"/api/v1/quotes/{q['id']}/approve", json={}, headers=w.manager.headers)
    assert r.status_code == 200, r.text
    return q


async def move(client: Any, who: Member, deal_id: str, to: str, reason: str | None = None) -> Any:
    body: dict[str, Any] = {"to": to}
    if reason is not None:
        body["reason"] = reason
    return await client.post(f"/api/v1/deals/{deal_id}/stage", json=body, headers=who.headers)
