"""The approvals inbox over HTTP: a below-floor quote shows its lines and margin over the floor, a stage
skip its move and the deal's stage history, a submitted visit plan its visits; approve / reject /
return one at a time or in bulk (the requester is notified); a return without a comment is refused
inline and changes nothing; a rep gets the services' 403/404; another tenant's ids are 404."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import db_value, today
from tests.integration.deals.support import deal, line, move, quote, world
from tests.integration.sales.field.support import item, plan
from tests.integration.web.support import htmx, sign_in


async def _below_floor(client, w, title="恒泰 ERP 项目"):
    d = await deal(client, w.rep, w.customer["id"], title=title)
    r = await quote(client, w.rep, d["id"], [line(w.products["erp"], unit_price="4800.00")], formal=False)
    assert r.status_code == 201, r.text
    q = r.json()
    r = await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.rep.headers)
    assert r.status_code == 202, r.text
    return d, q, r.json()


async def _skip(client, w, title="远航 CRM 项目"):
    d = await deal(client, w.rep, w.customer["id"], title=title)
    r = await move(client, w.rep, d["id"], "demo", reason="客户要求直接演示")
    assert r.status_code == 202, r.text
    return d, r.json()


async def _notifications(client, who):
    r = await client.get("/api/v1/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    return [n["kind"] for n in r.json()["items"]]


async def test_the_inbox_shows_each_request_with_its_context(client, mailbox, app):
    w = await world(client, mailbox, app)
    await _below_floor(client, w)
    await _skip(client, w)
    tomorrow = today() + timedelta(days=1)
    r = await plan(client, w.rep, tomorrow, [item(w.customer["id"], at="10:00:00", purpose="development")])
    assert r.status_code == 201, r.text
    assert (
        await client.post(f"/api/v1/visit-plans/{r.json()['id']}/submit", headers=w.rep.headers)
    ).status_code == 200

    await sign_in(client, w.manager)
    page = await client.get("/approvals")
    assert page.status_code == 200
    text = page.text
    assert "恒泰 ERP 项目" in text and "远航 CRM 项目" in text
    assert "Under the floor price" in text and "4800.00" in text and "5000.00" in text
    assert "-4.0%" in text  # 4800 against a floor of 5000
    assert "From Prospect list to Demo" in text and "客户要求直接演示" in text
    assert "Stage history (1)" in text  # the deal's creation at the prospect list
    assert "Visit plan of" in text and tomorrow.isoformat() in text and w.customer["full_name"] in text
    assert '<a href="/approvals" aria-current="page">Approvals</a>' in text  # in the manager's navigation

    only_quotes = (await client.get("/approvals", params={"kind": "quote"})).text
    assert (
        "恒泰 ERP 项目" in only_quotes
        and "远航 CRM 项目" not in only_quotes
        and "Visit plan of" not in only_quotes
    )


async def test_approve_a_below_floor_quote_and_the_rep_is_told(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    _, q, approval = await _below_floor(client, w)
    csrf = await sign_in(client, w.manager)
    r = await client.post(
        f"/approvals/{approval['id']}/approve", data={"comment": "同意，下不为例"}, headers=htmx(csrf)
    )
    assert r.status_code == 200 and "Approved" in r.text and "同意，下不为例" in r.text
    assert f'id="act-approval-{approval["id"]}" hx-swap-oob="true"' in r.text
    status = await db_value(admin_db, "SELECT status FROM quotes WHERE id = $1::uuid", q["id"])
    assert status == "approved"
    assert "quote_approved" in await _notifications(client, w.rep)
    # decided already: the service's 409, inline
    r = await client.post(f"/approvals/{approval['id']}/reject", data={"comment": "x"}, headers=htmx(csrf))
    assert r.status_code == 409 and 'class="error"' in r.text and "<html" not in r.text
    assert "恒泰 ERP 项目" not in (await client.get("/approvals")).text  # no longer pending


async def test_bulk_decisions_report_each_and_refusals_change_nothing(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    _, _, first = await _below_floor(client, w, title="一号项目")
    d2, second = await _skip(client, w, title="二号项目")
    r = await plan(client, w.rep, today() + timedelta(days=2), [item(w.customer["id"])])
    plan_id = r.json()["id"]
    assert (
        await client.post(f"/api/v1/visit-plans/{plan_id}/submit", headers=w.rep.headers)
    ).status_code == 200
    csrf = await sign_in(client, w.manager)

    # bad input: nothing chosen, an unknown decision, a forged id — inline, nothing decided
    for data in (
        {"decision": "approve"},
        {"decision": "maybe", "ids": f"approval:{first['id']}"},
        {"decision": "approve", "ids": "approval:not-an-id"},
    ):
        r = await client.post("/approvals/bulk", data=data, headers=htmx(csrf))
        assert r.status_code == 422 and 'class="error"' in r.text, data
    # a return needs a comment: the plan is refused, the quote and the skip are rejected
    ids = [f"approval:{first['id']}", f"approval:{second['id']}", f"plan:{plan_id}"]
    r = await client.post("/approvals/bulk", data={"decision": "reject", "ids": ids}, headers=htmx(csrf))
    assert r.status_code == 200 and "2 decided" in r.text and "1 not decided" in r.text
    assert "Say why the plan is returned" in r.text
    statuses = {
        a: await db_value(admin_db, "SELECT status FROM approvals WHERE id = $1::uuid", a)
        for a in (first["id"], second["id"])
    }
    assert statuses == {first["id"]: "rejected", second["id"]: "rejected"}
    assert (
        await db_value(admin_db, "SELECT status FROM visit_plans WHERE id = $1::uuid", plan_id) == "submitted"
    )
    assert (
        await db_value(admin_db, "SELECT stage FROM deals WHERE id = $1::uuid", d2["id"]) == "prospect_list"
    )

    r = await client.post(
        "/approvals/bulk",
        data={"decision": "reject", "ids": [f"plan:{plan_id}"], "comment": "请补充拜访目的"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200 and "1 decided" in r.text and "Returned" in r.text
    assert (
        await db_value(admin_db, "SELECT status FROM visit_plans WHERE id = $1::uuid", plan_id) == "returned"
    )
    assert "visit_plan_returned" in await _notifications(client, w.rep)


async def test_a_visit_plan_approved_in_place(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    r = await plan(client, w.rep, today() + timedelta(days=1), [item(w.customer["id"])])
    plan_id = r.json()["id"]
    assert (
        await client.post(f"/api/v1/visit-plans/{plan_id}/submit", headers=w.rep.headers)
    ).status_code == 200
    csrf = await sign_in(client, w.manager)
    r = await client.post(f"/visit-plans/{plan_id}/return", data={"comment": " "}, headers=htmx(csrf))
    assert r.status_code == 422 and "Say why the plan is returned" in r.text  # inline, unchanged
    assert (
        await db_value(admin_db, "SELECT status FROM visit_plans WHERE id = $1::uuid", plan_id) == "submitted"
    )
    r = await client.post(f"/visit-plans/{plan_id}/approve", headers=htmx(csrf))
    assert r.status_code == 200 and "Approved" in r.text
    assert (
        await db_value(admin_db, "SELECT status FROM visit_plans WHERE id = $1::uuid", plan_id) == "approved"
    )


async def test_a_rep_and_another_manager_cannot_decide(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    _, q, approval = await _below_floor(client, w)
    csrf = await sign_in(client, w.rep)
    page = await client.get("/approvals")  # the rep sees their own request, without actions
    assert page.status_code == 200 and "恒泰 ERP 项目" in page.text
    assert "Waiting for a manager" in page.text and f"/approvals/{approval['id']}/approve" not in page.text
    assert '<a href="/approvals">Approvals</a>' not in page.text  # not in a rep's navigation
    assert 'id="bulk"' not in page.text
    r = await client.post(f"/approvals/{approval['id']}/approve", headers=htmx(csrf))
    assert r.status_code == 403 and "<html" not in r.text
    csrf = await sign_in(client, w.other_manager)  # manages another province: the request is not theirs
    assert "恒泰 ERP 项目" not in (await client.get("/approvals")).text
    r = await client.post(f"/approvals/{approval['id']}/approve", headers=htmx(csrf))
    assert r.status_code == 404
    assert await db_value(admin_db, "SELECT status FROM quotes WHERE id = $1::uuid", q["id"]) == "pending"


async def test_another_tenants_requests_are_404(client, mailbox, app):
    mine, theirs = await world(client, mailbox, app), await world(client, mailbox, app)
    _, _, approval = await _below_floor(client, theirs)
    r = await plan(client, theirs.rep, today() + timedelta(days=1), [item(theirs.customer["id"])])
    plan_id = r.json()["id"]
    await client.post(f"/api/v1/visit-plans/{plan_id}/submit", headers=theirs.rep.headers)
    csrf = await sign_in(client, mine.owner)
    assert (await client.post(f"/approvals/{approval['id']}/approve", headers=htmx(csrf))).status_code == 404
    assert (await client.post(f"/visit-plans/{plan_id}/approve", headers=htmx(csrf))).status_code == 404
    bulk = {"decision": "approve", "ids": [f"approval:{approval['id']}"]}
    r = await client.post("/approvals/bulk", data=bulk, headers=htmx(csrf))
    assert r.status_code == 200 and "0 decided" in r.text and "1 not decided" in r.text
    page = await client.get("/approvals")
    assert "恒泰 ERP 项目" not in page.text and "Nothing waits for your decision." in page.text
