"""The duplicate guard (撞单): one company once per tenant, the second entry told who owns it, and a
conflict item for the managers of its territory."""

from __future__ import annotations

from app.sales.field.briefings import brief_tenant
from tenants.scope import TenantScope
from tests.factories import assign, customer, db_rows, db_value, staff, territory
from tests.helpers import mails_to, run_jobs, signup

TAX_ID = "91310000MA1FL0XX1X"


async def _team(client, mailbox, app):
    owner = await signup(client)
    rep1 = await staff(client, owner, mailbox, app, role="rep")
    rep2 = await staff(client, owner, mailbox, app, role="rep")
    manager = await staff(client, owner, mailbox, app, role="manager")
    other_manager = await staff(client, owner, mailbox, app, role="manager")
    sh = await territory(client, owner, "上海市", level="province")
    pd = await territory(client, owner, "浦东新区", parent=sh["id"], level="county")
    js = await territory(client, owner, "江苏省", level="province")
    await assign(client, owner, pd["id"], rep1, "rep")
    await assign(client, owner, js["id"], rep2, "rep")
    await assign(client, owner, sh["id"], manager, "manager")
    await assign(client, owner, js["id"], other_manager, "manager")
    return owner, rep1, rep2, manager, other_manager, pd, js


async def test_same_tax_id_is_409_naming_owner_and_territory_with_a_conflict_for_the_manager(
    client, mailbox, app, admin_db
):
    owner, rep1, rep2, manager, other_manager, pd, js = await _team(client, mailbox, app)
    first = await customer(client, rep1, pd["id"], full_name="上海青禾软件有限公司", tax_id=TAX_ID)
    attempt = {
        "full_name": "青禾软件（上海）",
        "territory_id": js["id"],
        "tax_id": "9131 0000-ma1fl0xx1x",
        "phone": "021-555",
    }
    r = await client.post("/api/v1/customers", json=attempt, headers=rep2.headers)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["existing"]["owner_name"] == "新成员" and body["existing"]["territory_name"] == "浦东新区"
    assert "新成员" in body["detail"] and "浦东新区" in body["detail"]
    assert "id" not in body["existing"]  # the rep may not see it, so its id is not given away
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 1

    conflicts = (await client.get("/api/v1/customer-conflicts", headers=manager.headers)).json()["items"]
    assert len(conflicts) == 1
    item = conflicts[0]
    assert (item["customer_id"], item["territory_id"], item["attempted_by"]) == (
        first["id"],
        pd["id"],
        rep2.membership_id,
    )
    assert item["attempted_data"]["full_name"] == "青禾软件（上海）" and item["status"] == "open"
    assert item["territory_name"] == "浦东新区" and item["customer_name"] == "上海青禾软件有限公司"
    # not the business of the manager of another territory, nor of reps; admins see all
    assert (await client.get("/api/v1/customer-conflicts", headers=other_manager.headers)).json()[
        "items"
    ] == []
    assert (await client.get("/api/v1/customer-conflicts", headers=rep2.headers)).status_code == 403
    assert len((await client.get("/api/v1/customer-conflicts", headers=owner.headers)).json()["items"]) == 1

    r = await client.post(
        f"/api/v1/customer-conflicts/{item['id']}/resolve",
        json={"resolution": "归原业务员"},
        headers=other_manager.headers,
    )
    assert r.status_code == 404
    r = await client.post(
        f"/api/v1/customer-conflicts/{item['id']}/resolve",
        json={"resolution": "归原业务员"},
        headers=manager.headers,
    )
    assert r.status_code == 200 and (r.json()["status"], r.json()["resolution"]) == ("resolved", "归原业务员")
    assert (await client.get("/api/v1/customer-conflicts", headers=manager.headers)).json()["items"] == []
    resolved = await client.get(
        "/api/v1/customer-conflicts", params={"status": "resolved"}, headers=manager.headers
    )
    assert [x["id"] for x in resolved.json()["items"]] == [item["id"]]
    rows = await db_rows(admin_db, "SELECT resolved_by FROM customer_conflicts WHERE id = $1", item["id"])
    assert str(rows[0]["resolved_by"]) == manager.membership_id


