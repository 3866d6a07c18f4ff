from __future__ import annotations

from tests.factories import assign, customer, db_rows, db_value, staff, territory
from tests.helpers import signup

FULL = {
    "full_name": "南京紫金山软件有限公司",
    "short_name": "紫金山",
    "tax_id": "91320100MA1X2Y3B4W",
    "address": "南京市玄武区中山路1号",
    "phone": "025-8888 1234",
    "industry": "制造业",
    "size_revenue_band": "1000-5000万",
    "headcount": 120,
    "it_status": "uses_software",
    "current_software": "用友 U8",
    "source": "referral",
    "referrer": "老客户推荐",
    "grade": "A",
    "status": "prospect",
    "next_followup_at": "2030-01-02T03:00:00Z",
}


async def test_customer_crud_and_grade_history(client, admin_db):
    owner = await signup(client)
    nj = await territory(client, owner, "南京市", level="city")
    referrer = await customer(client, owner, nj["id"])
    r = await client.post(
        "/api/v1/customers",
        json={**FULL, "territory_id": nj["id"], "referrer_customer_id": referrer["id"]},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    for key, value in FULL.items():
        if key != "next_followup_at":
            assert made[key] == value, key
    assert made["territory_name"] == "南京市" and made["owner_membership_id"] == owner.membership_id
    assert made["owner_name"] == "Owner 王" and made["referrer_customer_id"] == referrer["id"]
    assert (await client.get(f"/api/v1/customers/{made['id']}", headers=owner.headers)).json() == made

    r = await client.patch(
        f"/api/v1/customers/{made['id']}",
        json={"grade": "C", "grade_reason": "预算推迟到明年", "headcount": 150, "phone": None},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["grade"], r.json()["headcount"], r.json()["phone"]) == ("C", 150, None)
    assert r.json()["full_name"] == FULL["full_name"]  # untouched fields stay
    history = (
        await client.get(f"/api/v1/customers/{made['id']}/grade-history", headers=owner.headers)
    ).json()
    assert [(h["from_grade"], h["to_grade"]) for h in history] == [(None, "A"), ("A", "C")]
    assert history[1]["reason"] == "预算推迟到明年" and history[1]["changed_by_name"] == "Owner 王"

    assert (await client.delete(f"/api/v1/customers/{made['id']}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"/api/v1/customers/{made['id']}", headers=owner.headers)).status_code == 404
    actions = [
        r["action"]
        for r in await db_rows(
            admin_db,
            "SELECT action FROM audit_log WHERE tenant = $1 AND subject_id = $2 ORDER BY id",
            owner.tenant_id,
            made["id"],
        )
    ]
    assert actions == ["customer.created", "customer.updated", "customer.deleted"]


async def test_bad_input_is_422_naming_the_field_and_creates_nothing(client, admin_db):
    owner = await signup(client)
    nj = await territory(client, owner, "南京市", level="city")
    base = {"full_name": "南京好公司有限公司", "territory_id": nj["id"]}
    cases = [
        ({**base, "territory_id": "00000000-0000-0000-0000-000000000001"}, "territory_id"),
        ({**base, "grade": "E"}, "grade"),
        ({**base, "full_name": "名" * 10_000}, "full_name"),
        ({**base, "full_name": " \t "}, "full_name"),
        ({**base, "tax_id": "12345"}, "tax_id"),
        ({**base, "tax_id": "91320100MA1X2Y3B4O"}, "tax_id"),
        ({**base, "headcount": -1}, "headcount"),
        ({**base, "status": "asleep"}, "status"),
        ({**base, "source": "pigeon"}, "source"),
        ({**base, "it_status": "abacus"}, "it_status"),
        ({**base, "owner_membership_id": "00000000-0000-0000-0000-000000000001"}, "owner_membership_id"),
        ({**base, "referrer_customer_id": "00000000-0000-0000-0000-000000000001"}, "referrer_customer_id"),
        ({**base, "next_followup_at": "2030-01-02T03:00:00"}, "next_followup_at"),  # no time zone
    ]
    for body, field in cases:
        r = await client.post("/api/v1/customers", json=body, headers=owner.headers)
        assert r.status_code == 422, (field, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    assert await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", owner.tenant_id) == 0
    made = await customer(client, owner, nj["id"])
    r = await client.patch(f"/api/v1/customers/{made['id']}", json={"grade": "Z"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grade"
    r = await client.patch(
        f"/api/v1/customers/{made['id']}", json={"territory_id": base["full_name"]}, headers=owner.headers
    )
    assert r.status_code == 422
    r = await client.get("/api/v1/customers", params={"grade": "Q"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grade"
    assert (await client.get(f"/api/v1/customers/{made['id']}", headers=owner.headers)).json()["grade"] == "B"


async def test_visibility_by_role(client, mailbox, app):
    owner = await signup(client)
    rep1 = await staff(client, owner, mailbox, app, role="rep")
    rep2 = await staff(client, owner, mailbox, app, role="rep")
    manager = await staff(client, owner, mailbox, app, role="manager")
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    zj = await territory(client, owner, "浙江省", level="province")
    await assign(client, owner, nj["id"], rep1, "rep")
    await assign(client, owner, nj["id"], rep2, "rep")
    await assign(client, owner, js["id"], manager, "manager")
    own1 = await customer(client, rep1, nj["id"])
    pool_nj = await customer(client, rep1, nj["id"], owner_membership_id=None)
    own2 = await customer(client, rep2, nj["id"])
    zj_owned = await customer(client, owner, zj["id"])
    zj_pool = await customer(client, owner, zj["id"], owner_membership_id=None)

    async def visible(who):
        r = await client.get("/api/v1/customers", headers=who.headers)
        assert r.status_code == 200
        return {c["id"] for c in r.json()["items"]}

    assert await visible(rep1) == {own1["id"], pool_nj["id"]}
    assert await visible(manager) == {own1["id"], pool_nj["id"], own2["id"]}
    assert await visible(owner) == {own1["id"], pool_nj["id"], own2["id"], zj_owned["id"], zj_pool["id"]}
    for hidden in (own2, zj_pool):
        assert (
            await client.get(f"/api/v1/customers/{hidden['id']}", headers=rep1.headers)
        ).status_code == 404
    assert (
        await client.get(f"/api/v1/customers/{zj_owned['id']}", headers=manager.headers)
    ).status_code == 404

    # visible is not editable: a pool customer needs claiming first
    r = await client.patch(f"/api/v1/customers/{pool_nj['id']}", json={"grade": "A"}, headers=rep1.headers)
    assert r.status_code == 403
    r = await client.patch(f"/api/v1/customers/{own2['id']}", json={"grade": "A"}, headers=rep1.headers)
    assert r.status_code == 404
    r = await client.patch(f"/api/v1/customers/{own1['id']}", json={"grade": "A"}, headers=rep1.headers)
    assert r.status_code == 200 and r.json()["grade"] == "A"
    r = await client.patch(f"/api/v1/customers/{own2['id']}", json={"status": "won"}, headers=manager.headers)
    assert r.status_code == 200 and r.json()["status"] == "won"
    assert (await client.delete(f"/api/v1/customers/{own1['id']}", headers=rep1.headers)).status_code == 403
    r = await client.patch(
        f"/api/v1/customers/{own1['id']}", json={"territory_id": zj["id"]}, headers=rep1.headers
    )
    assert r.status_code == 403
    assert (await client.get(f"/api/v1/customers/{own1['id']}", headers=rep1.headers)).json()[
        "territory_id"
    ] == nj["id"]

    # entering customers: only in own territories, and only for oneself or the pool
    r = await client.post(
        "/api/v1/customers", json={"full_name": "浙江新公司", "territory_id": zj["id"]}, headers=rep1.headers
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": "南京新公司", "territory_id": nj["id"], "owner_membership_id": rep2.membership_id},
        headers=rep1.headers,
    )
    assert r.status_code == 403
    made = await customer(client, manager, nj["id"], owner_membership_id=rep2.membership_id)
    assert made["owner_membership_id"] == rep2.membership_id
    assert made["id"] in await visible(rep2) and made["id"] not in await visible(rep1)


async def test_list_filters_and_cursor(client, mailbox, app):
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    js = await territory(client, owner, "江苏省", level="province")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="city")
    zj = await territory(client, owner, "浙江省", level="province")
    a = await customer(client, owner, nj["id"], grade="A")
    b = await customer(client, owner, js["id"], grade="B", owner_membership_id=rep.membership_id)
    c = await customer(client, owner, zj["id"], grade="A", owner_membership_id=None, status="lost")

    async def ids(**params):
        r = await client.get("/api/v1/customers", params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert await ids() == [c["id"], b["id"], a["id"]]  # newest first
    assert set(await ids(territory_id=js["id"])) == {a["id"], b["id"]}  # the whole subtree
    assert await ids(territory_id=nj["id"]) == [a["id"]]
    assert await ids(grade="A") == [c["id"], a["id"]]
    assert await ids(status="lost") == [c["id"]]
    assert await ids(owner="none") == [c["id"]]
    assert await ids(owner="me") == [a["id"]]
    assert await ids(owner=rep.membership_id) == [b["id"]]
    assert await ids(grade="A", territory_id=js["id"]) == [a["id"]]
    r = await client.get("/api/v1/customers", params={"owner": "somebody"}, headers=owner.headers)
    assert r.status_code == 422

    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/customers", params=params, headers=owner.headers)).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"], b["id"], a["id"]]


async def test_contacts_crud(client):
    owner = await signup(client)
    nj = await territory(client, owner, "南京市", level="city")
    made = await customer(client, owner, nj["id"])
    url = f"/api/v1/customers/{made['id']}/contacts"
    r = await client.post(
        url,
        json={
            "name": "李总",
            "title": "总经理",
            "phone": "13900000000",
            "decision_role": "decision_maker",
            "influence": 5,
            "support": 3,
        },
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    boss = r.json()
    r = await client.post(url, json={"name": "王会计", "decision_role": "user"}, headers=owner.headers)
    clerk = r.json()
    for bad, field in (
        ({"name": "x", "influence": 6}, "influence"),
        ({"name": "x", "decision_role": "king"}, "decision_role"),
        ({"name": ""}, "name"),
    ):
        r = await client.post(url, json=bad, headers=owner.headers)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], r.text

    first = (await client.get(url, params={"limit": 1}, headers=owner.headers)).json()
    second = (
        await client.get(url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=owner.headers)
    ).json()
    assert [x["id"] for x in first["items"] + second["items"]] == [boss["id"], clerk["id"]]

    r = await client.patch(f"{url}/{boss['id']}", json={"support": 5, "title": None}, headers=owner.headers)
    assert r.status_code == 200 and (r.json()["support"], r.json()["title"], r.json()["influence"]) == (
        5,
        None,
        5,
    )
    assert (await client.get(f"{url}/{boss['id']}", headers=owner.headers)).json()["support"] == 5
    assert (await client.delete(f"{url}/{clerk['id']}", headers=owner.headers)).status_code == 204
    assert (await client.get(f"{url}/{clerk['id']}", headers=owner.headers)).status_code == 404
    assert [x["id"] for x in (await client.get(url, headers=owner.headers)).json()["items"]] == [boss["id"]]
