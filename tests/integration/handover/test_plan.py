"""Drafting a handover: selection, distribution (round-robin, by capacity), the preview's numbers."""

from __future__ import annotations

from decimal import Decimal

from tests.helpers import connect
from tests.integration.customers.pool.support import ledger_rows, put_rules
from tests.integration.handover.support import db_rows, deal, owned, plan, team


async def test_round_robin_preview_splits_evenly_with_deals_and_pipeline(client, admin_db):
    t = await team(client, admin_db, reps=3)
    leaving, a, b = t.reps
    made = await owned(client, t, leaving, "AABBCD")
    await deal(admin_db, t, made[0]["id"], leaving, "1000.50")
    await deal(admin_db, t, made[1]["id"], leaving, "2000.00")
    await deal(admin_db, t, made[1]["id"], leaving, "99.00", stage="won")  # closed: not carried

    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": a.membership_id}, {"membership_id": b.membership_id}],
        mode="round_robin",
    )
    p = body["preview"]
    assert body["status"] == "draft" and body["kind"] == "handover"
    assert p["customers"] == 6 and p["blocked_count"] == 0
    by = {r["membership_id"]: r for r in p["receivers"]}
    assert {by[a.membership_id]["customers"], by[b.membership_id]["customers"]} == {3}
    # interleaved: the two A customers go to different receivers
    assert by[a.membership_id]["by_grade"]["A"] == 1 and by[b.membership_id]["by_grade"]["A"] == 1
    assert p["deals"] == 2 and Decimal(p["pipeline_amount"]) == Decimal("3000.50")
    assert sum(Decimal(r["pipeline_amount"]) for r in p["receivers"]) == Decimal("3000.50")
    items = await db_rows(admin_db, "SELECT * FROM handover_items WHERE plan_id = $1::uuid", body["id"])
    assert len(items) == 6 and all(str(i["from_membership_id"]) == leaving.membership_id for i in items)
    # a draft moves nothing
    assert all(r["cause"] != "handover" for r in await ledger_rows(admin_db, t.owner.tenant_id))


async def test_capacity_respects_room_and_reports_who_exceeds_a_cap(client, admin_db):
    t = await team(client, admin_db, reps=4)
    leaving, full, empty, gone = t.reps
    await put_rules(client, t.owner, owned_cap=4)
    await owned(client, t, full, "BBB")  # room 1
    made = await owned(client, t, leaving, "ABCDBC")
    closed = await owned(client, t, leaving, "D")
    async with connect(admin_db) as conn:
        await conn.execute("UPDATE customers SET status = 'closed' WHERE id = $1::uuid", closed[0]["id"])
        await conn.execute("UPDATE memberships SET active = false WHERE id = $1::uuid", gone.membership_id)

    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[
            {"membership_id": full.membership_id},
            {"membership_id": empty.membership_id},
            {"membership_id": gone.membership_id},
        ],
        mode="capacity",
    )
    p = body["preview"]
    by = {r["membership_id"]: r for r in p["receivers"]}
    # 6 movable: room 1 + 4, one left over goes by weight to the first receiver, who exceeds the cap
    assert by[full.membership_id]["customers"] == 2 and by[empty.membership_id]["customers"] == 4
    assert by[full.membership_id]["owned_after"] == 5 and by[full.membership_id]["exceeds_cap"]
    assert not by[empty.membership_id]["exceeds_cap"] and by[empty.membership_id]["owned_after"] == 4
    assert p["over_cap"] == [full.membership_id]
    assert gone.membership_id not in by
    assert [s["membership_id"] for s in p["skipped_targets"]] == [gone.membership_id]
    assert p["blocked_count"] == 1
    assert p["blocked"][0]["customer_id"] == closed[0]["id"] and p["blocked"][0]["code"] == "closed"
    assert len(made) == 6


async def test_weights_split_by_capacity(client, admin_db):
    t = await team(client, admin_db, reps=3)
    leaving, a, b = t.reps
    await owned(client, t, leaving, "ABCDABCD")
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id], "grades": ["A", "B", "C", "D"]},
        targets=[
            {"membership_id": a.membership_id, "weight": 3},
            {"membership_id": b.membership_id, "weight": 1},
        ],
        mode="capacity",
    )
    by = {r["membership_id"]: r["customers"] for r in body["preview"]["receivers"]}
    assert by == {a.membership_id: 6, b.membership_id: 2}


async def test_reason_is_mandatory_and_selection_needed(client, admin_db):
    t = await team(client, admin_db, reps=2)
    target = [{"membership_id": t.reps[1].membership_id}]
    sel = {"owner_ids": [t.reps[0].membership_id]}
    r = await client.post(
        "/api/v1/handovers", json={"selection": sel, "targets": target}, headers=t.owner.headers
    )
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/handovers",
        json={"reason": "  ", "selection": sel, "targets": target},
        headers=t.owner.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await client.post(
        "/api/v1/handovers", json={"reason": "x", "selection": {}, "targets": target}, headers=t.owner.headers
    )
    assert r.status_code == 422
