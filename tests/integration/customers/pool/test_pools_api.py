"""/api/v1/pools: the tenant's own pools with a scope, admins and rules; who sees and claims from
them; what a pool's admins do (assign, move, export); release reasons and cap overrides."""

from __future__ import annotations

from tests.factories import assign, customer, db_value, territory
from tests.integration.customers.pool.support import ledger_rows, pool_customer, quick_members, team


async def _new_pool(client, owner, **body):
    r = await client.post(
        "/api/v1/pools", json={"name": "大客户", "kind": "key_accounts", **body}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _into(admin_db, customer_id, pool_id):
    await db_value(
        admin_db,
        "UPDATE customers SET pool_id = $2::uuid WHERE id = $1::uuid RETURNING 1",
        customer_id,
        pool_id,
    )


async def test_owner_adds_a_pool_with_a_scope_admins_and_rules(client, admin_db):
    t = await team(client, admin_db, reps=1)
    (ka,) = await quick_members(client, admin_db, t.owner, 1)
    for body, field in (
        ({"name": " "}, "name"),
        ({"kind": "territory"}, "kind"),
        ({"scope_membership_ids": [t.owner.tenant_id]}, "scope_membership_ids"),
        ({"rules": {"owned_cap": 0}}, "owned_cap"),
        ({"rules": {"grades": {"E": {}}}}, "grades"),
    ):
        r = await client.post(
            "/api/v1/pools", json={"name": "大客户", "kind": "key_accounts", **body}, headers=t.owner.headers
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)
    r = await client.post("/api/v1/pools", json={"name": "x"}, headers=t.reps[0].headers)
    assert r.status_code == 403

    made = await _new_pool(
        client,
        t.owner,
        scope_membership_ids=[ka.membership_id],
        admin_membership_ids=[ka.membership_id],
        rules={"owned_cap": 1},
    )
    assert made["scope_membership_ids"] == [ka.membership_id] and made["rules"]["owned_cap"] == 1
    r = await client.post("/api/v1/pools", json={"name": "大客户"}, headers=t.owner.headers)
    assert r.status_code == 409

    # who sees it: the scoped member (and admin), not the territory's rep
    names = lambda r: [p["name"] for p in r.json()]  # noqa: E731
    assert "大客户" in names(await client.get("/api/v1/pools", headers=ka.headers))
    assert "大客户" not in names(await client.get("/api/v1/pools", headers=t.reps[0].headers))
    assert t.territory["name"] in names(await client.get("/api/v1/pools", headers=t.reps[0].headers))
    r = await client.get(f"/api/v1/pools/{made['id']}", headers=t.reps[0].headers)
    assert r.status_code == 404
    r = await client.get("/api/v1/pool", params={"pool_id": made["id"]}, headers=t.reps[0].headers)
    assert r.status_code == 404

    # its rules apply to claims from it: an owned cap of 1
    first, second = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(2)]
    for c in (first, second):
        await _into(admin_db, c["id"], made["id"])
    listed = (await client.get("/api/v1/pool", params={"pool_id": made["id"]}, headers=ka.headers)).json()
    assert {i["id"] for i in listed["items"]} == {first["id"], second["id"]}
    assert (
        await client.post(f"/api/v1/customers/{first['id']}/claim", headers=ka.headers)
    ).status_code == 200
    r = await client.post(f"/api/v1/customers/{second['id']}/claim", headers=ka.headers)
    assert r.status_code == 409 and r.json()["rule"] == "owned_cap" and r.json()["params"]["cap"] == 1
    r = await client.post(f"/api/v1/customers/{second['id']}/claim", headers=t.reps[0].headers)
    assert r.status_code == 404  # outside its scope


async def test_a_territory_in_the_scope_lets_in_the_reps_below_it(client, admin_db):
    t = await team(client, admin_db, reps=0, name="江苏省")
    city = await territory(client, t.owner, "南京市", parent=t.territory["id"])
    (rep,) = await quick_members(client, admin_db, t.owner, 1)
    await assign(client, t.owner, city["id"], rep, "rep")
    pool = await _new_pool(client, t.owner, scope_territory_ids=[t.territory["id"]])
    c = await pool_customer(client, t.owner, t.territory["id"])
    await _into(admin_db, c["id"], pool["id"])
    r = await client.post(f"/api/v1/customers/{c['id']}/claim", headers=rep.headers)
    assert r.status_code == 200, r.text
    (entry,) = await ledger_rows(admin_db, t.owner.tenant_id, c["id"])
    assert str(entry["pool_id"]) == pool["id"]


