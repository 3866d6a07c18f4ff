from __future__ import annotations

from typing import Any

from tests.factories import assign, customer, staff, territory
from tests.helpers import signup


async def test_search_by_chinese_substring_phone_and_tax_id(client, mailbox, app):
    owner = await signup(client)
    rep = await staff(client, owner, mailbox, app, role="rep")
    sh = await territory(client, owner, "上海市")
    bj = await territory(client, owner, "北京市")
    await assign(client, owner, sh["id"], rep, "rep")
    qinghe = await customer(
        client,
        owner,
        sh["id"],
        full_name="上海青禾软件有限公司",
        short_name="青禾",
        phone="021-6123 4567",
        tax_id="91310000MA1FL0XX1X",
        owner_membership_id=rep.membership_id,
    )
    keji = await customer(client, owner, bj["id"], full_name="北京青禾科技有限公司", phone="010-8765 4321")
    yunshan = await customer(
        client,
        owner,
        sh["id"],
        full_name="杭州云杉网络有限公司 (Yunshan Net)",
        phone="+86 139 1234 5678",
        owner_membership_id=rep.membership_id,
    )
    await customer(client, owner, bj["id"], full_name="100%_纯净水公司")

    async def found(q, who=owner):
        r = await client.get("/api/v1/customers", params={"q": q}, headers=who.headers)
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    assert await found("青禾") == {qinghe["id"], keji["id"]}
    assert await found("青禾软件") == {qinghe["id"]}
    assert await found("禾") == {qinghe["id"], keji["id"]}  # one character: a plain scan within the tenant
    assert await found("云杉网") == {yunshan["id"]}
    assert await found("ＹＵＮＳＨＡＮ net") == {yunshan["id"]}  # width and case folded, spaces ignored
    assert await found("软件科技") == set()
    assert await found("不存在的公司") == set()
    assert await found("021-6123") == {qinghe["id"]}  # phone by digit prefix
    assert await found("8613912345678") == {yunshan["id"]}
    assert await found("91310000ma1fl0xx1x") == {qinghe["id"]}  # tax id, normalised
    assert len(await found("%")) == 1 and len(await found("_")) == 1  # LIKE wildcards are literal
    # search applies the caller's visibility
    assert await found("青禾", who=rep) == {qinghe["id"]}
    r = await client.get(
        "/api/v1/customers", params={"q": "青禾", "territory_id": bj["id"]}, headers=owner.headers
    )
    assert [c["id"] for c in r.json()["items"]] == [keji["id"]]


async def test_search_stays_inside_the_tenant(client):
    owner_a, owner_b = await signup(client), await signup(client)
    ta, tb = await territory(client, owner_a, "上海市"), await territory(client, owner_b, "上海市")
    mine = await customer(client, owner_a, ta["id"], full_name="上海唯一检索词有限公司", phone="02199998888")
    await customer(client, owner_b, tb["id"], full_name="上海唯一检索词有限公司", phone="02199998888")
    for q in ("唯一检索词", "02199998888"):
        r = await client.get("/api/v1/customers", params={"q": q}, headers=owner_a.headers)
        assert [c["id"] for c in r.json()["items"]] == [mine["id"]]


async def test_sorted_by_next_follow_up_soonest_first_none_last_across_pages(client):
    owner = await signup(client)
    t = await territory(client, owner, "上海市")
    later = await customer(client, owner, t["id"], next_followup_at="2031-06-02T09:00:00+08:00")
    none_a = await customer(client, owner, t["id"])
    soon = await customer(client, owner, t["id"], next_followup_at="2031-05-06T09:00:00+08:00")
    none_b = await customer(client, owner, t["id"])
    same = await customer(client, owner, t["id"], next_followup_at="2031-06-02T09:00:00+08:00")
    nones = sorted([none_a["id"], none_b["id"]])
    ties = sorted([later["id"], same["id"]])

    seen, cursor = [], None
    while True:  # two at a time: the cursor crosses a tie and the step from dates to none
        params = {"sort": "next_followup", "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/customers", params=params, headers=owner.headers)
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()["items"]]
        if not (cursor := r.json()["next_cursor"]):
            break
    assert seen == [soon["id"], *ties, *nones]
    newest = await client.get("/api/v1/customers", headers=owner.headers)
    assert newest.json()["items"][0]["id"] == same["id"]  # the default is unchanged
    r = await client.get("/api/v1/customers", params={"sort": "name"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"


async def test_a_subtree_newest_first_across_pages_as_a_rep_and_a_manager_see_it(client, mailbox, app):
    owner = await signup(client)
    province = await territory(client, owner, "江苏省")
    city = await territory(client, owner, "苏州市", parent=province["id"])
    county = await territory(client, owner, "昆山市", parent=city["id"])
    elsewhere = await territory(client, owner, "浙江省")
    manager = await staff(client, owner, mailbox, app, role="manager")
    await assign(client, owner, city["id"], manager, "manager")
    made = [  # newest last, spread over the subtree's levels; one outside it, one of grade D
        await customer(client, owner, t["id"], grade="D" if i == 4 else "B")
        for i, t in enumerate([province, county, city, county, county, elsewhere, city, province, county])
    ]
    inside = [c["id"] for c, t in zip(made, [1, 1, 1, 1, 1, 0, 1, 1, 1], strict=True) if t]

    async def pages(who: Any, **params: Any) -> list[str]:
        seen, cursor = [], None
        while True:  # two at a time: each page the newest of every territory's newest
            query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
            r = await client.get("/api/v1/customers", params=query, headers=who.headers)
            assert r.status_code == 200, r.text
            seen += [c["id"] for c in r.json()["items"]]
            if not (cursor := r.json()["next_cursor"]):
                return seen

    assert await pages(owner, territory_id=province["id"]) == inside[::-1]
    b_only = [i for i in inside if i != made[4]["id"]]
    assert await pages(owner, territory_id=province["id"], grade="B") == b_only[::-1]
    # the city's manager sees the city and the county, not the province's own customers
    visible = [c["id"] for c in made[1:5] + made[6:7] + made[8:]]
    assert await pages(manager, territory_id=province["id"]) == visible[::-1]
    assert await pages(manager, territory_id=elsewhere["id"]) == []
