"""Territories and realignment pages over HTTP: the tree with member and customer counts (a manager sees
their subtree, the owner all of it), add / rename / move with the impact preview first, members added
and removed in place; a realignment merge previewed (per territory, owner rule) and executed through
the same plan, a stale plan answered with the fresh preview; bad input inline with nothing changed; a
rep gets the services' 403; another tenant's ids are 404."""

from __future__ import annotations

from tests.factories import assign, customer, db_value, territory
from tests.integration.customers.pool.support import quick_members, team
from tests.integration.web.support import HTMX, htmx, sign_in


async def _world(client, admin_db):
    """苏州市 (2 reps) with 吴中区 below it, managed by a manager; 南京市 beside it, not theirs."""
    t = await team(client, admin_db, reps=2)
    sub = await territory(client, t.owner, "吴中区", parent=t.territory["id"])
    nanjing = await territory(client, t.owner, "南京市")
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, t.territory["id"], manager, "manager")
    for _ in range(2):
        await customer(client, t.owner, sub["id"], owner_membership_id=t.reps[0].membership_id)
    await customer(client, t.owner, t.territory["id"], owner_membership_id=t.reps[1].membership_id)
    return t, sub, nanjing, manager


async def test_the_tree_with_its_counts_fits_the_role(client, admin_db):
    t, _sub, _nanjing, manager = await _world(client, admin_db)
    await sign_in(client, t.owner)
    page = await client.get("/territories")
    assert page.status_code == 200 and "南京市" in page.text and "吴中区" in page.text
    assert '<a href="/territories" aria-current="page">Territories</a>' in page.text
    # 苏州市 itself: its manager and two reps, one customer; with 吴中区 three customers
    assert "1 managers · 2 reps · 1 customers" in page.text
    assert "with the territories below: 3 members, 3 customers" in page.text
    assert "0 managers · 0 reps · 2 customers" in page.text  # 吴中区

    await sign_in(client, manager)
    page = await client.get("/territories")
    assert page.status_code == 200 and "吴中区" in page.text and "南京市" not in page.text
    assert '<option value="">Top level</option>' not in page.text  # only owners and admins add there

    await sign_in(client, t.reps[0])
    r = await client.get("/territories")
    assert r.status_code == 403 and "<h1>Not allowed</h1>" in r.text
    assert 'href="/territories"' not in (await client.get("/")).text


async def test_add_rename_and_move_with_the_preview_first(client, admin_db):
    t, sub, _nanjing, manager = await _world(client, admin_db)
    csrf = await sign_in(client, manager)
    h = htmx(csrf)
    r = await client.post(
        "/territories", data={"name": "相城区", "level": "county", "parent_id": t.territory["id"]}, headers=h
    )
    assert (
        r.status_code == 200
        and "Territory 相城区 added." in r.text
        and 'id="tree" hx-swap-oob="true"' in r.text
    )
    new_id = await db_value(
        admin_db,
        "SELECT id::text FROM territories WHERE name = '相城区' AND tenant = $1::uuid",
        t.owner.tenant_id,
    )
    # bad input: an empty name, a sibling of the same name, the top level for a manager — inline, nothing made
    for data, status in (
        ({"name": " ", "parent_id": t.territory["id"]}, 422),
        ({"name": "相城区", "parent_id": t.territory["id"]}, 409),
        ({"name": "无锡市", "parent_id": ""}, 403),
        ({"name": "无锡市", "level": "planet", "parent_id": t.territory["id"]}, 422),
    ):
        r = await client.post("/territories", data=data, headers=h)
        assert r.status_code == status and 'class="error"' in r.text and "<html" not in r.text, (data, r.text)
    count = await db_value(
        admin_db, "SELECT count(*) FROM territories WHERE tenant = $1::uuid", t.owner.tenant_id
    )
    assert count == 4

    r = await client.patch(
        f"/territories/{new_id}", data={"name": "相城区（新）", "level": "county"}, headers=h
    )
    assert r.status_code == 200 and "Territory 相城区（新） saved." in r.text

    panel = await client.get(f"/territories/{sub['id']}/panel", params={"show": "move"}, headers=HTMX)
    assert panel.status_code == 200 and f'value="{new_id}"' in panel.text
    assert f'<option value="{sub["id"]}"' not in panel.text  # never under itself
    r = await client.post(
        f"/territories/{sub['id']}/move", data={"new_parent_id": new_id, "preview": "1"}, headers=h
    )
    assert r.status_code == 200 and "Moving 吴中区 under 相城区（新） touches:" in r.text
    assert "<dt>Customers</dt><dd>2</dd>" in r.text
    parent = await db_value(
        admin_db, "SELECT parent_id::text FROM territories WHERE id = $1::uuid", sub["id"]
    )
    assert parent == t.territory["id"]  # a preview changes nothing
    r = await client.post(
        f"/territories/{sub['id']}/move", data={"new_parent_id": sub["id"], "preview": "1"}, headers=h
    )
    assert r.status_code == 422 and "cannot be moved under itself" in r.text
    r = await client.post(f"/territories/{sub['id']}/move", data={"new_parent_id": new_id}, headers=h)
    assert r.status_code == 200 and "Territory 吴中区 moved." in r.text
    parent = await db_value(
        admin_db, "SELECT parent_id::text FROM territories WHERE id = $1::uuid", sub["id"]
    )
    assert parent == new_id


