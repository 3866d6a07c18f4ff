"""Executing a handover: owners move with their ledger entries and deals, receivers are told once,
a stale plan is refused with a fresh preview, and only one of two concurrent executions runs."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.helpers import mails_to, run_jobs
from tests.integration.customers.pool.support import ledger_rows, pool_customer
from tests.integration.handover.support import db_rows, deal, owned, owners, plan, team


async def test_execute_moves_owners_deals_and_writes_ledger_with_plan_id(client, admin_db, app, mailbox):
    t = await team(client, admin_db, reps=3)
    leaving, a, b = t.reps
    made = await owned(client, t, leaving, "ABCD")
    deal_id = await deal(admin_db, t, made[0]["id"], leaving, "500.00")
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": a.membership_id}, {"membership_id": b.membership_id}],
    )
    expected = {
        r["customer_id"]: str(r["to_membership_id"])
        for r in await db_rows(
            admin_db,
            "SELECT customer_id::text, to_membership_id FROM handover_items WHERE plan_id = $1::uuid",
            body["id"],
        )
    }

    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "executed" and done["undo_until"]
    assert done["preview"]["deals"] == 1 and done["preview"]["pipeline_amount"] == "500.00"
    assert await owners(admin_db, [c["id"] for c in made]) == expected
    entries = [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if e["cause"] == "handover"]
    assert len(entries) == 4
    assert {str(e["plan_id"]) for e in entries} == {body["id"]}
    assert {str(e["from_membership_id"]) for e in entries} == {leaving.membership_id}
    assert {(str(e["customer_id"]), str(e["to_membership_id"])) for e in entries} == set(expected.items())
    assert all(e["reason"] == "业务员调岗" and str(e["actor"]) == t.owner.membership_id for e in entries)
    deal_owner = await db_rows(admin_db, "SELECT owner_membership_id FROM deals WHERE id = $1::uuid", deal_id)
    assert str(deal_owner[0]["owner_membership_id"]) == expected[made[0]["id"]]
    audit = await db_rows(
        admin_db,
        "SELECT action, actor, reason FROM audit_log WHERE subject_id = $1 AND action LIKE 'handover.%'"
        " ORDER BY id",
        body["id"],
    )
    assert [(x["action"], str(x["actor"]), x["reason"]) for x in audit] == [
        ("handover.planned", t.owner.user_id, "业务员调岗"),
        ("handover.executed", t.owner.user_id, "业务员调岗"),
    ]

    await run_jobs(app)
    for rep in (a, b):
        got = mails_to(mailbox, rep.email)  # the digest, and the sheet to sign (test_sheet_signing)
        assert len(got) == 2, [m["Subject"] for m in got]
        assert "2 customers were handed over to you" in got[0]["Subject"]
        assert "asks you to sign: Handover sheet H-" in got[1]["Subject"]
        r = await client.get("/api/v1/notifications", headers=rep.headers)
        assert [n["kind"] for n in r.json()["items"]] == ["handover_received"]
    assert len(mails_to(mailbox, leaving.email)) == 1
    done = (await client.get(f"/api/v1/handovers/{body['id']}", headers=t.owner.headers)).json()
    assert done["document_id"], done
    r = await client.get(f"/api/v1/documents/{done['document_id']}", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["kind"] == "handover" and doc["subject_type"] == "handover"
    assert doc["status"] == "ready", doc
    assert doc["docx"] is not None


async def test_claim_between_preview_and_execute_refuses_with_fresh_preview(client, admin_db):
    """Dispatch of pool leads (客户信息移交表) by capacity; a rep claims one lead in between."""
    t = await team(client, admin_db, reps=3)
    a, b, claimer = t.reps
    leads = [await pool_customer(client, t.owner, t.territory["id"], grade="B") for _ in range(4)]
    body = await plan(
        client,
        t.owner,
        reason="今日来电名单分配",
        selection={"pool": True, "territory_ids": [t.territory["id"]]},
        targets=[{"membership_id": a.membership_id}, {"membership_id": b.membership_id}],
        mode="capacity",
    )
    assert body["kind"] == "dispatch" and body["preview"]["customers"] == 4
    r = await client.post(f"/api/v1/customers/{leads[0]['id']}/claim", headers=claimer.headers)
    assert r.status_code == 200, r.text

    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert [c["customer_id"] for c in problem["changed"]] == [leads[0]["id"]]
    assert problem["handover"]["status"] == "draft" and problem["handover"]["preview"]["customers"] == 3
    now = await owners(admin_db, [c["id"] for c in leads])
    assert now == {leads[0]["id"]: claimer.membership_id, **{c["id"]: None for c in leads[1:]}}
    assert not [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if e["cause"] == "assign"]

    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    now = await owners(admin_db, [c["id"] for c in leads[1:]])
    assert set(now.values()) == {a.membership_id, b.membership_id}
    entries = [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if e["cause"] == "assign"]
    assert len(entries) == 3 and {str(e["plan_id"]) for e in entries} == {body["id"]}


async def test_two_concurrent_executions_exactly_one_happens(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, a = t.reps
    made = await owned(client, t, leaving, "ABCDAB")
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": a.membership_id}],
        mode="single",
    )
    url = f"/api/v1/handovers/{body['id']}/execute"
    responses = await asyncio.gather(*(client.post(url, headers=t.owner.headers) for _ in range(2)))
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 1}
    entries = [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if e["cause"] == "handover"]
    assert len(entries) == len(made)
    assert set((await owners(admin_db, [c["id"] for c in made])).values()) == {a.membership_id}
