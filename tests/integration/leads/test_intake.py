"""POST /api/v1/leads: one lead or a batch into the pool of the right territory, the territory's
managers told; a known company (撞单) goes to its owner instead of being entered twice; the same
Idempotency-Key with the same leads answers the same and takes nothing twice; a batch with a bad lead
is refused naming it, with nothing saved."""

from __future__ import annotations

import asyncio

from tests.factories import assign, customer, db_rows, db_value, staff, territory
from tests.helpers import signup
from tests.integration.leads.keys import api_key, bearer

TAX = "91310000MA1FL0XX1X"


async def _company(client, mailbox, app):
    owner = await signup(client)
    manager = await staff(client, owner, mailbox, app, role="manager")
    rep = await staff(client, owner, mailbox, app, role="rep")
    east = await territory(client, owner, "华东区")
    north = await territory(client, owner, "华北区")
    await assign(client, owner, east["id"], manager, "manager")
    await assign(client, owner, east["id"], rep, "rep")
    key = await api_key(client, owner, ["leads:write"])
    return owner, manager, rep, east, north, key


async def _notices(client, member):
    return (await client.get("/api/v1/notifications", headers=member.headers)).json()["items"]


async def test_a_single_lead_lands_unowned_in_the_pool_and_the_manager_is_told(
    client, mailbox, app, admin_db
):
    owner, manager, rep, east, _north, key = await _company(client, mailbox, app)
    lead = {
        "full_name": "苏州青禾精密机械有限公司",
        "territory_id": east["id"],
        "phone": "0512-6666 8888",
        "contact_name": "李经理",
        "email": "li@qinghe.example.com",
        "message": "想了解 ERP 报价",
    }
    r = await client.post("/api/v1/leads", json=lead, headers=bearer(key))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["created"], body["known"]) == (1, 0)
    result = body["results"][0]
    assert result["outcome"] == "created" and result["territory_id"] == east["id"]
    got = (await client.get(f"/api/v1/customers/{result['customer_id']}", headers=manager.headers)).json()
    assert got["owner_membership_id"] is None and got["source"] == "web" and got["territory_id"] == east["id"]
    pool = (await client.get("/api/v1/pool", params={"territory_id": east["id"]}, headers=rep.headers)).json()
    assert result["customer_id"] in [c["id"] for c in pool["items"]]
    path = f"/api/v1/customers/{result['customer_id']}/contacts"
    contacts = (await client.get(path, headers=manager.headers)).json()
    assert [c["name"] for c in contacts.get("items", contacts)] == ["李经理"]
    logged = await db_rows(admin_db, "SELECT * FROM leads WHERE tenant = $1", owner.tenant_id)
    assert [(x["channel"], x["outcome"], x["message"]) for x in logged] == [
        ("api", "created", "想了解 ERP 报价")
    ]
    told = await _notices(client, manager)
    assert told[0]["kind"] == "lead_received" and "苏州青禾精密机械有限公司" in told[0]["message"]
    assert not [n for n in await _notices(client, rep) if n["kind"].startswith("lead")]
    # no territory named: the company's first top-level territory
    r = await client.post("/api/v1/leads", json={"full_name": "无锡某某软件有限公司"}, headers=bearer(key))
    assert r.json()["results"][0]["territory_id"] == east["id"]


async def test_a_known_company_goes_to_its_owner_not_a_duplicate(client, mailbox, app, admin_db):
    owner, manager, rep, east, north, key = await _company(client, mailbox, app)
    mine = await customer(client, rep, east["id"], full_name="上海青禾软件有限公司", tax_id=TAX)
    in_pool = await customer(
        client, owner, east["id"], full_name="杭州白鹭科技有限公司", owner_membership_id=None
    )
    batch = [
        {"full_name": "青禾软件（上海）", "tax_id": TAX, "contact_name": "王总"},
        {"full_name": "杭州白鹭科技有限公司", "email": "a@bailu.example.com"},
        {"full_name": "南京新客户有限公司", "territory_id": north["id"]},
    ]
    r = await client.post("/api/v1/leads", json=batch, headers=bearer(key))
    assert r.status_code == 201, r.text
    results = r.json()["results"]
    assert [x["outcome"] for x in results] == ["known", "known", "created"]
    assert results[0]["customer_id"] is None  # a key with leads:write is not told ids it may not read
    count = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id)
    assert count == 3
    after = (await client.get(f"/api/v1/customers/{mine['id']}", headers=rep.headers)).json()
    assert after["next_followup_at"] is not None and after["owner_membership_id"] == rep.membership_id
    told_rep = [n for n in await _notices(client, rep) if n["kind"] == "lead_known"]
    assert len(told_rep) == 1 and "王总" in told_rep[0]["message"]
    told_manager = [n for n in await _notices(client, manager) if n["kind"] == "lead_known_pool"]
    assert [n["subject_id"] for n in told_manager] == [in_pool["id"]]
    # the north territory has no manager: the owner hears of its new lead
    assert any(n["kind"] == "lead_received" for n in await _notices(client, owner))


