from __future__ import annotations

from tests.factories import assign, customer, db_rows, staff, territory
from tests.helpers import signup


async def test_tree_crud_and_listing(client, admin_db):
    owner = await signup(client)
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    xw = await territory(client, owner, "玄武区", parent=nj["id"], level="county")
    zj = await territory(client, owner, "浙江省", level="province")
    assert (nj["parent_id"], nj["depth"], nj["ancestor_ids"]) == (js["id"], 2, [js["id"]])
    assert xw["ancestor_ids"] == [js["id"], nj["id"]] and xw["depth"] == 3

    whole = (await client.get("/api/v1/territories", headers=owner.headers)).json()["items"]
    assert {t["id"] for t in whole} == {js["id"], nj["id"], xw["id"], zj["id"]}
    order = [t["id"] for t in whole]
    assert order.index(js["id"]) < order.index(nj["id"]) < order.index(xw["id"])  # depth first

    r = await client.get("/api/v1/territories", params={"parent_id": js["id"]}, headers=owner.headers)
    assert [t["id"] for t in r.json()["items"]] == [nj["id"]]
    r = await client.get("/api/v1/territories", params={"top_level": "true"}, headers=owner.headers)
    assert {t["id"] for t in r.json()["items"]} == {js["id"], zj["id"]}
    r = await client.get("/api/v1/territories", params={"under": nj["id"]}, headers=owner.headers)
    assert {t["id"] for t in r.json()["items"]} == {nj["id"], xw["id"]}
    page1 = (await client.get("/api/v1/territories", params={"limit": 2}, headers=owner.headers)).json()
    page2 = (
        await client.get(
            "/api/v1/territories", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=owner.headers
        )
    ).json()
    assert [t["id"] for t in page1["items"] + page2["items"]] == order and page2["next_cursor"] is None

    r = await client.patch(
        f"/api/v1/territories/{xw['id']}", json={"name": "玄武", "level": "township"}, headers=owner.headers
    )
    assert r.status_code == 200 and (r.json()["name"], r.json()["level"]) == ("玄武", "township")
    assert (await client.get(f"/api/v1/territories/{xw['id']}", headers=owner.headers)).json()[
        "name"
    ] == "玄武"

    r = await client.delete(f"/api/v1/territories/{zj['id']}", headers=owner.headers)
    assert r.status_code == 204
    assert (await client.get(f"/api/v1/territories/{zj['id']}", headers=owner.headers)).status_code == 404
    actions = {
        r["action"]
        for r in await db_rows(admin_db, "SELECT action FROM audit_log WHERE tenant = $1", owner.tenant_id)
    }
    assert {"territory.created", "territory.updated", "territory.deleted"} <= actions


