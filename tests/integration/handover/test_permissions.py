"""Who may hand over what: reps never, managers inside their subtree and their own plans, another
tenant's plan id is 404 on every route."""

from __future__ import annotations

from tests.factories import assign, customer, territory
from tests.helpers import signup
from tests.integration.customers.pool.support import quick_members
from tests.integration.handover.support import owned, owners, plan, team


async def test_rep_cannot_hand_over(client, admin_db):
    t = await team(client, admin_db, reps=2)
    rep, other = t.reps
    body = await plan(
        client,
        rep,
        expect=403,
        selection={"owner_ids": [rep.membership_id]},
        targets=[{"membership_id": other.membership_id}],
    )
    assert body["type"] == "/problems/forbidden"
    made = await plan(
        client,
        t.owner,
        selection={"owner_ids": [rep.membership_id]},
        targets=[{"membership_id": other.membership_id}],
    )
    for path in ("", "/execute", "/undo"):
        call = client.get if not path else client.post
        r = await call(f"/api/v1/handovers/{made['id']}{path}", headers=rep.headers)
        assert r.status_code == 403, (path, r.text)


async def test_manager_hands_over_only_inside_their_subtree(client, admin_db):
    t = await team(client, admin_db, reps=2)
    leaving, receiver = t.reps
    sub = await territory(client, t.owner, "吴中区", parent=t.territory["id"])
    other = await territory(client, t.owner, "南京市")
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, sub["id"], manager, "manager")
    await assign(client, t.owner, sub["id"], receiver, "rep")
    inside = await customer(client, t.owner, sub["id"], owner_membership_id=leaving.membership_id)
    outside = await customer(client, t.owner, other["id"], owner_membership_id=leaving.membership_id)

    body = await plan(
        client,
        manager,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": receiver.membership_id}],
        mode="single",
    )
    p = body["preview"]
    assert p["customers"] == 1
    assert [(b["customer_id"], b["code"]) for b in p["blocked"]] == [(outside["id"], "not_managed")]
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=manager.headers)
    assert r.status_code == 200, r.text
    assert await owners(admin_db, [inside["id"], outside["id"]]) == {
        inside["id"]: receiver.membership_id,
        outside["id"]: leaving.membership_id,
    }
    # the owner's plan reaching outside the manager's subtree is not the manager's to see
    theirs = await plan(
        client,
        t.owner,
        selection={"owner_ids": [leaving.membership_id]},
        targets=[{"membership_id": receiver.membership_id}],
    )
    r = await client.get(f"/api/v1/handovers/{theirs['id']}", headers=manager.headers)
    assert r.status_code == 404
    # one whose customers all lie inside it is
    inner = await plan(
        client,
        t.owner,
        selection={"owner_ids": [receiver.membership_id]},
        targets=[{"membership_id": leaving.membership_id}],
    )
    r = await client.get(f"/api/v1/handovers/{inner['id']}", headers=manager.headers)
    assert r.status_code == 200 and r.json()["preview"]["customers"] == 1


async def test_another_tenants_plan_is_404_on_every_route(client, admin_db):
    t = await team(client, admin_db, reps=2)
    await owned(client, t, t.reps[0], "AB")
    body = await plan(
        client,
        t.owner,
        selection={"owner_ids": [t.reps[0].membership_id]},
        targets=[{"membership_id": t.reps[1].membership_id}],
    )
    stranger = await signup(client)
    r = await client.get(f"/api/v1/handovers/{body['id']}", headers=stranger.headers)
    assert r.status_code == 404
    for path in ("/execute", "/undo"):
        r = await client.post(f"/api/v1/handovers/{body['id']}{path}", headers=stranger.headers)
        assert r.status_code == 404, (path, r.text)
    r = await client.get(f"/api/v1/handovers/{body['id']}", headers=t.owner.headers)
    assert r.json()["status"] == "draft"
    # and naming another tenant's customers or members selects nothing of theirs
    mine = await plan(
        client,
        stranger,
        selection={"owner_ids": [t.reps[0].membership_id]},
        targets=[{"membership_id": t.reps[1].membership_id}],
    )
    assert (
        mine["preview"]["customers"] == 0
        and mine["preview"]["skipped_targets"][0]["membership_id"] == t.reps[1].membership_id
    )
