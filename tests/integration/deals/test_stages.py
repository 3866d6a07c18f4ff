"""Stage moves under the tenant matrix: allowed, approval (202, applied once approved), forbidden,
backward only with a reason, negotiation only after an approved formal quote."""

from __future__ import annotations

from tests.helpers import mails_to, run_jobs
from tests.integration.deals.support import approved_quote, deal, move, world


async def test_one_step_forward_applies_and_backward_needs_a_reason(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    r = await move(client, w.rep, d["id"], "first_visit")
    assert r.status_code == 200 and r.json()["stage"] == "first_visit" and r.json()["probability"] == 10
    r = await move(client, w.rep, d["id"], "prospect_list")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await move(client, w.rep, d["id"], "prospect_list", reason="联系人离职，重新开发")
    assert r.status_code == 200 and r.json()["stage"] == "prospect_list"
    r = await move(client, w.rep, d["id"], "prospect_list")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to"
    history = (await client.get(f"/api/v1/deals/{d['id']}/stage-history", headers=w.rep.headers)).json()
    assert [h["to_stage"] for h in history] == ["prospect_list", "first_visit", "prospect_list"]
    assert history[-1]["reason"] == "联系人离职，重新开发"


async def test_skip_needs_approval_then_applies(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    r = await move(client, w.rep, d["id"], "demo")
    assert r.status_code == 202, r.text
    approval = r.json()
    assert approval["kind"] == "stage" and approval["status"] == "pending"
    assert approval["payload"] == {"from": "prospect_list", "to": "demo", "reason": None}
    assert (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()[
        "stage"
    ] == "prospect_list"
    # a second request while one is pending is refused
    assert (await move(client, w.rep, d["id"], "exchange_research")).status_code == 409
    # the rep cannot decide, the other province's manager does not even see it
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", json={}, headers=w.rep.headers)
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/approvals/{approval['id']}/approve", json={}, headers=w.other_manager.headers
    )
    assert r.status_code == 404
    inbox = (await client.get("/api/v1/approvals", headers=w.manager.headers)).json()["items"]
    assert [a["id"] for a in inbox] == [approval["id"]]
    assert (await client.get("/api/v1/approvals", headers=w.other_manager.headers)).json()["items"] == []

    mailbox.messages.clear()
    r = await client.post(
        f"/api/v1/approvals/{approval['id']}/approve", json={"comment": "同意"}, headers=w.manager.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
    got = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert got["stage"] == "demo" and got["probability"] == 35
    history = (await client.get(f"/api/v1/deals/{d['id']}/stage-history", headers=w.rep.headers)).json()
    assert history[-1]["approval_id"] == approval["id"] and history[-1]["actor"] == w.rep.membership_id
    r = await client.post(f"/api/v1/approvals/{approval['id']}/reject", json={}, headers=w.manager.headers)
    assert r.status_code == 409
    await run_jobs(app)
    assert len(mails_to(mailbox, w.rep.email)) == 1
    notes = (await client.get("/api/v1/notifications", headers=w.rep.headers)).json()["items"]
    assert notes[0]["kind"] == "stage_approved" and "demo" in notes[0]["message"]


async def test_negotiation_needs_an_approved_formal_quote(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], stage="objections_cleared")
    r = await move(client, w.rep, d["id"], "negotiation")
    assert r.status_code == 409 and r.json()["rule"] == "needs_quote"
    await approved_quote(client, w, d["id"])
    r = await move(client, w.rep, d["id"], "negotiation")
    assert r.status_code == 200 and r.json()["stage"] == "negotiation"


async def test_lost_needs_a_reason_and_closes(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    r = await move(client, w.rep, d["id"], "lost")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await move(client, w.rep, d["id"], "lost", reason="选择了竞争对手")
    assert r.status_code == 200
    assert (
        r.json()["lost_reason"] == "选择了竞争对手" and r.json()["closed_at"] and r.json()["probability"] == 0
    )
    r = await move(client, w.rep, d["id"], "first_visit", reason="x")
    assert r.status_code == 409


async def test_stage_rules_matrix_admin_only_and_applied(client, mailbox, app):
    w = await world(client, mailbox, app)
    r = await client.get("/api/v1/deals/stage-rules", headers=w.owner.headers)
    assert r.status_code == 200 and r.json()["customized"] is False
    m = r.json()["matrix"]
    assert m["prospect_list"]["first_visit"] == "allowed" and m["prospect_list"]["demo"] == "approval"
    assert m["demo"]["first_visit"] == "allowed"
    assert (await client.get("/api/v1/deals/stage-rules", headers=w.manager.headers)).status_code == 403
    rules = {"matrix": {"prospect_list": {"first_visit": "forbidden", "exchange_research": "allowed"}}}
    assert (
        await client.put("/api/v1/deals/stage-rules", json=rules, headers=w.rep.headers)
    ).status_code == 403
    r = await client.put(
        "/api/v1/deals/stage-rules", json={"matrix": {"demo": {"won": "allowed"}}}, headers=w.owner.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "matrix.demo.won"
    r = await client.put("/api/v1/deals/stage-rules", json=rules, headers=w.owner.headers)
    assert r.status_code == 200 and r.json()["customized"] is True
    d = await deal(client, w.rep, w.customer["id"])
    r = await move(client, w.rep, d["id"], "first_visit")
    assert r.status_code == 409 and r.json()["rule"] == "forbidden"
    r = await move(client, w.rep, d["id"], "exchange_research")
    assert r.status_code == 200 and r.json()["stage"] == "exchange_research"