async def test_bad_territory_input(client):
    owner = await signup(client)
    js = await territory(client, owner, "江苏省", level="province")
    cases = [
        ({"name": "x" * 10_000}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "火星", "level": "planet"}, "level"),
        ({"name": "南京", "parent_id": "00000000-0000-0000-0000-000000000001"}, "parent_id"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/territories", json=body, headers=owner.headers)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]]
    await territory(client, owner, "南京市", parent=js["id"])
    r = await client.post(
        "/api/v1/territories", json={"name": "南京市", "parent_id": js["id"]}, headers=owner.headers
    )
    assert r.status_code == 409
    assert len((await client.get("/api/v1/territories", headers=owner.headers)).json()["items"]) == 2


async def test_manager_manages_the_whole_subtree_and_nothing_else(client, mailbox, app):
    owner = await signup(client)
    manager = await staff(client, owner, mailbox, app, role="manager")
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    zj = await territory(client, owner, "浙江省", level="province")
    hz = await territory(client, owner, "杭州市", parent=zj["id"], level="city")
    await assign(client, owner, js["id"], manager, "manager")

    r = await client.post(
        "/api/v1/territories",
        json={"name": "玄武区", "level": "county", "parent_id": nj["id"]},
        headers=manager.headers,
    )
    assert r.status_code == 201, r.text
    county = r.json()
    r = await client.patch(f"/api/v1/territories/{nj['id']}", json={"name": "南京"}, headers=manager.headers)
    assert r.status_code == 200 and r.json()["name"] == "南京"

    # outside the subtree: visible (the tree is shared reference data) but not changeable
    assert (await client.get(f"/api/v1/territories/{hz['id']}", headers=manager.headers)).status_code == 200
    r = await client.post(
        "/api/v1/territories", json={"name": "西湖区", "parent_id": hz["id"]}, headers=manager.headers
    )
    assert r.status_code == 403
    r = await client.patch(f"/api/v1/territories/{hz['id']}", json={"name": "杭州"}, headers=manager.headers)
    assert r.status_code == 403
    assert (await client.get(f"/api/v1/territories/{hz['id']}", headers=owner.headers)).json()[
        "name"
    ] == "杭州市"
    # top level is for owner/admin only, including deleting the territory they manage
    r = await client.post("/api/v1/territories", json={"name": "安徽省"}, headers=manager.headers)
    assert r.status_code == 403
    assert (
        await client.delete(f"/api/v1/territories/{js['id']}", headers=manager.headers)
    ).status_code == 403
    assert (
        await client.delete(f"/api/v1/territories/{hz['id']}", headers=manager.headers)
    ).status_code == 403
    # inside: deleting below the managed root is fine
    assert (
        await client.delete(f"/api/v1/territories/{county['id']}", headers=manager.headers)
    ).status_code == 204
    names = {
        t["name"] for t in (await client.get("/api/v1/territories", headers=owner.headers)).json()["items"]
    }
    assert names == {"江苏省", "南京", "浙江省", "杭州市"}


async def test_rep_cannot_create_or_change_territories(client, mailbox, app):
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    js = await territory(client, owner, "江苏省", level="province")
    await assign(client, owner, js["id"], rep, "rep")
    r = await client.post(
        "/api/v1/territories", json={"name": "南京市", "parent_id": js["id"]}, headers=rep.headers
    )
    assert r.status_code == 403
    r = await client.patch(f"/api/v1/territories/{js['id']}", json={"name": "苏"}, headers=rep.headers)
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/territories/{js['id']}/members",
        json={"membership_id": rep.membership_id, "role": "rep"},
        headers=rep.headers,
    )
    assert r.status_code == 403
    r = await client.get("/api/v1/territories", headers=rep.headers)
    assert r.status_code == 200 and [t["name"] for t in r.json()["items"]] == ["江苏省"]