async def test_the_same_idempotency_key_answers_the_same_and_takes_nothing_twice(
    client, mailbox, app, admin_db
):
    owner, _manager, _rep, _east, _north, key = await _company(client, mailbox, app)
    batch = [{"full_name": f"幂等测试{i}有限公司"} for i in range(5)]
    headers = {**bearer(key), "Idempotency-Key": "batch-0001"}
    first = await client.post("/api/v1/leads", json=batch, headers=headers)
    again = await client.post("/api/v1/leads", json=batch, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 5
    other = await client.post("/api/v1/leads", json=batch[:2], headers=headers)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    # concurrent requests with one new key: one takes them, the other answers the same
    batch2 = [{"full_name": f"并发测试{i}有限公司"} for i in range(5)]
    headers2 = {**bearer(key), "Idempotency-Key": "batch-0002"}
    a, b = await asyncio.gather(
        client.post("/api/v1/leads", json=batch2, headers=headers2),
        client.post("/api/v1/leads", json=batch2, headers=headers2),
    )
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 10
    # another key's same Idempotency-Key is its own
    key2 = await api_key(client, owner, ["leads:write"])
    r = await client.post(
        "/api/v1/leads", json=batch[:1], headers={**bearer(key2), "Idempotency-Key": "batch-0001"}
    )
    assert r.status_code == 201 and r.json()["results"][0]["outcome"] == "known"


async def test_a_batch_with_bad_leads_names_each_and_saves_nothing(client, mailbox, app, admin_db):
    owner, _manager, _rep, _east, _north, key = await _company(client, mailbox, app)
    other = await signup(client)
    theirs = await territory(client, other, "别人的区域")
    batch = [
        {"full_name": "好的有限公司"},
        {"full_name": "坏税号有限公司", "tax_id": "123"},
        {"full_name": "好的有限公司"},
        {"full_name": "别人区域有限公司", "territory_id": theirs["id"]},
    ]
    r = await client.post("/api/v1/leads", json=batch, headers=bearer(key))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["leads[1].tax_id"]
    del batch[1]
    r = await client.post("/api/v1/leads", json=batch, headers=bearer(key))
    assert r.status_code == 422
    assert [(e["field"], e["message"]) for e in r.json()["errors"]] == [
        ("leads[1].full_name", "The same company as lead 0")
    ]
    del batch[1]
    r = await client.post("/api/v1/leads", json=batch, headers=bearer(key))
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["leads[1].territory_id"]
    r = await client.post("/api/v1/leads", json=[{"phone": "1"}], headers=bearer(key))
    assert r.status_code == 422 and "full_name" in r.json()["errors"][0]["message"], r.text
    r = await client.post("/api/v1/leads", json=[{"full_name": "x"}] * 101, headers=bearer(key))
    assert r.status_code == 422
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 0
    assert await db_value(admin_db, "SELECT count(*) FROM leads WHERE tenant = $1", owner.tenant_id) == 0


async def test_a_member_session_cannot_send_leads(client, mailbox, app):
    owner, *_ = await _company(client, mailbox, app)
    r = await client.post("/api/v1/leads", json={"full_name": "会员有限公司"}, headers=owner.headers)
    assert r.status_code == 403


async def test_idempotency_records_are_forgotten_after_a_week(client, mailbox, app, admin_db):
    from app.leads.jobs import purge_lead_requests

    owner, *_, key = await _company(client, mailbox, app)
    for name in ("old", "new"):
        headers = {**bearer(key), "Idempotency-Key": name}
        r = await client.post("/api/v1/leads", json={"full_name": f"{name}有限公司"}, headers=headers)
        assert r.status_code == 201
    await db_rows(
        admin_db,
        "UPDATE lead_requests SET created_at = now() - interval '8 days' WHERE tenant = $1"
        " AND idempotency_key = 'old'",
        owner.tenant_id,
    )
    assert await purge_lead_requests({}) >= 1
    left = await db_rows(
        admin_db, "SELECT idempotency_key FROM lead_requests WHERE tenant = $1", owner.tenant_id
    )
    assert [r["idempotency_key"] for r in left] == ["new"]
