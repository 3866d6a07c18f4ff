"""GET /api/v1/pool: whose pools each role sees, filters (422 for unknown values), ordering by last
follow-up with never-followed-up first, and keyset pagination across the NULL boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import assign, customer, territory
from tests.helpers import signup
from tests.integration.customers.pool.support import age, pool_customer, quick_members


async def _province(client, admin_db):
    owner = await signup(client)
    js = await territory(client, owner, "江苏省", level="province")
    sz = await territory(client, owner, "苏州市", parent=js["id"], level="prefecture")
    nj = await territory(client, owner, "南京市", parent=js["id"], level="prefecture")
    [rep] = await quick_members(client, admin_db, owner, 1)
    [manager] = await quick_members(client, admin_db, owner, 1, role="manager")
    await assign(client, owner, sz["id"], rep, "rep")
    await assign(client, owner, js["id"], manager, "manager")
    return owner, rep, manager, js, sz, nj


def _ids(r):
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


async def test_each_role_sees_its_pools(client, admin_db):
    owner, rep, manager, js, sz, nj = await _province(client, admin_db)
    in_sz = await pool_customer(client, owner, sz["id"], grade="A", industry="制造业", source="event")
    in_nj = await pool_customer(client, owner, nj["id"], grade="B")
    owned = await customer(client, owner, sz["id"], owner_membership_id=rep.membership_id)
    won = await pool_customer(client, owner, sz["id"], status="won")

    assert set(_ids(await client.get("/api/v1/pool", headers=rep.headers))) == {in_sz["id"]}
    assert set(_ids(await client.get("/api/v1/pool", headers=manager.headers))) == {in_sz["id"], in_nj["id"]}
    everything = set(_ids(await client.get("/api/v1/pool", headers=owner.headers)))
    assert (
        everything == {in_sz["id"], in_nj["id"]}
        and owned["id"] not in everything
        and won["id"] not in everything
    )

    got = _ids(await client.get("/api/v1/pool", params={"territory_id": nj["id"]}, headers=rep.headers))
    assert got == []  # a territory outside the rep's pools filters to nothing
    got = _ids(
        await client.get(
            "/api/v1/pool", params={"territory_id": js["id"], "grade": "B"}, headers=manager.headers
        )
    )
    assert got == [in_nj["id"]]
    for params in ({"industry": "制造业"}, {"source": "event"}):
        assert _ids(await client.get("/api/v1/pool", params=params, headers=owner.headers)) == [in_sz["id"]]


async def test_unknown_filter_values_are_422(client, admin_db):
    _, rep, *_ = await _province(client, admin_db)
    other = await signup(client)
    foreign = await territory(client, other, "上海市")
    cases = [
        ({"territory_id": foreign["id"]}, "territory_id"),
        ({"grade": "E"}, "grade"),
        ({"source": "psychic"}, "source"),
        ({"followup_before": "yesterday"}, "followup_before"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
    ]
    for params, field in cases:
        r = await client.get("/api/v1/pool", params=params, headers=rep.headers)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["errors"][0]["field"] == field


async def test_order_by_last_follow_up_and_keyset_pages(client, admin_db):
    owner, rep, _, _, sz, _ = await _province(client, admin_db)
    never = [await pool_customer(client, owner, sz["id"]) for _ in range(3)]
    aged = []
    for days in (5, 50, 20):
        c = await pool_customer(client, owner, sz["id"])
        await age(admin_db, c["id"], days)
        aged.append((days, c["id"]))
    expected = sorted(c["id"] for c in never) + [cid for _, cid in sorted(aged, reverse=True)]

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/pool", params=params, headers=rep.headers)
        seen += _ids(r)
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == expected

    cut = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    before = _ids(await client.get("/api/v1/pool", params={"followup_before": cut}, headers=rep.headers))
    assert before == expected[:5]  # never followed up + 50 and 20 days ago
    after = _ids(await client.get("/api/v1/pool", params={"followup_after": cut}, headers=rep.headers))
    assert after == [cid for days, cid in aged if days == 5]
