"""Cadences (per-tenant settings) and follow-up tasks: the daily job makes due tasks set-based and
idempotently, a follow-up of the kind completes them, and the task API (list, manual, done, skip)
with its permissions, bad input and tenant isolation."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from tests.factories import customer, db_rows, db_value, territory, today
from tests.helpers import signup
from tests.integration.sales.growth.support import cadence_job, followup, world


async def _age(admin_db: str, customer_id: str, days: int) -> None:
    """Pretend the owner got the customer ``days`` ago (the clock when it was never contacted)."""
    await db_rows(
        admin_db,
        "UPDATE customers SET owner_changed_at = now() - make_interval(days => $2) WHERE id = $1",
        customer_id,
        days,
    )


async def _tasks(admin_db: str, tenant_id: str) -> list:
    return await db_rows(
        admin_db,
        "SELECT customer_id::text, kind, source, status, due_on, assignee_membership_id::text"
        " FROM sales_tasks WHERE tenant = $1 ORDER BY kind, created_at",
        tenant_id,
    )


async def test_cadence_settings_defaults_validation_and_roles(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    r = await client.get("/api/v1/cadences", headers=w.owner.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["customized"] is False
    assert got["grade_tiers"] == {"A": "active", "B": "priority", "C": "normal", "D": "last"}
    assert got["tiers"]["priority"] == {"call_days": 30, "visit_days": 90}
    assert got["tiers"]["normal"] == {"call_days": 90, "visit_days": 180}
    assert got["tiers"]["last"] == {"call_days": 180, "visit_days": 365}
    assert got["return_visit_days"] == [7, 30, 90]

    for who in (w.rep, w.manager):
        assert (await client.get("/api/v1/cadences", headers=who.headers)).status_code == 403
        r = await client.put("/api/v1/cadences", json={}, headers=who.headers)
        assert r.status_code == 403

    bad = [
        ({"tiers": {"normal": {"call_days": 0}}}, "tiers.normal.call_days"),
        ({"tiers": {"vip": {"call_days": 10}}}, "tiers"),
        ({"grade_tiers": {"E": "normal"}}, "grade_tiers"),
        ({"grade_tiers": {"D": "gold"}}, "grade_tiers.D"),
        ({"return_visit_days": [7, 7]}, "return_visit_days"),
        ({"return_visit_days": [0]}, "return_visit_days[0]"),
    ]
    for body, field in bad:
        r = await client.put("/api/v1/cadences", json=body, headers=w.owner.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    r = await client.put("/api/v1/cadences", json={"surprise": 1}, headers=w.owner.headers)
    assert r.status_code in (400, 422)
    assert (
        await db_value(admin_db, "SELECT count(*) FROM sales_settings WHERE tenant = $1", w.owner.tenant_id)
        == 0
    )

    r = await client.put(
        "/api/v1/cadences",
        json={
            "tiers": {"normal": {"call_days": 60, "visit_days": None}},
            "grade_tiers": {"D": "normal"},
            "return_visit_days": [90, 14],
        },
        headers=w.owner.headers,
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["customized"] is True and got["grade_tiers"]["D"] == "normal"
    assert got["tiers"]["normal"] == {"call_days": 60, "visit_days": None}
    assert got["tiers"]["priority"] == {"call_days": 30, "visit_days": 90}  # left out: the default
    assert got["return_visit_days"] == [14, 90]
    assert (
        await db_value(
            admin_db,
            "SELECT count(*) FROM audit_log WHERE tenant = $1 AND action = 'cadences.updated'",
            w.owner.tenant_id,
        )
        == 1
    )


async def test_the_daily_job_makes_due_tasks_once_and_a_followup_completes_them(
    client, mailbox, app, admin_db
):
    w = await world(client, mailbox, app)
    cust = w.customer  # grade B: priority, call every 30 days, visit every 90
    fresh = await customer(client, w.rep, w.city["id"], grade="B")
    lead = await customer(client, w.rep, w.city["id"], grade="A")  # active selling: weekly call
    await _age(admin_db, cust["id"], 40)
    await _age(admin_db, lead["id"], 10)

    await cadence_job()
    rows = await _tasks(admin_db, w.owner.tenant_id)
    made = {(r["customer_id"], r["kind"]) for r in rows}
    assert made == {(cust["id"], "call"), (lead["id"], "call")}  # not the visit (90 days), not fresh
    assert all(r["source"] == "cadence" and r["status"] == "open" for r in rows)
    assert all(r["assignee_membership_id"] == w.rep.membership_id for r in rows)
    overdue = next(r for r in rows if r["customer_id"] == cust["id"])
    assert overdue["due_on"] == today() - timedelta(days=10)

    await cadence_job()  # idempotent
    assert len(await _tasks(admin_db, w.owner.tenant_id)) == 2

    r = await client.get("/api/v1/tasks", headers=w.rep.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["customer_id"] for i in items] == [cust["id"], lead["id"]]  # most overdue first
    assert items[0]["overdue"] is True and items[0]["customer_name"] == cust["full_name"]
    assert items[1]["overdue"] is True  # due 3 days ago

    # a call logged completes the call task at once (read time), and the job writes it down
    await followup(client, w.rep, cust["id"], "call", "conversation")
    items = (await client.get("/api/v1/tasks", headers=w.rep.headers)).json()["items"]
    assert [i["customer_id"] for i in items] == [lead["id"]]
    done = (await client.get("/api/v1/tasks", params={"status": "done"}, headers=w.rep.headers)).json()
    assert [i["customer_id"] for i in done["items"]] == [cust["id"]]
    await cadence_job()
    rows = await _tasks(admin_db, w.owner.tenant_id)
    assert {(r["customer_id"], r["status"]) for r in rows} == {(cust["id"], "done"), (lead["id"], "open")}

    # a visit does not complete a call task; a customer back in the pool loses its cadence task
    await followup(client, w.rep, lead["id"], "visit", "appointment")
    assert len((await client.get("/api/v1/tasks", headers=w.rep.headers)).json()["items"]) == 1
    r = await client.post(
        f"/api/v1/customers/{lead['id']}/release",
        json={"reason": "other", "note": "不再跟进"},
        headers=w.rep.headers,
    )
    assert r.status_code == 200, r.text
    await cadence_job()
    rows = await _tasks(admin_db, w.owner.tenant_id)
    assert {(r["customer_id"], r["status"]) for r in rows} == {(cust["id"], "done"), (lead["id"], "skipped")}
    assert not any(r["customer_id"] == fresh["id"] for r in rows)


async def test_task_lists_by_role_filters_and_pages(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    customers = [w.customer] + [await customer(client, w.rep, w.city["id"]) for _ in range(2)]
    for c in customers:
        await _age(admin_db, c["id"], 100)  # call and visit both due
    await cadence_job()
    assert len(await _tasks(admin_db, w.owner.tenant_id)) == 6

    seen = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/tasks", params=params, headers=w.rep.headers)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 6 and len({i["id"] for i in seen}) == 6
    calls = (await client.get("/api/v1/tasks", params={"kind": "call"}, headers=w.rep.headers)).json()
    assert len(calls["items"]) == 3 and {i["kind"] for i in calls["items"]} == {"call"}
    later = (today() + timedelta(days=1)).isoformat()
    assert (
        len(
            (await client.get("/api/v1/tasks", params={"due_before": later}, headers=w.rep.headers)).json()[
                "items"
            ]
        )
        == 6
    )
    early = (today() - timedelta(days=365)).isoformat()
    assert (await client.get("/api/v1/tasks", params={"due_before": early}, headers=w.rep.headers)).json()[
        "items"
    ] == []

    # the manager of the province sees the city's tasks; the other province's manager none
    mine = (
        await client.get(
            "/api/v1/tasks", params={"assignee": w.rep.membership_id, "limit": 50}, headers=w.manager.headers
        )
    ).json()["items"]
    assert len(mine) == 6
    assert (await client.get("/api/v1/tasks", headers=w.other_manager.headers)).json()["items"] == []
    # a rep may not read someone else's list
    r = await client.get("/api/v1/tasks", params={"assignee": w.manager.membership_id}, headers=w.rep.headers)
    assert r.status_code == 403
    for params in ({"status": "late"}, {"kind": "email"}, {"limit": 0}, {"cursor": "nonsense"}):
        r = await client.get("/api/v1/tasks", params=params, headers=w.rep.headers)
        assert r.status_code == 422, (params, r.text)


async def test_manual_tasks_done_and_skip(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    due = (today() + timedelta(days=2)).isoformat()
    r = await client.post(
        "/api/v1/tasks",
        json={"customer_id": w.customer["id"], "kind": "visit", "due_on": due, "note": "带实施顾问"},
        headers=w.rep.headers,
    )
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["source"] == "manual" and task["status"] == "open" and task["overdue"] is False
    assert task["assignee_membership_id"] == w.rep.membership_id and task["note"] == "带实施顾问"

    # the province manager gives one to the rep; a rep cannot give one to the manager
    r = await client.post(
        "/api/v1/tasks",
        json={
            "customer_id": w.customer["id"],
            "kind": "call",
            "due_on": due,
            "assignee_membership_id": w.rep.membership_id,
        },
        headers=w.manager.headers,
    )
    assert r.status_code == 201, r.text
    second = r.json()

    before = await db_value(admin_db, "SELECT count(*) FROM sales_tasks WHERE tenant = $1", w.owner.tenant_id)
    other = await signup(client)
    far = await territory(client, other, "外地")
    stranger = await customer(client, other, far["id"])
    past = (today() - timedelta(days=1)).isoformat()
    bad = [
        (w.rep, {"customer_id": w.customer["id"], "kind": "visit", "due_on": past}, 422, "due_on"),
        (w.rep, {"customer_id": w.customer["id"], "kind": "email", "due_on": due}, 422, None),
        (w.rep, {"customer_id": stranger["id"], "kind": "call", "due_on": due}, 422, "customer_id"),
        (w.rep, {"customer_id": str(uuid4()), "kind": "call", "due_on": due}, 422, "customer_id"),
        (
            w.rep,
            {
                "customer_id": w.customer["id"],
                "kind": "call",
                "due_on": due,
                "assignee_membership_id": w.manager.membership_id,
            },
            403,
            None,
        ),
        (
            w.manager,
            {
                "customer_id": w.customer["id"],
                "kind": "call",
                "due_on": due,
                "assignee_membership_id": str(uuid4()),
            },
            422,
            "assignee_membership_id",
        ),
        (
            w.other_manager,
            {"customer_id": w.customer["id"], "kind": "call", "due_on": due},
            422,
            "customer_id",
        ),
    ]
    for who, body, status, field in bad:
        r = await client.post("/api/v1/tasks", json=body, headers=who.headers)
        assert r.status_code == status, (body, r.text)
        if field:
            assert r.json()["errors"][0]["field"] == field
    after = await db_value(admin_db, "SELECT count(*) FROM sales_tasks WHERE tenant = $1", w.owner.tenant_id)
    assert after == before

    # skip needs a reason; another tenant and another province get 404
    url = f"/api/v1/tasks/{task['id']}"
    r = await client.post(url + "/skip", json={}, headers=w.rep.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    for who in (other, w.other_manager):
        assert (await client.post(url + "/done", json={}, headers=who.headers)).status_code == 404
        assert (
            await client.post(url + "/skip", json={"reason": "x"}, headers=who.headers)
        ).status_code == 404
    assert (await client.post(f"/api/v1/tasks/{uuid4()}/done", headers=w.rep.headers)).status_code == 404
    status = await db_value(admin_db, "SELECT status FROM sales_tasks WHERE id = $1", task["id"])
    assert status == "open"

    r = await client.post(url + "/done", headers=w.rep.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["closed_at"]
    assert (await client.post(url + "/done", headers=w.rep.headers)).status_code == 409
    r = await client.post(
        f"/api/v1/tasks/{second['id']}/skip", json={"reason": "客户出差"}, headers=w.manager.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "skipped" and r.json()["close_reason"] == "客户出差"
    skipped = (await client.get("/api/v1/tasks", params={"status": "skipped"}, headers=w.rep.headers)).json()
    assert [i["id"] for i in skipped["items"]] == [second["id"]]
    actions = await db_rows(
        admin_db,
        "SELECT action FROM audit_log WHERE tenant = $1 AND subject_type = 'task' ORDER BY at",
        w.owner.tenant_id,
    )
    assert [a["action"] for a in actions] == ["task.created", "task.created", "task.done", "task.skipped"]