async def test_name_variants_collide(client, mailbox, app, admin_db):
    owner, rep1, rep2, manager, _, pd, js = await _team(client, mailbox, app)
    await customer(client, rep1, pd["id"], full_name="上海青禾软件有限公司")
    for variant in (
        "上海青禾软件有限责任公司",
        "上海青禾软件（有限公司）",
        "上海青禾软件（有限公司）",
        " 上海 青禾软件 股份有限公司 ",
    ):
        r = await client.post(
            "/api/v1/customers", json={"full_name": variant, "territory_id": js["id"]}, headers=rep2.headers
        )
        assert r.status_code == 409, (variant, r.text)
        assert r.json()["existing"]["territory_name"] == "浦东新区"
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 1
    conflicts = (await client.get("/api/v1/customer-conflicts", headers=manager.headers)).json()["items"]
    assert len(conflicts) == 4
    # a different company with a similar name is fine
    other = await customer(client, rep2, js["id"], full_name="上海青禾科技有限公司")
    assert other["full_name"] == "上海青禾科技有限公司"


async def test_a_name_entered_without_tax_id_collides_with_the_same_name_with_one(client, mailbox, app):
    _, rep1, rep2, _, _, pd, js = await _team(client, mailbox, app)
    await customer(client, rep1, pd["id"], full_name="苏州松鹤机械有限公司")
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "苏州松鹤机械有限责任公司", "territory_id": js["id"], "tax_id": TAX_ID},
        headers=rep2.headers,
    )
    assert r.status_code == 409
    # ... while two registered companies with distinct tax ids may share a name key
    await customer(client, rep1, pd["id"], full_name="无锡同名有限公司", tax_id=TAX_ID)
    made = await customer(
        client, rep2, js["id"], full_name="无锡同名股份有限公司", tax_id="91320200MA1X2Y3B4W"
    )
    assert made["tax_id"] == "91320200MA1X2Y3B4W"
    # and then a name-only entry of it cannot tell which one: refused
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "无锡同名公司", "territory_id": js["id"]},
        headers=rep2.headers,
    )
    assert r.status_code == 409


async def test_pool_customer_and_own_duplicate(client, mailbox, app, admin_db):
    owner, rep1, _, manager, _, pd, _ = await _team(client, mailbox, app)
    await customer(client, owner, pd["id"], full_name="浦东公海公司", owner_membership_id=None)
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "浦东公海有限公司", "territory_id": pd["id"]},
        headers=rep1.headers,
    )
    assert r.status_code == 409
    assert r.json()["existing"]["owner_name"] is None and "浦东新区" in r.json()["detail"]
    assert r.json()["conflict_id"] is not None
    # entering one's own customer twice is a 409 but no conflict for the manager
    await customer(client, rep1, pd["id"], full_name="自己的公司")
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "自己的有限公司", "territory_id": pd["id"]},
        headers=rep1.headers,
    )
    assert r.status_code == 409 and r.json()["conflict_id"] is None
    conflicts = (await client.get("/api/v1/customer-conflicts", headers=manager.headers)).json()["items"]
    assert [c["customer_name"] for c in conflicts] == ["浦东公海公司"]


