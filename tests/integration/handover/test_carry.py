"""A handover carries the previous owner's open work on the moved customers: open tasks (cadence,
return-visit, manual), scheduled return visits and future visit-plan items; done history stays, the
preview counts what goes, and an undo gives back what is still open."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.helpers import connect
from tests.integration.handover.support import db_rows, owned, plan, team
from tests.integration.web.support import sign_in

FUTURE = date.today() + timedelta(days=3)
PAST = date.today() - timedelta(days=3)


async def _work(admin_db: str, tenant: str, customer_id: str, rep: str, n: int = 0) -> dict[str, Any]:
    """Open and done work of ``rep`` on the customer, straight in the database (``n``: a second
    set on one customer, which the unique keys of cadence tasks and return visits would refuse)."""
    async with connect(admin_db) as conn:

        async def task(source: str, status: str = "open", kind: str = "call", rv: Any = None) -> str:
            return str(
                await conn.fetchval(
                    "INSERT INTO sales_tasks (tenant, customer_id, assignee_membership_id, kind, source,"
                    " due_on, status, return_visit_id) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5,"
                    " current_date + 2, $6, $7) RETURNING id",
                    tenant,
                    customer_id,
                    rep,
                    kind,
                    source,
                    status,
                    rv,
                )
            )

        async def visit(status: str, offset: int) -> Any:
            return await conn.fetchval(
                "INSERT INTO return_visits (tenant, customer_id, assignee_membership_id, offset_days,"
                " scheduled_from, due_on, status) VALUES ($1::uuid, $2::uuid, $3::uuid, $4,"
                " current_date, current_date + $4::int, $5) RETURNING id",
                tenant,
                customer_id,
                rep,
                offset,
                status,
            )

        async def item(day: date, done: bool = False) -> str:
            plan_id = await conn.fetchval(
                "INSERT INTO visit_plans (tenant, membership_id, plan_date, status) VALUES ($1::uuid,"
                " $2::uuid, $3, 'approved') ON CONFLICT (tenant, membership_id, plan_date)"
                " DO UPDATE SET status = 'approved' RETURNING id",
                tenant,
                rep,
                day,
            )
            return str(
                await conn.fetchval(
                    "INSERT INTO visit_plan_items (tenant, plan_id, position, customer_id, planned_time,"
                    " purpose, done_at) SELECT $1::uuid, $2, coalesce(max(position), 0) + 1, $3::uuid,"
                    " '10:00', 'research', CASE WHEN $4 THEN now() END FROM visit_plan_items"
                    " WHERE plan_id = $2 RETURNING id",
                    tenant,
                    plan_id,
                    customer_id,
                    done,
                )
            )

        scheduled = await visit("scheduled", 30 + n)
        logged = await visit("done", 7 + n)
        return {
            "manual": await task("manual", kind="visit"),
            "cadence": await task("cadence", kind="visit" if n else "call"),
            "rv_task": await task("return_visit", rv=scheduled),
            "done_task": await task("manual", status="done"),
            "rv": str(scheduled),
            "rv_done": str(logged),
            "future": await item(FUTURE),
            "future_done": await item(FUTURE, done=True),
            "past": await item(PAST),
        }


async def _assignees(admin_db: str, work: dict[str, Any]) -> dict[str, str]:
    rows = await db_rows(
        admin_db,
        "SELECT id::text, assignee_membership_id::text AS m FROM sales_tasks WHERE id = ANY($1::uuid[])"
        " UNION ALL SELECT id::text, assignee_membership_id::text FROM return_visits"
        " WHERE id = ANY($1::uuid[])"
        " UNION ALL SELECT i.id::text, p.membership_id::text FROM visit_plan_items i JOIN visit_plans p"
        " ON p.tenant = i.tenant AND p.id = i.plan_id WHERE i.id = ANY($1::uuid[])",
        list(work.values()),
    )
    ids = {str(v): k for k, v in work.items()}
    return {ids[r["id"]]: r["m"] for r in rows}


async def test_open_work_moves_with_the_customer_and_history_stays(client, admin_db):
    t = await team(client, admin_db, reps=3)
    leaving, receiver, bystander = t.reps
    tenant = t.owner.tenant_id
    mine, other = await owned(client, t, leaving, "AB")
    work = await _work(admin_db, tenant, mine["id"], leaving.membership_id)
    # work on a customer not in the handover stays, and so does a bystander's task on the moved one
    untouched = await _work(admin_db, tenant, other["id"], leaving.membership_id)
    theirs = await _work(admin_db, tenant, mine["id"], bystander.membership_id, n=1)
    # the receiver already plans that day: the carried item comes after their own
    await _work(admin_db, tenant, other["id"], receiver.membership_id, n=1)

    body = await plan(
        client,
        t.owner,
        selection={"customer_ids": [mine["id"]]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
    )
    p = body["preview"]
    assert (p["tasks"], p["return_visits"], p["visit_items"]) == (3, 1, 1), p
    assert (p["receivers"][0]["tasks"], p["receivers"][0]["visit_items"]) == (3, 1)

    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    p = r.json()["preview"]
    assert (p["tasks"], p["return_visits"], p["visit_items"]) == (3, 1, 1), p

    got = await _assignees(admin_db, work)
    moved = {"manual", "cadence", "rv_task", "rv", "future"}
    assert {k for k, m in got.items() if m == receiver.membership_id} == moved
    assert {k for k, m in got.items() if m == leaving.membership_id} == set(work) - moved
    assert set((await _assignees(admin_db, untouched)).values()) == {leaving.membership_id}
    assert set((await _assignees(admin_db, theirs)).values()) == {bystander.membership_id}
    # the receiver's plan of that day holds their own item first, then the carried one
    items = await db_rows(
        admin_db,
        "SELECT i.id::text, i.position FROM visit_plan_items i JOIN visit_plans p ON p.id = i.plan_id"
        " WHERE p.membership_id = $1::uuid AND p.plan_date = $2 ORDER BY i.position",
        receiver.membership_id,
        FUTURE,
    )
    assert [r["id"] for r in items][-1] == work["future"] and [r["position"] for r in items] == [1, 2, 3]

    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert set((await _assignees(admin_db, work)).values()) == {leaving.membership_id}
    back = await db_rows(
        admin_db,
        "SELECT p.plan_date FROM visit_plan_items i JOIN visit_plans p ON p.id = i.plan_id"
        " WHERE i.id = $1::uuid",
        work["future"],
    )
    assert back[0]["plan_date"] == FUTURE


async def test_a_new_plan_is_made_for_the_receiver_and_pool_handover_leaves_work(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    tenant = t.owner.tenant_id
    a, b = await owned(client, t, leaving, "AC")
    work_a = await _work(admin_db, tenant, a["id"], leaving.membership_id)
    work_b = await _work(admin_db, tenant, b["id"], leaving.membership_id)

    body = await plan(
        client,
        t.owner,
        selection={"customer_ids": [a["id"]]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
    )
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    made = await db_rows(
        admin_db,
        "SELECT status FROM visit_plans WHERE membership_id = $1::uuid AND plan_date = $2",
        receiver.membership_id,
        FUTURE,
    )
    assert [m["status"] for m in made] == ["draft"]
    assert (await _assignees(admin_db, work_a))["future"] == receiver.membership_id
    await sign_in(client, t.owner)
    page = await client.get(f"/handovers/{body['id']}")
    assert page.status_code == 200
    assert '<span id="carried-work">3 open tasks, 1 return visits, 1 planned visits</span>' in page.text

    # back to the pool: nobody receives the work, it stays as a release leaves it
    body = await plan(client, t.owner, selection={"customer_ids": [b["id"]]}, mode="pool")
    assert (body["preview"]["tasks"], body["preview"]["visit_items"]) == (0, 0)
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert set((await _assignees(admin_db, work_b)).values()) == {leaving.membership_id}


async def test_a_task_done_by_a_follow_up_stays(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    (c,) = await owned(client, t, leaving, "A")
    work = await _work(admin_db, t.owner.tenant_id, c["id"], leaving.membership_id)
    r = await client.post(
        f"/api/v1/customers/{c['id']}/followups",
        json={"kind": "call", "summary": "电话沟通需求"},
        headers=leaving.headers,
    )
    assert r.status_code == 201, r.text
    body = await plan(
        client,
        t.owner,
        selection={"customer_ids": [c["id"]]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
    )
    assert body["preview"]["tasks"] == 2  # the call (cadence) was done by the follow-up
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    got = await _assignees(admin_db, work)
    assert got["cadence"] == leaving.membership_id
    assert got["manual"] == got["rv_task"] == receiver.membership_id