async def test_members_added_and_removed_in_place(client, admin_db):
    t, sub, _nanjing, manager = await _world(client, admin_db)
    [newcomer] = await quick_members(client, admin_db, t.owner, 1)
    csrf = await sign_in(client, manager)
    h = htmx(csrf)
    panel = await client.get(f"/territories/{sub['id']}/panel", params={"show": "members"}, headers=HTMX)
    assert panel.status_code == 200 and f'value="{newcomer.membership_id}"' in panel.text
    r = await client.post(
        f"/territories/{sub['id']}/members",
        data={"membership_id": newcomer.membership_id, "role": "manager"},
        headers=h,
    )
    assert r.status_code == 422 and "manager role or higher" in r.text  # a rep cannot manage: inline
    r = await client.post(
        f"/territories/{sub['id']}/members", data={"membership_id": "", "role": "rep"}, headers=h
    )
    assert r.status_code == 422
    assert not await db_value(
        admin_db, "SELECT count(*) FROM territory_members WHERE territory_id = $1::uuid", sub["id"]
    )
    r = await client.post(
        f"/territories/{sub['id']}/members",
        data={"membership_id": newcomer.membership_id, "role": "rep"},
        headers=h,
    )
    assert (
        r.status_code == 200
        and "Member added." in r.text
        and f'id="counts-{sub["id"]}" hx-swap-oob="true"' in r.text
    )
    assert "0 managers · 1 reps · 2 customers" in r.text
    r = await client.delete(f"/territories/{sub['id']}/members/{newcomer.membership_id}", headers=h)
    assert r.status_code == 200 and "Member removed." in r.text and "0 managers · 0 reps" in r.text
    r = await client.delete(f"/territories/{sub['id']}/members/{newcomer.membership_id}", headers=h)
    assert r.status_code == 404 and "<html" not in r.text


async def test_a_rep_and_another_tenant_get_403_and_404(client, admin_db):
    t, sub, nanjing, _manager = await _world(client, admin_db)
    theirs = await team(client, admin_db, reps=1)
    csrf = await sign_in(client, t.reps[0])
    h = htmx(csrf)
    r = await client.patch(f"/territories/{sub['id']}", data={"name": "改名"}, headers=h)
    assert r.status_code == 403
    r = await client.post(
        f"/territories/{sub['id']}/move", data={"new_parent_id": nanjing["id"], "preview": "1"}, headers=h
    )
    assert r.status_code == 403
    csrf = await sign_in(client, t.owner)
    h = htmx(csrf)
    other = theirs.territory["id"]
    assert (await client.get(f"/territories/{other}/panel")).status_code == 404
    assert (await client.patch(f"/territories/{other}", data={"name": "x"}, headers=h)).status_code == 404
    r = await client.post(f"/territories/{other}/move", data={"new_parent_id": "", "preview": "1"}, headers=h)
    assert r.status_code == 404
    r = await client.post(
        f"/territories/{sub['id']}/move", data={"new_parent_id": other, "preview": "1"}, headers=h
    )
    assert r.status_code == 422  # another tenant's parent: "no territory with this id"
    r = await client.post(
        f"/territories/{other}/members",
        data={"membership_id": t.reps[0].membership_id, "role": "rep"},
        headers=h,
    )
    assert r.status_code == 404
    name = await db_value(admin_db, "SELECT name FROM territories WHERE id = $1::uuid", other)
    assert name == theirs.territory["name"]


