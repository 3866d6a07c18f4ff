"""Daily visit plans: plan, submit, approve or return, log visits as follow-ups; who may do what."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import customer, db_value, today
from tests.helpers import signup
from tests.integration.sales.field.support import field, item, plan


async def _kinds(client, who):
    r = await client.get("/api/v1/notifications", headers=who.headers)
    assert r.status_code == 200
    return [(n["kind"], n["message"]) for n in r.json()["items"]]


async def test_plan_submit_approve_and_log_visits(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    c1, c2 = f.customers
    r = await plan(
        client,
        f.rep,
        today(),
        [item(c1["id"], "09:30:00", "development"), item(c2["id"], "14:00:00", "order")],
    )
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["status"], p["planned"], p["done"]) == ("draft", 2, 0)
    assert [i["purpose"] for i in p["items"]] == ["development", "order"]
    assert p["items"][0]["customer_name"] == c1["full_name"]

    r = await client.post(
        f"/api/v1/visit-plans/{p['id']}/items/{p['items'][0]['id']}/done",
        json={"kind": "visit", "summary": "见到了老板"},
        headers=f.rep.headers,
    )
    assert r.status_code == 409  # a draft: submit first

    r = await client.post(f"/api/v1/visit-plans/{p['id']}/submit", headers=f.rep.headers)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    assert any(
        k == "visit_plan_submitted" and today().isoformat() in m for k, m in await _kinds(client, f.manager)
    )
    assert not any(k == "visit_plan_submitted" for k, _ in await _kinds(client, f.other_manager))

    r = await client.post(f"/api/v1/visit-plans/{p['id']}/approve", json={}, headers=f.manager.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == f.manager.membership_id
    assert ("visit_plan_approved", f"Your visit plan for {today().isoformat()} was approved") in await _kinds(
        client, f.rep
    )

    item_id = p["items"][0]["id"]
    r = await client.post(
        f"/api/v1/visit-plans/{p['id']}/items/{item_id}/done",
        json={"kind": "visit", "summary": "见到了老板", "result": "appointment"},
        headers=f.rep.headers,
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["planned"], done["done"]) == (2, 1)
    linked = done["items"][0]["followup_id"]
    assert linked and done["items"][0]["done"] is True and done["items"][1]["done"] is False
    r = await client.get(f"/api/v1/customers/{c1['id']}/followups", headers=f.rep.headers)
    assert [(x["id"], x["result"]) for x in r.json()["items"]] == [(linked, "appointment")]

    r = await client.post(
        f"/api/v1/visit-plans/{p['id']}/items/{item_id}/done",
        json={"kind": "visit", "summary": "again"},
        headers=f.rep.headers,
    )
    assert r.status_code == 409
    assert (
        await db_value(admin_db, "SELECT count(*) FROM customer_followups WHERE customer_id = $1", c1["id"])
        == 1
    )
    # a bad follow-up (in the future) leaves the item open and adds nothing
    future = "2999-01-01T00:00:00+00:00"
    r = await client.post(
        f"/api/v1/visit-plans/{p['id']}/items/{p['items'][1]['id']}/done",
        json={"kind": "visit", "summary": "x", "happened_at": future},
        headers=f.rep.headers,
    )
    assert r.status_code == 422
    assert (
        await db_value(admin_db, "SELECT count(*) FROM customer_followups WHERE customer_id = $1", c2["id"])
        == 0
    )
    # the manager may read but not log the rep's visits
    r = await client.post(
        f"/api/v1/visit-plans/{p['id']}/items/{p['items'][1]['id']}/done",
        json={"kind": "visit", "summary": "x"},
        headers=f.manager.headers,
    )
    assert r.status_code == 403
    actions = await db_value(
        admin_db, "SELECT array_agg(action ORDER BY id) FROM audit_log WHERE subject_id = $1", p["id"]
    )
    assert actions == [
        "visit_plan.created",
        "visit_plan.submitted",
        "visit_plan.approved",
        "visit_plan.visit_logged",
    ]


async def test_return_edit_and_resubmit(client, mailbox, app):
    f = await field(client, mailbox, app, locale="zh-CN")
    c1, c2 = f.customers
    p = (await plan(client, f.rep, today() + timedelta(days=1), [item(c1["id"])])).json()
    assert (
        await client.post(f"/api/v1/visit-plans/{p['id']}/submit", headers=f.rep.headers)
    ).status_code == 200
    r = await client.post(f"/api/v1/visit-plans/{p['id']}/return", json={}, headers=f.manager.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "comment"
    r = await client.put(
        f"/api/v1/visit-plans/{p['id']}", json={"items": [item(c2["id"])]}, headers=f.rep.headers
    )
    assert r.status_code == 409  # submitted: not editable
    r = await client.post(
        f"/api/v1/visit-plans/{p['id']}/return",
        json={"comment": "多安排一个回款拜访"},
        headers=f.manager.headers,
    )
    assert r.status_code == 200 and (r.json()["status"], r.json()["comment"]) == (
        "returned",
        "多安排一个回款拜访",
    )
    kinds = await _kinds(client, f.rep)
    assert any(k == "visit_plan_returned" and "多安排一个回款拜访" in m and "退回" in m for k, m in kinds)

    r = await client.put(
        f"/api/v1/visit-plans/{p['id']}",
        json={"items": [item(c1["id"]), item(c2["id"], "15:00:00", "collection")]},
        headers=f.rep.headers,
    )
    assert r.status_code == 200 and r.json()["planned"] == 2
    r = await client.put(
        f"/api/v1/visit-plans/{p['id']}", json={"items": [item(c1["id"])]}, headers=f.rep2.headers
    )
    assert r.status_code == 404  # another rep does not see it
    r = await client.post(f"/api/v1/visit-plans/{p['id']}/submit", headers=f.rep.headers)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    submitted = [k for k, _ in await _kinds(client, f.manager) if k == "visit_plan_submitted"]
    assert len(submitted) == 2  # told on each round


async def test_bad_plans_are_refused_and_leave_nothing(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    c1, _ = f.customers
    count = "SELECT count(*) FROM visit_plans WHERE membership_id = ANY($1::uuid[])"
    members = [f.rep.membership_id, f.rep2.membership_id]

    r = await client.post(
        "/api/v1/visit-plans",
        json={
            "plan_date": today().isoformat(),
            "items": [item(c1["id"])],
            "membership_id": f.rep2.membership_id,
        },
        headers=f.rep.headers,
    )
    assert r.status_code == 403  # a plan for another rep
    r = await plan(client, f.rep, today() - timedelta(days=1), [item(c1["id"])])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "plan_date"
    foreign = await customer(client, f.other_rep, f.other_province["id"])
    r = await plan(client, f.rep, today(), [item(c1["id"]), item(foreign["id"])])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items[1].customer_id"
    r = await plan(client, f.rep, today(), [item(c1["id"], purpose="party")])
    assert r.status_code == 400 or r.status_code == 422
    r = await plan(client, f.rep, today(), [item(c1["id"], at="25:00:00")])
    assert r.status_code in (400, 422)
    # a time of day in the tenant's zone: an offset would be dropped silently, so it is refused
    r = await plan(client, f.rep, today(), [item(c1["id"], at="09:30:00+08:00")])
    assert r.status_code == 422 and "items[0].planned_time" in r.text, r.text
    assert await db_value(admin_db, count, members) == 0

    assert (await plan(client, f.rep, today(), [item(c1["id"])])).status_code == 201
    r = await plan(client, f.rep, today(), [item(c1["id"])])
    assert r.status_code == 409
    empty = (await plan(client, f.rep, today() + timedelta(days=2), [])).json()
    r = await client.post(f"/api/v1/visit-plans/{empty['id']}/submit", headers=f.rep.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items"
    assert await db_value(admin_db, count, members) == 2


async def test_approval_outside_the_subtree_or_of_ones_own_plan(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    p = (await plan(client, f.rep, today(), [item(f.customers[0]["id"])])).json()
    await client.post(f"/api/v1/visit-plans/{p['id']}/submit", headers=f.rep.headers)
    for who, code in ((f.other_manager, 404), (f.rep2, 404), (f.rep, 403)):
        r = await client.post(f"/api/v1/visit-plans/{p['id']}/approve", json={}, headers=who.headers)
        assert r.status_code == code, (who.email, r.text)
    # a manager's own plan is not theirs to approve either
    mine = (await plan(client, f.manager, today(), [item(f.customers[0]["id"])])).json()
    await client.post(f"/api/v1/visit-plans/{mine['id']}/submit", headers=f.manager.headers)
    r = await client.post(f"/api/v1/visit-plans/{mine['id']}/approve", json={}, headers=f.manager.headers)
    assert r.status_code == 403
    status = "SELECT status FROM visit_plans WHERE id = $1"
    assert await db_value(admin_db, status, p["id"]) == "submitted"
    assert await db_value(admin_db, status, mine["id"]) == "submitted"
    # the owner (admin) may decide
    r = await client.post(f"/api/v1/visit-plans/{mine['id']}/approve", json={}, headers=f.owner.headers)
    assert r.status_code == 200
    r = await client.post(f"/api/v1/visit-plans/{mine['id']}/approve", json={}, headers=f.owner.headers)
    assert r.status_code == 409


async def test_lists_by_role_and_pages(client, mailbox, app):
    f = await field(client, mailbox, app)
    ids = []
    for n in range(3):
        ids.append(
            (await plan(client, f.rep, today() + timedelta(days=n), [item(f.customers[0]["id"])])).json()[
                "id"
            ]
        )
    other = (await plan(client, f.other_rep, today(), [])).json()

    async def listed(who, **params):
        r = await client.get("/api/v1/visit-plans", params=params, headers=who.headers)
        assert r.status_code == 200, r.text
        return r.json()

    assert [p["id"] for p in (await listed(f.manager))["items"]] == list(reversed(ids))
    assert [p["id"] for p in (await listed(f.other_manager))["items"]] == [other["id"]]
    assert (await listed(f.rep2))["items"] == []
    assert len((await listed(f.owner))["items"]) == 4
    first = await listed(f.rep, limit=2)
    assert [p["id"] for p in first["items"]] == [ids[2], ids[1]] and first["next_cursor"]
    rest = await listed(f.rep, limit=2, cursor=first["next_cursor"])
    assert [p["id"] for p in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert (
        await client.get("/api/v1/visit-plans", params={"cursor": "bad"}, headers=f.rep.headers)
    ).status_code == 422
    r = await client.get(f"/api/v1/visit-plans/{other['id']}", headers=f.manager.headers)
    assert r.status_code == 404


async def test_another_tenants_plan_is_404(client, mailbox, app):
    f = await field(client, mailbox, app)
    p = (await plan(client, f.rep, today(), [item(f.customers[0]["id"])])).json()
    stranger = await signup(client)
    base = f"/api/v1/visit-plans/{p['id']}"
    item_id = p["items"][0]["id"]
    calls = [
        ("get", base, None),
        ("put", base, {"items": []}),
        ("post", f"{base}/submit", None),
        ("post", f"{base}/approve", {}),
        ("post", f"{base}/return", {"comment": "no"}),
        ("post", f"{base}/items/{item_id}/done", {"kind": "visit", "summary": "x"}),
    ]
    for method, url, body in calls:
        kwargs = {"json": body} if body is not None else {}
        r = await getattr(client, method)(url, headers=stranger.headers, **kwargs)
        assert r.status_code == 404, (method, url, r.text)