async def test_territory_members(client, mailbox, app):
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    manager = await staff(client, owner, mailbox, app, role="manager")
    js = await territory(client, owner, "江苏省", level="province")
    await assign(client, owner, js["id"], rep, "rep")
    await assign(client, owner, js["id"], manager, "rep")
    await assign(client, owner, js["id"], manager, "manager")  # adding again changes the role
    listed = (await client.get(f"/api/v1/territories/{js['id']}/members", headers=rep.headers)).json()
    assert {(m["membership_id"], m["role"]) for m in listed} == {
        (rep.membership_id, "rep"),
        (manager.membership_id, "manager"),
    }
    assert all(m["name"] == "新成员" for m in listed)

    url = f"/api/v1/territories/{js['id']}/members"
    r = await client.post(
        url, json={"membership_id": rep.membership_id, "role": "manager"}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"
    r = await client.post(
        url,
        json={"membership_id": "00000000-0000-0000-0000-000000000001", "role": "rep"},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "membership_id"
    r = await client.post(
        url, json={"membership_id": rep.membership_id, "role": "boss"}, headers=owner.headers
    )
    assert r.status_code == 422

    assert (await client.delete(f"{url}/{rep.membership_id}", headers=owner.headers)).status_code == 204
    assert (await client.delete(f"{url}/{rep.membership_id}", headers=owner.headers)).status_code == 404
    listed = (await client.get(url, headers=owner.headers)).json()
    assert [m["membership_id"] for m in listed] == [manager.membership_id]


async def test_move_preview_then_apply(client, mailbox, app):
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    xw = await territory(client, owner, "玄武区", parent=nj["id"], level="county")
    ah = await territory(client, owner, "安徽省", level="province")
    await assign(client, owner, nj["id"], rep, "rep")
    for where in (nj, nj, xw):
        await customer(client, owner, where["id"], owner_membership_id=rep.membership_id)
    await customer(client, owner, js["id"])  # stays behind: not in the moved subtree

    url = f"/api/v1/territories/{nj['id']}/move"
    r = await client.post(url, json={"new_parent_id": ah["id"], "preview": True}, headers=owner.headers)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview == {
        "territory_id": nj["id"],
        "new_parent_id": ah["id"],
        "applied": False,
        "territories": 2,
        "customers": 3,
        "reps": 1,
        "open_deals": 0,
    }
    assert (await client.get(f"/api/v1/territories/{nj['id']}", headers=owner.headers)).json()[
        "parent_id"
    ] == js["id"]

    r = await client.post(url, json={"new_parent_id": ah["id"]}, headers=owner.headers)
    assert r.status_code == 200 and r.json() == {**preview, "applied": True}
    moved = (await client.get(f"/api/v1/territories/{xw['id']}", headers=owner.headers)).json()
    assert moved["ancestor_ids"] == [ah["id"], nj["id"]] and moved["depth"] == 3
    under_ah = (
        await client.get("/api/v1/territories", params={"under": ah["id"]}, headers=owner.headers)
    ).json()
    assert {t["id"] for t in under_ah["items"]} == {ah["id"], nj["id"], xw["id"]}
    under_js = (
        await client.get("/api/v1/territories", params={"under": js["id"]}, headers=owner.headers)
    ).json()
    assert [t["id"] for t in under_js["items"]] == [js["id"]]
    r = await client.get("/api/v1/customers", params={"territory_id": ah["id"]}, headers=owner.headers)
    assert len(r.json()["items"]) == 3

    # to the top level (owner/admin only)
    r = await client.post(url, json={"new_parent_id": None}, headers=owner.headers)
    assert r.status_code == 200
    assert (await client.get(f"/api/v1/territories/{xw['id']}", headers=owner.headers)).json()["depth"] == 2


async def test_move_refuses_cycles_and_changes_nothing(client):
    owner = await signup(client)
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    xw = await territory(client, owner, "玄武区", parent=nj["id"], level="county")
    before = (await client.get("/api/v1/territories", headers=owner.headers)).json()
    for target in (xw["id"], nj["id"], js["id"]):
        r = await client.post(
            f"/api/v1/territories/{js['id']}/move", json={"new_parent_id": target}, headers=owner.headers
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "new_parent_id"
    r = await client.post(
        f"/api/v1/territories/{js['id']}/move",
        json={"new_parent_id": target, "preview": True},
        headers=owner.headers,
    )
    assert r.status_code == 422
    assert (await client.get("/api/v1/territories", headers=owner.headers)).json() == before


async def test_manager_moves_only_inside_their_subtree(client, mailbox, app):
    owner = await signup(client)
    manager = await staff(client, owner, mailbox, app, role="manager")
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    sz = await territory(client, owner, "苏州市", parent=js["id"], level="city")
    zj = await territory(client, owner, "浙江省", level="province")
    await assign(client, owner, js["id"], manager, "manager")
    r = await client.post(
        f"/api/v1/territories/{sz['id']}/move", json={"new_parent_id": nj["id"]}, headers=manager.headers
    )
    assert r.status_code == 200 and r.json()["applied"] is True
    r = await client.post(
        f"/api/v1/territories/{nj['id']}/move", json={"new_parent_id": zj["id"]}, headers=manager.headers
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/territories/{js['id']}/move", json={"new_parent_id": zj["id"]}, headers=manager.headers
    )
    assert r.status_code == 403
    assert (await client.get(f"/api/v1/territories/{nj['id']}", headers=owner.headers)).json()[
        "parent_id"
    ] == js["id"]


async def test_delete_is_refused_while_the_subtree_has_customers(client, admin_db):
    owner = await signup(client)
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    made = [await customer(client, owner, nj["id"]) for _ in range(2)]
    r = await client.delete(f"/api/v1/territories/{js['id']}", headers=owner.headers)
    assert r.status_code == 409
    assert r.json()["customers"] == 2 and "2" in r.json()["detail"]
    assert (await client.get(f"/api/v1/territories/{nj['id']}", headers=owner.headers)).status_code == 200
    for c in made:
        assert (await client.delete(f"/api/v1/customers/{c['id']}", headers=owner.headers)).status_code == 204
    assert (await client.delete(f"/api/v1/territories/{js['id']}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"/api/v1/territories/{nj['id']}", headers=owner.headers)).status_code == 404
    left = await db_rows(admin_db, "SELECT id FROM territories WHERE tenant = $1", owner.tenant_id)
    assert left == []
