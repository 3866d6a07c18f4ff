"""After-sales return visits: scheduled (with their tasks) when a customer is won, logged with
satisfaction and new needs (a visit follow-up on the customer), a need turned into a deal once;
permissions, bad input and tenant isolation."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from tests.factories import customer, db_rows, db_value, today
from tests.helpers import signup
from tests.integration.sales.growth.support import signed, world


async def test_a_win_schedules_return_visits_with_tasks(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    deal = await signed(client, w.rep, w.customer["id"])
    r = await client.get("/api/v1/return-visits", headers=w.rep.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["offset_days"] for i in items] == [7, 30, 90]
    assert [i["due_on"] for i in items] == [(today() + timedelta(days=d)).isoformat() for d in (7, 30, 90)]
    assert all(i["status"] == "scheduled" and i["deal_id"] == deal["id"] for i in items)
    assert all(i["assignee_membership_id"] == w.rep.membership_id for i in items)
    tasks = (await client.get("/api/v1/tasks", headers=w.rep.headers)).json()["items"]
    assert sorted(t["return_visit_id"] for t in tasks) == sorted(i["id"] for i in items)
    assert {(t["kind"], t["source"]) for t in tasks} == {("visit", "return_visit")}

    # another signed deal of the won customer schedules nothing more
    await signed(client, w.rep, w.customer["id"])
    assert (
        await db_value(admin_db, "SELECT count(*) FROM return_visits WHERE tenant = $1", w.owner.tenant_id)
        == 3
    )

    # the province manager sees them, the other province's manager not; filters
    assert len((await client.get("/api/v1/return-visits", headers=w.manager.headers)).json()["items"]) == 3
    assert (await client.get("/api/v1/return-visits", headers=w.other_manager.headers)).json()["items"] == []
    soon = (today() + timedelta(days=8)).isoformat()
    got = (
        await client.get("/api/v1/return-visits", params={"due_before": soon}, headers=w.rep.headers)
    ).json()
    assert [i["offset_days"] for i in got["items"]] == [7]
    page = (await client.get("/api/v1/return-visits", params={"limit": 2}, headers=w.rep.headers)).json()
    rest = (
        await client.get(
            "/api/v1/return-visits", params={"limit": 2, "cursor": page["next_cursor"]}, headers=w.rep.headers
        )
    ).json()
    assert [i["offset_days"] for i in page["items"] + rest["items"]] == [7, 30, 90]
    assert (
        await client.get("/api/v1/return-visits", params={"status": "late"}, headers=w.rep.headers)
    ).status_code == 422

    # custom offsets
    await client.put("/api/v1/cadences", json={"return_visit_days": [14]}, headers=w.owner.headers)
    other = await customer(client, w.rep, w.city["id"])
    await signed(client, w.rep, other["id"])
    got = (
        await client.get("/api/v1/return-visits", params={"customer_id": other["id"]}, headers=w.rep.headers)
    ).json()["items"]
    assert [i["offset_days"] for i in got] == [14]


async def test_log_a_return_visit_and_turn_its_needs_into_a_deal(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    await signed(client, w.rep, w.customer["id"])
    visits = (await client.get("/api/v1/return-visits", headers=w.rep.headers)).json()["items"]
    first, second, third = visits
    url = f"/api/v1/return-visits/{first['id']}"
    followups = "SELECT count(*) FROM customer_followups WHERE customer_id = $1"
    before = await db_value(admin_db, followups, w.customer["id"])

    stranger = await signup(client)
    for who in (stranger, w.other_manager):
        assert (await client.get(url, headers=who.headers)).status_code == 404
        assert (
            await client.post(url + "/log", json={"satisfaction": 5}, headers=who.headers)
        ).status_code == 404
        r = await client.post(url + "/deal", json={"title": "二期"}, headers=who.headers)
        assert r.status_code == 404
    assert (await client.get(f"/api/v1/return-visits/{uuid4()}", headers=w.rep.headers)).status_code == 404
    for body in (
        {"satisfaction": 6},
        {"satisfaction": 0},
        {},
        {"satisfaction": 3, "notes": "x" * 2001},
        {"satisfaction": 3, "happened_at": "2026-01-01T10:00:00"},
    ):
        r = await client.post(url + "/log", json=body, headers=w.rep.headers)
        assert r.status_code == 422, (body, r.text)
    r = await client.post(url + "/deal", json={"title": "二期"}, headers=w.rep.headers)
    assert r.status_code == 409  # not logged yet
    assert await db_value(admin_db, followups, w.customer["id"]) == before
    assert (
        await db_value(admin_db, "SELECT status FROM return_visits WHERE id = $1", first["id"]) == "scheduled"
    )

    r = await client.post(
        url + "/log",
        json={"satisfaction": 4, "notes": "系统运行稳定", "new_needs": "仓库模块，增加 20 个用户"},
        headers=w.rep.headers,
    )
    assert r.status_code == 200, r.text
    logged = r.json()
    assert logged["status"] == "done" and logged["satisfaction"] == 4 and logged["followup_id"]
    assert logged["new_needs"] == "仓库模块，增加 20 个用户"
    row = (
        await db_rows(
            admin_db,
            "SELECT kind, result, outcome FROM customer_followups WHERE id = $1",
            logged["followup_id"],
        )
    )[0]
    assert (row["kind"], row["result"], row["outcome"]) == (
        "visit",
        "conversation",
        "仓库模块，增加 20 个用户",
    )
    task = await db_value(admin_db, "SELECT status FROM sales_tasks WHERE return_visit_id = $1", first["id"])
    assert task == "done"
    assert (
        await client.post(url + "/log", json={"satisfaction": 4}, headers=w.rep.headers)
    ).status_code == 409

    deals = "SELECT count(*) FROM deals WHERE customer_id = $1"
    n = await db_value(admin_db, deals, w.customer["id"])
    for body in (
        {"title": ""},
        {"title": "   "},
        {"title": "二期", "amount": "-1"},
        {"title": "二期", "currency": "rmb"},
    ):
        r = await client.post(url + "/deal", json=body, headers=w.rep.headers)
        assert r.status_code == 422, (body, r.text)
    assert await db_value(admin_db, deals, w.customer["id"]) == n
    r = await client.post(
        url + "/deal", json={"title": "仓库模块二期", "amount": "36000.00"}, headers=w.rep.headers
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert (
        made["customer_id"] == w.customer["id"]
        and made["stage"] == "prospect_list"
        and made["amount"] == "36000.00"
    )
    assert (await client.get(url, headers=w.rep.headers)).json()["new_deal_id"] == made["id"]
    assert (
        await client.post(url + "/deal", json={"title": "再来"}, headers=w.rep.headers)
    ).status_code == 409
    assert await db_value(admin_db, deals, w.customer["id"]) == n + 1

    # a visit without needs cannot become a deal; the manager logs one too
    r = await client.post(
        f"/api/v1/return-visits/{second['id']}/log", json={"satisfaction": 2}, headers=w.manager.headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/return-visits/{second['id']}/deal", json={"title": "x"}, headers=w.rep.headers
    )
    assert r.status_code == 409

    # its task cannot be marked done by hand; skipping it skips the return visit
    task_id = await db_value(
        admin_db, "SELECT id::text FROM sales_tasks WHERE return_visit_id = $1", third["id"]
    )
    assert (await client.post(f"/api/v1/tasks/{task_id}/done", headers=w.rep.headers)).status_code == 409
    r = await client.post(
        f"/api/v1/tasks/{task_id}/skip", json={"reason": "客户已停业"}, headers=w.rep.headers
    )
    assert r.status_code == 200, r.text
    got = (await client.get(f"/api/v1/return-visits/{third['id']}", headers=w.rep.headers)).json()
    assert got["status"] == "skipped"
    statuses = (
        await client.get("/api/v1/return-visits", params={"status": "done"}, headers=w.rep.headers)
    ).json()
    assert {i["id"] for i in statuses["items"]} == {first["id"], second["id"]}