async def test_renaming_into_an_existing_company_is_409(client):
    owner = await signup(client)
    t = await territory(client, owner, "上海市")
    await customer(client, owner, t["id"], full_name="上海甲公司")
    second = await customer(client, owner, t["id"], full_name="上海乙公司")
    r = await client.patch(
        f"/api/v1/customers/{second['id']}", json={"full_name": "上海甲有限公司"}, headers=owner.headers
    )
    assert r.status_code == 409
    assert (await client.get(f"/api/v1/customers/{second['id']}", headers=owner.headers)).json()[
        "full_name"
    ] == "上海乙公司"
    r = await client.patch(
        f"/api/v1/customers/{second['id']}", json={"full_name": "上海乙有限公司"}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["full_name"] == "上海乙有限公司"


async def test_the_guard_is_per_tenant(client):
    owner_a, owner_b = await signup(client), await signup(client)
    ta, tb = await territory(client, owner_a, "上海市"), await territory(client, owner_b, "上海市")
    await customer(client, owner_a, ta["id"], full_name="上海青禾软件有限公司", tax_id=TAX_ID)
    made = await customer(client, owner_b, tb["id"], full_name="上海青禾软件有限公司", tax_id=TAX_ID)
    assert made["tax_id"] == TAX_ID


async def _told(client, who, kind="customer_conflict"):
    r = await client.get("/api/v1/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == kind]


async def test_a_conflict_tells_the_managers_at_once_and_in_their_briefing(client, mailbox, app):
    owner, rep1, rep2, manager, other_manager, pd, js = await _team(client, mailbox, app)
    await customer(client, rep1, pd["id"], full_name="上海青禾软件有限公司", tax_id=TAX_ID)
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "青禾软件", "territory_id": js["id"], "tax_id": TAX_ID},
        headers=rep2.headers,
    )
    assert r.status_code == 409
    conflict_id = r.json()["conflict_id"]
    # in-app at once, to the manager of 上海市 (above 浦东新区): the customer's territory, not the rep's
    [notice] = await _told(client, manager)
    assert notice["subject_type"] == "customer_conflict" and notice["subject_id"] == conflict_id
    assert (
        notice["message"]
        == "新成员 tried to enter 上海青禾软件有限公司, already a customer of 新成员 in 浦东新区"
    )
    assert notice["read"] is False
    for nobody in (other_manager, rep2, rep1, owner):  # another territory's manager, the reps, the owner
        assert await _told(client, nobody) == []

    # a territory without a manager: the owner (and admins) are told; a pool customer says so
    bj = await territory(client, owner, "北京市", level="province")
    await assign(client, owner, bj["id"], rep1, "rep")
    await customer(client, owner, bj["id"], full_name="北京公海科技有限公司", owner_membership_id=None)
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "北京公海科技", "territory_id": bj["id"]},
        headers=rep1.headers,
    )
    assert r.status_code == 409
    [pooled] = await _told(client, owner, "customer_conflict_pool")
    assert pooled["message"] == "新成员 tried to enter 北京公海科技有限公司, already in the pool of 北京市"
    assert await _told(client, manager, "customer_conflict_pool") == []

    # and in the daily briefing of those who resolve them, while open
    await brief_tenant(await TenantScope.for_job(owner.tenant_id))
    await run_jobs(app)
    [briefing] = [m for m in mails_to(mailbox, manager.email) if "briefing" in m["Subject"]]
    text = briefing.get_body(preferencelist=("plain",)).get_content()
    assert "Duplicate entries (撞单) to resolve: 1" in text
    assert "- 上海青禾软件有限公司, entered again by 新成员" in text
    [briefing] = [m for m in mails_to(mailbox, owner.email) if "briefing" in m["Subject"]]
    assert (
        "Duplicate entries (撞单) to resolve: 2" in briefing.get_body(preferencelist=("plain",)).get_content()
    )
    assert not [m for m in mails_to(mailbox, other_manager.email) if "撞单" in str(m.get_body())]


async def test_the_duplicate_check_names_the_owner_and_enters_nothing(client, admin_db):
    owner = await signup(client)
    t = await territory(client, owner, "上海市")
    await customer(client, owner, t["id"], full_name="上海青禾软件有限公司", tax_id="91310000MA1FL0XX1X")
    check = "/api/v1/customers/duplicate-check"

    r = await client.get(check, params={"full_name": "上海青禾软件有限责任公司"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["match"] and r.json()["yours"], r.text
    assert r.json()["full_name"] == "上海青禾软件有限公司" and r.json()["territory_name"] == "上海市"
    r = await client.get(check, params={"tax_id": "91310000ma1fl0xx1x"}, headers=owner.headers)
    assert r.json()["match"] is True  # the code alone, normalised
    for params in ({"full_name": "北京别的公司"}, {"tax_id": "123"}, {"full_name": "  "}, {}):
        r = await client.get(check, params=params, headers=owner.headers)
        assert r.status_code == 200 and r.json()["match"] is False, (params, r.text)
    conflicts = "SELECT count(*) FROM customer_conflicts WHERE tenant = $1::uuid"
    assert await db_value(admin_db, conflicts, owner.tenant_id) == 0
    other = await signup(client)  # another tenant's company is no match
    r = await client.get(check, params={"full_name": "上海青禾软件有限公司"}, headers=other.headers)
    assert r.json()["match"] is False