async def test_pool_admins_assign_move_and_export(client, admin_db):
    t = await team(client, admin_db, reps=2)
    boss, rep = t.reps
    other = await territory(client, t.owner, "无锡市")
    pool = await _new_pool(client, t.owner, admin_membership_ids=[boss.membership_id])
    lost = await _new_pool(client, t.owner, name="流失客户", kind="lost")
    made = [
        await pool_customer(client, t.owner, t.territory["id"], full_name=f"苏州公海{i}有限公司")
        for i in range(3)
    ]
    for c in made:
        await _into(admin_db, c["id"], pool["id"])
    base = f"/api/v1/pools/{pool['id']}"

    body = {"customer_ids": [made[0]["id"]], "membership_id": rep.membership_id}
    assert (
        await client.post(base + "/assign", json=body, headers=rep.headers)
    ).status_code == 404  # not its pool
    r = await client.post(
        base + "/assign", json={**body, "membership_id": t.owner.tenant_id}, headers=boss.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "membership_id"
    r = await client.post(base + "/assign", json=body, headers=boss.headers)
    assert r.status_code == 200 and r.json() == {"moved": 1}
    (entry,) = await ledger_rows(admin_db, t.owner.tenant_id, made[0]["id"])
    assert (entry["cause"], str(entry["to_membership_id"]), str(entry["pool_id"])) == (
        "assign",
        rep.membership_id,
        pool["id"],
    )
    r = await client.post(base + "/assign", json=body, headers=boss.headers)
    assert r.status_code == 409 and r.json()["rule"] == "not_in_pool"  # owned now

    r = await client.post(
        base + "/move",
        json={"customer_ids": [made[1]["id"]], "to_pool_id": other["id"]},
        headers=boss.headers,
    )
    assert (
        r.status_code == 422 and r.json()["errors"][0]["field"] == "to_pool_id"
    )  # a territory id, not a pool's
    other_pool = await db_value(
        admin_db, "SELECT id::text FROM pools WHERE territory_id = $1::uuid", other["id"]
    )
    r = await client.post(
        base + "/move", json={"customer_ids": [made[1]["id"]], "to_pool_id": other_pool}, headers=boss.headers
    )
    assert r.status_code == 422  # another territory's pool
    r = await client.post(
        base + "/move", json={"customer_ids": [made[1]["id"]], "to_pool_id": lost["id"]}, headers=boss.headers
    )
    assert r.status_code == 200 and r.json() == {"moved": 1}
    assert (
        await db_value(admin_db, "SELECT pool_id::text FROM customers WHERE id = $1::uuid", made[1]["id"])
        == lost["id"]
    )

    r = await client.get(base + "/export", headers=rep.headers)
    assert r.status_code == 404
    r = await client.get(base + "/export", params={"format": "csv"}, headers=boss.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert (
        made[2]["full_name"] in text and made[0]["full_name"] not in text and made[1]["full_name"] not in text
    )

    # deleting the tenant's pool puts its customers back in their territories' pools
    r = await client.delete(f"/api/v1/pools/{lost['id']}", headers=t.owner.headers)
    assert r.status_code == 200 and r.json() == {"moved": 1}
    back = await db_value(
        admin_db,
        "SELECT p.territory_id::text FROM customers c JOIN pools p ON p.id = c.pool_id WHERE c.id = $1::uuid",
        made[1]["id"],
    )
    assert back == t.territory["id"]
    territory_pool = await db_value(
        admin_db, "SELECT id::text FROM pools WHERE territory_id = $1::uuid", t.territory["id"]
    )
    assert (
        await client.delete(f"/api/v1/pools/{territory_pool}", headers=t.owner.headers)
    ).status_code == 409


async def test_release_reasons_are_the_tenants_list(client, admin_db):
    t = await team(client, admin_db, reps=1, locale="zh-CN")
    rep = t.reps[0]
    built_in = (await client.get("/api/v1/pools/release-reasons", headers=t.owner.headers)).json()
    assert built_in["customized"] is False and {"code": "other", "label": "其他"} in built_in["items"]
    r = await client.put(
        "/api/v1/pools/release-reasons", json={"labels": ["a", "a"]}, headers=t.owner.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "labels.1"
    r = await client.put("/api/v1/pools/release-reasons", json={"labels": ["x"]}, headers=rep.headers)
    assert r.status_code == 403
    r = await client.put(
        "/api/v1/pools/release-reasons", json={"labels": ["价格太高", "转给同事"]}, headers=t.owner.headers
    )
    assert r.status_code == 200 and [i["label"] for i in r.json()["items"]] == ["价格太高", "转给同事"]
    code = r.json()["items"][0]["code"]

    c = await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id)
    url = f"/api/v1/customers/{c['id']}/release"
    r = await client.post(url, json={"reason": "other"}, headers=rep.headers)  # the built-in list is replaced
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await client.post(url, json={"reason": code}, headers=rep.headers)
    assert r.status_code == 200
    assert (await ledger_rows(admin_db, t.owner.tenant_id, c["id"]))[-1]["reason"] == "价格太高"


async def test_cap_overrides_are_set_per_member_and_per_territory(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    r = await client.put("/api/v1/pool-caps", json={"owned_cap": 1}, headers=t.owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "territory_id"
    r = await client.put(
        "/api/v1/pool-caps",
        json={"membership_id": rep.membership_id, "owned_cap": 0},
        headers=t.owner.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "owned_cap"
    r = await client.put(
        "/api/v1/pool-caps", json={"membership_id": rep.membership_id, "owned_cap": 1}, headers=rep.headers
    )
    assert r.status_code == 403
    r = await client.put(
        "/api/v1/pool-caps",
        json={"membership_id": rep.membership_id, "owned_cap": 1},
        headers=t.owner.headers,
    )
    assert r.status_code == 200 and r.json()["owned_cap"] == 1
    listed = (await client.get("/api/v1/pool-caps", headers=t.owner.headers)).json()
    assert [(c["membership_id"], c["owned_cap"]) for c in listed] == [(rep.membership_id, 1)]
    a, b = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(2)]
    assert (await client.post(f"/api/v1/customers/{a['id']}/claim", headers=rep.headers)).status_code == 200
    r = await client.post(f"/api/v1/customers/{b['id']}/claim", headers=rep.headers)
    assert r.status_code == 409 and r.json()["params"]["cap"] == 1
    r = await client.put(
        "/api/v1/pool-caps", json={"membership_id": rep.membership_id}, headers=t.owner.headers
    )
    assert r.status_code == 200
    assert (await client.get("/api/v1/pool-caps", headers=t.owner.headers)).json() == []
    assert (await client.post(f"/api/v1/customers/{b['id']}/claim", headers=rep.headers)).status_code == 200
