"""Undo within the window, offboarding a member who still owns customers, read access kept."""

from __future__ import annotations

from tests.helpers import connect
from tests.integration.customers.pool.support import ledger_rows
from tests.integration.handover.support import db_value, owned, owners, plan, team


async def _executed(client, t, leaving, receiver, **options):
    made = await owned(client, t, leaving, "ABC")
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
        options=options or {},
    )
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    return made, body


async def test_undo_within_window_moves_everything_back(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    made, body = await _executed(client, t, leaving, receiver)
    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "undone"
    assert set((await owners(admin_db, [c["id"] for c in made])).values()) == {leaving.membership_id}
    back = [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if e["reason"] == "undo: 业务员调岗"]
    assert len(back) == 3 and all(str(e["to_membership_id"]) == leaving.membership_id for e in back)
    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 409


async def test_undo_refused_after_a_change_lists_the_changed_customer(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    made, body = await _executed(client, t, leaving, receiver)
    r = await client.post(
        f"/api/v1/customers/{made[1]['id']}/release",
        json={"reason": "other", "note": "不需要"},
        headers=receiver.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 409, r.text
    assert [c["customer_id"] for c in r.json()["changed"]] == [made[1]["id"]]
    now = await owners(admin_db, [c["id"] for c in made])
    assert now == {
        made[0]["id"]: receiver.membership_id,
        made[1]["id"]: None,
        made[2]["id"]: receiver.membership_id,
    }


async def test_undo_refused_after_the_window(client, admin_db):
    t = await team(client, admin_db, reps=2)
    made, body = await _executed(client, t, *t.reps)
    async with connect(admin_db) as conn:
        await conn.execute(
            "UPDATE handover_plans SET executed_at = executed_at - interval '25 hours' WHERE id = $1::uuid",
            body["id"],
        )
    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 409
    assert set((await owners(admin_db, [c["id"] for c in made])).values()) == {t.reps[1].membership_id}


async def test_offboarding_refused_with_a_draft_then_goes_through(client, admin_db):
    t = await team(client, admin_db, reps=3)
    leaving = t.reps[0]
    made = await owned(client, t, leaving, "ABCD")
    url = f"/api/v1/members/{leaving.membership_id}/deactivate"
    r = await client.post(url, headers=t.owner.headers)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["customers"] == 4 and problem["deals"] == 0
    again = await client.post(url, headers=t.owner.headers)
    assert again.status_code == 409 and again.json()["handover_id"] == problem["handover_id"]

    r = await client.get(problem["handover"], headers=t.owner.headers)
    draft = r.json()
    assert draft["kind"] == "offboarding" and draft["status"] == "draft"
    assert {x["membership_id"] for x in draft["targets"]} == {
        t.reps[1].membership_id,
        t.reps[2].membership_id,
    }
    assert draft["preview"]["customers"] == 4
    r = await client.post(f"{problem['handover']}/execute", headers=t.owner.headers)
    assert r.status_code == 200, r.text

    r = await client.post(url, headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert not await db_value(
        admin_db, "SELECT count(*) FROM customers WHERE owner_membership_id = $1::uuid", leaving.membership_id
    )
    assert leaving.membership_id not in set((await owners(admin_db, [c["id"] for c in made])).values())


async def test_previous_owner_keeps_read_access_only_when_asked(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    kept, _ = await _executed(client, t, leaving, receiver, keep_read_days=7)
    r = await client.get(f"/api/v1/customers/{kept[0]['id']}", headers=leaving.headers)
    assert r.status_code == 200, r.text
    assert r.json()["owner_membership_id"] == receiver.membership_id
    r = await client.get("/api/v1/customers", params={"limit": 200}, headers=leaving.headers)
    assert {c["id"] for c in kept} <= {c["id"] for c in r.json()["items"]}
    gone, _ = await _executed(client, t, leaving, receiver)
    r = await client.get(f"/api/v1/customers/{gone[0]['id']}", headers=leaving.headers)
    assert r.status_code == 404
