"""Territory realignment (区域调整) through plan → preview → execute: moving a subtree, merging and
splitting territories, the owner rules (keep / reassign / release), who may do it, a stale plan, a
cycle, and two executions at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from tests.factories import assign, customer, territory
from tests.helpers import Member, signup
from tests.integration.customers.pool.support import ledger_rows, pool_customer, quick_members
from tests.integration.handover.support import Team, db_rows, db_value, deal, owners, team


async def realign(client: Any, who: Member, expect: int = 201, **body: Any) -> dict[str, Any]:
    body.setdefault("reason", "区域调整")
    r = await client.post("/api/v1/realignments", json=body, headers=who.headers)
    assert r.status_code == expect, r.text
    return r.json()  # type: ignore[no-any-return]


async def execute(client: Any, who: Member, plan_id: str, expect: int = 200) -> dict[str, Any]:
    r = await client.post(f"/api/v1/handovers/{plan_id}/execute", headers=who.headers)
    assert r.status_code == expect, r.text
    return r.json()  # type: ignore[no-any-return]


async def tree(admin_db: str, tenant_id: str) -> dict[str, tuple[str | None, str]]:
    """id → (parent id, path) of every territory of the tenant."""
    rows = await db_rows(
        admin_db, "SELECT id, parent_id, path FROM territories WHERE tenant = $1::uuid", tenant_id
    )
    return {str(r["id"]): (str(r["parent_id"]) if r["parent_id"] else None, r["path"]) for r in rows}


async def territories_of(admin_db: str, ids: list[str]) -> dict[str, str]:
    rows = await db_rows(admin_db, "SELECT id, territory_id FROM customers WHERE id = ANY($1::uuid[])", ids)
    return {str(r["id"]): str(r["territory_id"]) for r in rows}


async def world(client: Any, admin_db: str) -> tuple[Team, dict[str, Any], dict[str, Any], list[Member]]:
    """苏州市 (reps r0, r1) with 吴中区 below it; 南京市 beside it with its own rep."""
    t = await team(client, admin_db, reps=2)
    sub = await territory(client, t.owner, "吴中区", parent=t.territory["id"])
    other = await territory(client, t.owner, "南京市")
    nanjing_reps = await quick_members(client, admin_db, t.owner, 2)
    for m in nanjing_reps:
        await assign(client, t.owner, other["id"], m, "rep")
    return t, sub, other, nanjing_reps


async def test_move_subtree_keep_lists_conflicts_then_reassign_moves_owners(client, admin_db, mailbox):
    t, sub, other, (nj1, nj2) = await world(client, admin_db)
    r0, r1 = t.reps
    mine = [
        await customer(client, t.owner, sub["id"], grade=g, owner_membership_id=r0.membership_id)
        for g in "AB"
    ]
    stays = await customer(client, t.owner, sub["id"], owner_membership_id=r1.membership_id)
    await db_value(  # a 南京市 rep already owns one in 吴中区: after the move they work it, so they keep it
        admin_db,
        "UPDATE customers SET owner_membership_id = $2::uuid WHERE id = $1::uuid RETURNING 1",
        stays["id"],
        nj1.membership_id,
    )
    lead = await pool_customer(client, t.owner, sub["id"])
    deal_id = await deal(admin_db, t, mine[0]["id"], r0, "800.00")

    kept = await realign(
        client,
        t.owner,
        operation="move",
        territory_id=sub["id"],
        new_parent_id=other["id"],
        owner_rule="keep",
    )
    assert kept["kind"] == "realign" and kept["status"] == "draft"
    view = kept["realignment"]
    assert view["operation"] == "move" and view["territories_moved"] == 1 and view["conflicts"] == 2
    [impact] = view["targets"]
    assert (impact["territory_id"], impact["customers"], impact["kept"], impact["conflicts"]) == (
        sub["id"],
        4,
        2,
        2,
    )
    assert impact["deals"] == 1
    assert {b["customer_id"] for b in kept["preview"]["blocked"]} == {c["id"] for c in mine}
    assert {b["code"] for b in kept["preview"]["blocked"]} == {"owner_not_member"}
    before = await tree(admin_db, t.owner.tenant_id)
    r = await client.post(f"/api/v1/handovers/{kept['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 409, r.text
    assert await tree(admin_db, t.owner.tenant_id) == before  # nothing half-done

    body = await realign(
        client,
        t.owner,
        operation="move",
        territory_id=sub["id"],
        new_parent_id=other["id"],
        owner_rule="reassign",
        reason="吴中区划归南京市",
    )
    p = body["preview"]
    assert p["customers"] == 2 and p["deals"] == 1 and p["blocked_count"] == 0
    # 吴中区 has no reps of its own: those of its new parent 南京市 get them, one each by capacity
    receivers = {x["membership_id"] for x in p["receivers"]}
    assert receivers == {nj1.membership_id, nj2.membership_id}
    assert body["realignment"]["targets"][0]["reassigned"] == 2
    done = await execute(client, t.owner, body["id"])
    assert done["status"] == "executed"

    after = await tree(admin_db, t.owner.tenant_id)
    assert after[sub["id"]][0] == other["id"]
    assert after[sub["id"]][1] == after[other["id"]][1] + sub["id"].replace("-", "") + "/"
    got = await owners(admin_db, [c["id"] for c in mine] + [stays["id"], lead["id"]])
    assert {got[c["id"]] for c in mine} == receivers
    assert got[stays["id"]] == nj1.membership_id and got[lead["id"]] is None
    assert set((await territories_of(admin_db, [c["id"] for c in mine])).values()) == {sub["id"]}
    deal_owner = await db_value(
        admin_db, "SELECT owner_membership_id::text FROM deals WHERE id = $1::uuid", deal_id
    )
    assert deal_owner == got[mine[0]["id"]]
    entries = [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if e["plan_id"] is not None]
    assert len(entries) == 2  # owner changes only: the kept owner and the pool lead write nothing
    assert {(e["cause"], str(e["plan_id"]), e["reason"]) for e in entries} == {
        ("handover", body["id"], "吴中区划归南京市")
    }
    assert {str(e["from_membership_id"]) for e in entries} == {r0.membership_id}
    audit = await db_rows(
        admin_db,
        "SELECT actor::text, reason FROM audit_log WHERE action = 'territory.realigned' AND subject_id = $1",
        sub["id"],
    )
    assert [(a["actor"], a["reason"]) for a in audit] == [(t.owner.user_id, "吴中区划归南京市")]
    r = await client.post(f"/api/v1/handovers/{body['id']}/undo", headers=t.owner.headers)
    assert r.status_code == 409


async def test_merge_moves_customers_children_and_members_and_deletes_the_merged(client, admin_db):
    t = await team(client, admin_db, reps=1)
    a = await territory(client, t.owner, "姑苏区", parent=t.territory["id"])
    b = await territory(client, t.owner, "平江区", parent=t.territory["id"])
    child = await territory(client, t.owner, "平江街道", parent=b["id"])
    rb, rc = await quick_members(client, admin_db, t.owner, 2)
    await assign(client, t.owner, b["id"], rb, "rep")
    await assign(client, t.owner, child["id"], rc, "rep")
    in_b = await customer(client, t.owner, b["id"], owner_membership_id=rb.membership_id)
    lead = await pool_customer(client, t.owner, b["id"])
    in_child = await customer(client, t.owner, child["id"], owner_membership_id=rc.membership_id)

    body = await realign(client, t.owner, operation="merge", territory_id=b["id"], into_id=a["id"])
    view = body["realignment"]
    assert (view["territories_moved"], view["members_moved"], view["conflicts"]) == (1, 1, 0)
    by_target = {x["territory_id"]: x for x in view["targets"]}
    assert by_target[a["id"]]["customers"] == 2 and by_target[a["id"]]["kept"] == 2
    assert by_target[child["id"]]["customers"] == 1
    assert body["preview"]["customers"] == 0  # nobody changes owner
    await execute(client, t.owner, body["id"])

    after = await tree(admin_db, t.owner.tenant_id)
    assert b["id"] not in after
    assert after[child["id"]] == (a["id"], after[a["id"]][1] + child["id"].replace("-", "") + "/")
    assert await territories_of(admin_db, [in_b["id"], lead["id"], in_child["id"]]) == {
        in_b["id"]: a["id"],
        lead["id"]: a["id"],
        in_child["id"]: child["id"],
    }
    got = await owners(admin_db, [in_b["id"], lead["id"], in_child["id"]])
    assert got == {in_b["id"]: rb.membership_id, lead["id"]: None, in_child["id"]: rc.membership_id}
    members = await db_rows(
        admin_db,
        "SELECT membership_id::text, role FROM territory_members WHERE territory_id = $1::uuid",
        a["id"],
    )
    assert {(m["membership_id"], m["role"]) for m in members} == {(rb.membership_id, "rep")}
    assert not [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if str(e["plan_id"]) == body["id"]]


async def test_split_to_a_new_sibling_releases_and_by_ids_to_an_existing_one_reassigns(client, admin_db):
    t = await team(client, admin_db, reps=1)
    [owner_rep] = t.reps
    sub = await territory(client, t.owner, "吴中区", parent=t.territory["id"])
    west = await territory(client, t.owner, "相城区", parent=t.territory["id"])
    sub_rep, west_rep, new_rep = await quick_members(client, admin_db, t.owner, 3)
    await assign(client, t.owner, sub["id"], sub_rep, "rep")
    await assign(client, t.owner, west["id"], west_rep, "rep")
    grade_a = [
        await customer(client, t.owner, sub["id"], grade="A", owner_membership_id=sub_rep.membership_id)
        for _ in range(2)
    ]
    of_parent_rep = await customer(
        client, t.owner, sub["id"], grade="A", owner_membership_id=owner_rep.membership_id
    )
    rest = await customer(client, t.owner, sub["id"], grade="C", owner_membership_id=sub_rep.membership_id)

    body = await realign(
        client,
        t.owner,
        operation="split",
        territory_id=sub["id"],
        grades=["A"],
        new_territory={"name": "吴中东区", "reps": [new_rep.membership_id]},
        owner_rule="release",
    )
    new_id = body["realignment"]["target_id"]
    [impact] = body["realignment"]["targets"]
    # sub_rep does not work the new sibling → released; the parent territory's rep still does → kept
    assert (impact["name"], impact["customers"], impact["released"], impact["kept"]) == ("吴中东区", 3, 2, 1)
    assert body["preview"]["to_pool"] == 2
    await execute(client, t.owner, body["id"])
    row = await db_rows(admin_db, "SELECT parent_id::text, name FROM territories WHERE id = $1::uuid", new_id)
    assert [(r["parent_id"], r["name"]) for r in row] == [(t.territory["id"], "吴中东区")]
    assert (
        await db_value(
            admin_db,
            "SELECT membership_id::text FROM territory_members WHERE territory_id = $1::uuid",
            new_id,
        )
        == new_rep.membership_id
    )
    ids = [c["id"] for c in (*grade_a, of_parent_rep, rest)]
    assert await territories_of(admin_db, ids) == {**{i: new_id for i in ids[:3]}, rest["id"]: sub["id"]}
    assert await owners(admin_db, ids) == {
        grade_a[0]["id"]: None,
        grade_a[1]["id"]: None,
        of_parent_rep["id"]: owner_rep.membership_id,
        rest["id"]: sub_rep.membership_id,
    }
    releases = [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if str(e["plan_id"]) == body["id"]]
    assert sorted(str(e["customer_id"]) for e in releases) == sorted(c["id"] for c in grade_a)

    # by explicit ids into an existing sibling, reassigned to its rep; an id from elsewhere is blocked
    body = await realign(
        client,
        t.owner,
        operation="split",
        territory_id=sub["id"],
        customer_ids=[rest["id"], grade_a[0]["id"]],
        into_id=west["id"],
        owner_rule="reassign",
    )
    assert [(b["customer_id"], b["code"]) for b in body["preview"]["blocked"]] == [
        (grade_a[0]["id"], "not_in_territory")
    ]
    await execute(client, t.owner, body["id"], expect=409)
    body = await realign(
        client,
        t.owner,
        operation="split",
        territory_id=sub["id"],
        customer_ids=[rest["id"]],
        into_id=west["id"],
        owner_rule="reassign",
    )
    assert [x["membership_id"] for x in body["preview"]["receivers"]] == [west_rep.membership_id]
    await execute(client, t.owner, body["id"])
    assert await owners(admin_db, [rest["id"]]) == {rest["id"]: west_rep.membership_id}
    assert await territories_of(admin_db, [rest["id"]]) == {rest["id"]: west["id"]}


async def test_only_a_manager_of_every_affected_subtree_may_realign(client, admin_db):
    t, sub, other, _ = await world(client, admin_db)
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, t.territory["id"], manager, "manager")
    await customer(client, t.owner, sub["id"], owner_membership_id=t.reps[0].membership_id)
    body = await realign(
        client, manager, expect=403, operation="move", territory_id=sub["id"], new_parent_id=other["id"]
    )
    assert body["type"] == "/problems/forbidden"
    await realign(client, t.reps[0], expect=403, operation="move", territory_id=sub["id"], new_parent_id=None)
    await realign(client, manager, expect=403, operation="merge", territory_id=sub["id"], into_id=other["id"])
    # inside their own subtree they may: split 吴中区 into a new sibling under 苏州市
    body = await realign(
        client,
        manager,
        operation="split",
        territory_id=sub["id"],
        grades=["B"],
        new_territory={"name": "吴中新区"},
        owner_rule="release",
    )
    await execute(client, manager, body["id"])
    # another tenant's territory is unknown
    stranger = await signup(client)
    await realign(client, stranger, expect=404, operation="move", territory_id=sub["id"], new_parent_id=None)
    assert (
        await db_value(
            admin_db, "SELECT count(*) FROM handover_plans WHERE tenant = $1::uuid", stranger.tenant_id
        )
        == 0
    )


async def test_moving_under_its_own_descendant_or_merging_into_it_is_422(client, admin_db):
    t, sub, _, _ = await world(client, admin_db)
    body = await realign(
        client, t.owner, expect=422, operation="move", territory_id=t.territory["id"], new_parent_id=sub["id"]
    )
    assert body["errors"][0]["field"] == "new_parent_id"
    body = await realign(
        client, t.owner, expect=422, operation="merge", territory_id=t.territory["id"], into_id=sub["id"]
    )
    assert body["errors"][0]["field"] == "into_id"
    await realign(
        client,
        t.owner,
        expect=422,
        operation="split",
        territory_id=sub["id"],
        into_id=sub["id"],
        grades=["A"],
    )
    await realign(client, t.owner, expect=422, operation="move", territory_id=sub["id"], reason="  ")
    assert (
        await db_value(
            admin_db, "SELECT count(*) FROM handover_plans WHERE tenant = $1::uuid", t.owner.tenant_id
        )
        == 0
    )


async def test_stale_realignment_is_409_with_a_fresh_preview_and_runs_once(client, admin_db):
    t, sub, other, _ = await world(client, admin_db)
    r0, r1 = t.reps
    made = [
        await customer(client, t.owner, sub["id"], owner_membership_id=r0.membership_id) for _ in range(3)
    ]
    body = await realign(
        client,
        t.owner,
        operation="move",
        territory_id=sub["id"],
        new_parent_id=other["id"],
        owner_rule="release",
    )
    assert body["preview"]["to_pool"] == 3
    # r1 takes one over in between (a claim-like owner change)
    r = await client.patch(
        f"/api/v1/customers/{made[0]['id']}",
        json={"owner_membership_id": r1.membership_id},
        headers=t.owner.headers,
    )
    if r.status_code >= 400:  # owner changes may be refused by PATCH; change it as a claim would
        await db_value(
            admin_db,
            "UPDATE customers SET owner_membership_id = $2::uuid, updated_at = now()"
            " WHERE id = $1::uuid RETURNING 1",
            made[0]["id"],
            r1.membership_id,
        )
    before = await tree(admin_db, t.owner.tenant_id)
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert [c["customer_id"] for c in problem["changed"]] == [made[0]["id"]]
    assert problem["handover"]["status"] == "draft" and problem["handover"]["realignment"]["targets"]
    assert await tree(admin_db, t.owner.tenant_id) == before
    assert (await owners(admin_db, [made[1]["id"]]))[made[1]["id"]] == r0.membership_id

    url = f"/api/v1/handovers/{body['id']}/execute"
    responses = await asyncio.gather(*(client.post(url, headers=t.owner.headers) for _ in range(2)))
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 1}
    assert (await tree(admin_db, t.owner.tenant_id))[sub["id"]][0] == other["id"]
    assert set((await owners(admin_db, [c["id"] for c in made])).values()) == {None}
    entries = [e for e in await ledger_rows(admin_db, t.owner.tenant_id) if str(e["plan_id"]) == body["id"]]
    assert len(entries) == 3


async def test_a_tree_change_since_planning_makes_the_realignment_stale(client, admin_db):
    t = await team(client, admin_db, reps=1)
    a = await territory(client, t.owner, "姑苏区", parent=t.territory["id"])
    b = await territory(client, t.owner, "平江区", parent=t.territory["id"])
    child = await territory(client, t.owner, "平江街道", parent=b["id"])
    made = await customer(client, t.owner, b["id"], owner_membership_id=t.reps[0].membership_id)
    body = await realign(client, t.owner, operation="merge", territory_id=b["id"], into_id=a["id"])
    other = await territory(client, t.owner, "南京市")
    r = await client.post(
        f"/api/v1/territories/{a['id']}/move", json={"new_parent_id": other["id"]}, headers=t.owner.headers
    )
    assert r.status_code == 200, r.text

    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 409, r.text
    assert r.json()["handover"]["status"] == "draft"
    assert b["id"] in await tree(admin_db, t.owner.tenant_id)
    # 苏州市's rep no longer works 姑苏区 (now under 南京市): under keep that is a conflict now
    assert r.json()["handover"]["realignment"]["conflicts"] == 1
    await execute(client, t.owner, body["id"], expect=409)
    await client.post(
        f"/api/v1/territories/{a['id']}/move",
        json={"new_parent_id": t.territory["id"]},
        headers=t.owner.headers,
    )
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 409  # stale again (moved back): planned afresh, now without conflicts
    assert r.json()["handover"]["realignment"]["conflicts"] == 0
    await execute(client, t.owner, body["id"])
    after = await tree(admin_db, t.owner.tenant_id)
    assert b["id"] not in after and after[child["id"]][0] == a["id"]
    assert await territories_of(admin_db, [made["id"]]) == {made["id"]: a["id"]}


async def _target(client: Any, who: Member, territory_id: str, metric: str, value: str, **extra: Any) -> Any:
    body = {
        "metric": metric,
        "scope_type": "territory",
        "territory_id": territory_id,
        "period": "year",
        "period_start": "2026-01-01",
        "value": value,
        **extra,
    }
    r = await client.post("/api/v1/targets", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_merge_folds_the_merged_territorys_targets_into_the_target(client, admin_db):
    t = await team(client, admin_db, reps=1)
    a = await territory(client, t.owner, "姑苏区", parent=t.territory["id"])
    b = await territory(client, t.owner, "平江区", parent=t.territory["id"])
    await _target(client, t.owner, a["id"], "amount", "100000")
    await _target(client, t.owner, b["id"], "amount", "60000")
    await _target(client, t.owner, b["id"], "new_customers", "20")
    body = await realign(client, t.owner, operation="merge", territory_id=b["id"], into_id=a["id"])
    await execute(client, t.owner, body["id"])
    rows = await db_rows(
        admin_db,
        "SELECT territory_id::text, metric, value::text FROM targets WHERE tenant = $1::uuid ORDER BY metric",
        t.owner.tenant_id,
    )
    assert [(r["territory_id"], r["metric"], r["value"]) for r in rows] == [
        (a["id"], "amount", "160000.00"),
        (a["id"], "new_customers", "20.00"),
    ]


async def test_a_merge_of_targets_in_different_currencies_is_refused_and_nothing_moves(client, admin_db):
    t = await team(client, admin_db, reps=1)
    a = await territory(client, t.owner, "姑苏区", parent=t.territory["id"])
    b = await territory(client, t.owner, "平江区", parent=t.territory["id"])
    await _target(client, t.owner, a["id"], "amount", "100000")
    await _target(client, t.owner, b["id"], "amount", "9000", currency="USD")
    body = await realign(client, t.owner, operation="merge", territory_id=b["id"], into_id=a["id"])
    r = await client.post(f"/api/v1/handovers/{body['id']}/execute", headers=t.owner.headers)
    assert r.status_code == 409 and "different currencies" in r.json()["detail"], r.text
    assert b["id"] in await tree(admin_db, t.owner.tenant_id)
    assert (
        await db_value(admin_db, "SELECT count(*) FROM targets WHERE territory_id = $1::uuid", b["id"]) == 1
    )