async def test_a_realignment_merge_previewed_then_executed(client, admin_db):
    t, sub, nanjing, manager = await _world(client, admin_db)
    mine = await db_value(
        admin_db, "SELECT array_agg(id::text) FROM customers WHERE territory_id = $1::uuid", sub["id"]
    )
    csrf = await sign_in(client, manager)
    page = await client.get("/realignments/new")
    assert (
        page.status_code == 200
        and 'name="operation" value="merge"' in page.text
        and "南京市" not in page.text
    )
    csrf = await sign_in(client, t.owner)
    h = htmx(csrf)
    merge = {
        "operation": "merge",
        "territory_id": sub["id"],
        "into_id": nanjing["id"],
        "reason": "撤销吴中区",
    }
    # bad input inline: no reason, no target, a forged id; nothing drafted
    for data in ({**merge, "reason": " "}, {**merge, "into_id": ""}, {**merge, "territory_id": "x"}):
        r = await client.post("/realignments", data=data, headers=h)
        assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text, data
    assert not await db_value(
        admin_db, "SELECT count(*) FROM handover_plans WHERE tenant = $1::uuid", t.owner.tenant_id
    )

    r = await client.post("/realignments", data={**merge, "owner_rule": "keep"}, headers=h)
    assert (
        r.status_code == 200
        and "<dt>Conflicts</dt><dd>2</dd>" in r.text
        and "Conflicts to resolve first" in r.text
    )
    plan_id = r.text.split('id="plan-', 1)[1].split('"', 1)[0]
    r = await client.post(f"/realignments/{plan_id}/execute", headers=h)
    assert r.status_code == 409 and 'class="error"' in r.text  # blocked: nothing changes
    assert await db_value(admin_db, "SELECT count(*) FROM territories WHERE id = $1::uuid", sub["id"]) == 1

    r = await client.post(
        "/realignments", data={**merge, "owner_rule": "release", "carry_deals": "1"}, headers=h
    )
    assert r.status_code == 200 and '<th scope="row">南京市</th><td>2</td>' in r.text
    assert "<td>0</td><td>2</td><td>0</td>" in r.text  # kept 0, reassigned 0 … released 2
    plan_id = r.text.split('id="plan-', 1)[1].split('"', 1)[0]
    r = await client.post(f"/realignments/{plan_id}/execute", headers=h)
    assert r.status_code == 200 and "Realignment done: 2 customers changed." in r.text
    assert await db_value(admin_db, "SELECT count(*) FROM territories WHERE id = $1::uuid", sub["id"]) == 0
    rows = await db_value(
        admin_db,
        "SELECT count(*) FROM customers WHERE id = ANY($1::uuid[]) AND territory_id = $2::uuid"
        " AND owner_membership_id IS NULL",
        mine,
        nanjing["id"],
    )
    assert rows == 2


async def test_a_stale_realignment_shows_the_fresh_preview(client, admin_db):
    t, sub, nanjing, _manager = await _world(client, admin_db)
    csrf = await sign_in(client, t.owner)
    h = htmx(csrf)
    data = {
        "operation": "merge",
        "territory_id": sub["id"],
        "into_id": nanjing["id"],
        "reason": "调整",
        "owner_rule": "release",
    }
    r = await client.post("/realignments", data=data, headers=h)
    plan_id = r.text.split('id="plan-', 1)[1].split('"', 1)[0]
    late = await customer(client, t.owner, sub["id"], owner_membership_id=t.reps[0].membership_id)
    one = await db_value(
        admin_db,
        "SELECT id::text FROM customers WHERE territory_id = $1::uuid AND id <> $2::uuid LIMIT 1",
        sub["id"],
        late["id"],
    )
    await db_value(admin_db, "UPDATE customers SET updated_at = now() WHERE id = $1::uuid RETURNING 1", one)
    r = await client.post(f"/realignments/{plan_id}/execute", headers=h)
    assert r.status_code == 409 and r.headers["hx-retarget"] == "#preview"
    assert "check the fresh preview" in r.text and '<th scope="row">南京市</th><td>3</td>' in r.text
    r = await client.post(f"/realignments/{plan_id}/execute", headers=h)
    assert r.status_code == 200 and "Realignment done: 3 customers changed." in r.text


async def test_realignment_refused_to_a_rep_and_across_tenants(client, admin_db):
    t, sub, nanjing, manager = await _world(client, admin_db)
    theirs = await team(client, admin_db, reps=1)
    csrf = await sign_in(client, t.reps[0])
    assert (await client.get("/realignments/new")).status_code == 403
    data = {"operation": "merge", "territory_id": sub["id"], "into_id": t.territory["id"], "reason": "x"}
    assert (await client.post("/realignments", data=data, headers=htmx(csrf))).status_code == 403
    csrf = await sign_in(client, manager)  # 南京市 is not theirs
    r = await client.post("/realignments", data={**data, "into_id": nanjing["id"]}, headers=htmx(csrf))
    assert r.status_code == 403
    csrf = await sign_in(client, t.owner)
    r = await client.post(
        "/realignments", data={**data, "territory_id": theirs.territory["id"]}, headers=htmx(csrf)
    )
    assert r.status_code in (404, 422) and "<html" not in r.text
    their_plan = await client.post(
        "/api/v1/realignments",
        json={"operation": "move", "territory_id": theirs.territory["id"], "reason": "x"},
        headers=theirs.owner.headers,
    )
    assert their_plan.status_code == 201, their_plan.text
    r = await client.post(f"/realignments/{their_plan.json()['id']}/execute", headers=htmx(csrf))
    assert r.status_code == 404
