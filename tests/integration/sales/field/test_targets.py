"""Targets: who sets which, validation, decomposition that must add up, live attainment."""

from __future__ import annotations

from datetime import date

from tests.factories import customer, db_value, today
from tests.helpers import signup
from tests.integration.deals.support import deal
from tests.integration.sales.field.support import field

URL = "/api/v1/targets"


def month() -> str:
    return today().replace(day=1).isoformat()


def body(**fields):
    b = {
        "metric": "amount",
        "scope_type": "tenant",
        "period": "month",
        "period_start": month(),
        "value": "100000",
    }
    b.update(fields)
    return b


async def test_who_sets_targets_and_validation(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    r = await client.post(URL, json=body(), headers=f.owner.headers)
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["currency"], t["value"], t["actual"], t["attainment"]) == ("CNY", "100000.00", "0.00", "0.00")
    assert t["period_end"] > t["period_start"]
    assert (await client.post(URL, json=body(), headers=f.owner.headers)).status_code == 409
    for who in (f.manager, f.rep):
        assert (await client.post(URL, json=body(value="1"), headers=who.headers)).status_code == 403

    city = body(scope_type="territory", territory_id=f.city["id"])
    assert (await client.post(URL, json=city, headers=f.manager.headers)).status_code == 201
    other = body(scope_type="territory", territory_id=f.other_province["id"])
    assert (await client.post(URL, json=other, headers=f.manager.headers)).status_code == 403
    mine = body(scope_type="rep", membership_id=f.rep.membership_id)
    assert (await client.post(URL, json=mine, headers=f.manager.headers)).status_code == 201
    theirs = body(scope_type="rep", membership_id=f.other_rep.membership_id)
    assert (await client.post(URL, json=theirs, headers=f.manager.headers)).status_code == 403

    bad = [
        (body(period_start=today().replace(day=1).replace(day=2).isoformat()), "period_start"),
        (body(period="quarter", period_start=f"{today().year}-02-01"), "period_start"),
        (body(period="year", period_start=f"{today().year}-04-01"), "period_start"),
        (body(metric="new_customers", value="10", currency="CNY"), "currency"),
        (body(metric="new_customers", value="10.5"), "value"),
        (body(value="10.001"), "value"),
        (body(value="-1"), "value"),
        (body(scope_type="territory"), "territory_id"),
        (body(scope_type="rep", membership_id="00000000-0000-0000-0000-000000000001"), "membership_id"),
    ]
    for payload, name in bad:
        r = await client.post(URL, json=payload, headers=f.owner.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name, (payload, r.text)
    assert await db_value(admin_db, "SELECT count(*) FROM targets WHERE tenant = $1", f.owner.tenant_id) == 3


async def test_attainment_is_live_and_reps_read_their_own(client, mailbox, app):
    f = await field(client, mailbox, app)
    rep_target = (
        await client.post(
            URL, json=body(scope_type="rep", membership_id=f.rep.membership_id), headers=f.owner.headers
        )
    ).json()
    city_new = (
        await client.post(
            URL,
            json=body(metric="new_customers", value="4", scope_type="territory", territory_id=f.city["id"]),
            headers=f.owner.headers,
        )
    ).json()
    margin = (await client.post(URL, json=body(metric="gross_margin"), headers=f.owner.headers)).json()
    assert city_new["actual"] == "2" and city_new["attainment"] == "50.00"  # two customers this month
    assert margin["actual"] is None and margin["attainment"] is None

    await deal(client, f.rep, f.customers[0]["id"], stage="signed", amount="25000.00")
    await deal(client, f.rep, f.customers[1]["id"], stage="negotiation", amount="99999.00")  # not an order
    await customer(client, f.rep, f.city["id"])
    r = await client.get(f"{URL}/{rep_target['id']}", headers=f.rep.headers)
    assert r.status_code == 200 and (r.json()["actual"], r.json()["attainment"]) == ("25000.00", "25.00")
    r = await client.get(f"{URL}/{city_new['id']}", headers=f.manager.headers)
    assert r.json()["actual"] == "3" and r.json()["attainment"] == "75.00"

    listed = (await client.get(URL, headers=f.rep.headers)).json()["items"]
    assert [t["id"] for t in listed] == [rep_target["id"]]
    assert (await client.get(f"{URL}/{rep_target['id']}", headers=f.rep2.headers)).status_code == 404
    assert (await client.get(f"{URL}/{city_new['id']}", headers=f.other_manager.headers)).status_code == 404
    everything = (await client.get(URL, params={"on": today().isoformat()}, headers=f.owner.headers)).json()
    assert len(everything["items"]) == 3
    page = (await client.get(URL, params={"limit": 2}, headers=f.owner.headers)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await client.get(URL, params={"limit": 2, "cursor": page["next_cursor"]}, headers=f.owner.headers)
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


async def test_decomposition_must_add_up(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    year = date(today().year, 1, 1)
    parent = (
        await client.post(
            URL,
            json=body(period="year", period_start=year.isoformat(), value="1200000"),
            headers=f.owner.headers,
        )
    ).json()

    def quarter(n, value):
        return {
            "scope_type": "tenant",
            "period": "quarter",
            "period_start": date(year.year, 3 * n + 1, 1).isoformat(),
            "value": value,
        }

    decompose = f"{URL}/decompose"
    children = "SELECT count(*) FROM targets WHERE parent_id = $1"
    r = await client.post(
        decompose,
        json={
            "parent_id": parent["id"],
            "children": [quarter(n, "300000") for n in range(3)] + [quarter(3, "200000")],
        },
        headers=f.owner.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "children"
    assert "1100000.00" in r.json()["errors"][0]["message"]
    r = await client.post(
        decompose,
        json={"parent_id": parent["id"], "children": [quarter(0, "600000"), quarter(1, "600000")]},
        headers=f.owner.headers,
    )
    assert r.status_code == 422  # does not cover the year
    mixed = [quarter(n, "200000") for n in range(4)] + [
        {
            "scope_type": "territory",
            "territory_id": f.city["id"],
            "period": "year",
            "period_start": year.isoformat(),
            "value": "400000",
        }
    ]
    r = await client.post(
        decompose, json={"parent_id": parent["id"], "children": mixed}, headers=f.owner.headers
    )
    assert r.status_code == 422
    assert await db_value(admin_db, children, parent["id"]) == 0

    r = await client.post(
        decompose,
        json={"parent_id": parent["id"], "children": [quarter(n, "300000") for n in range(4)]},
        headers=f.owner.headers,
    )
    assert r.status_code == 201, r.text
    quarters = r.json()
    assert [q["parent_id"] for q in quarters] == [parent["id"]] * 4
    # a change that breaks a sum is refused, and nothing moves
    r = await client.patch(f"{URL}/{quarters[0]['id']}", json={"value": "350000"}, headers=f.owner.headers)
    assert r.status_code == 422
    r = await client.patch(f"{URL}/{parent['id']}", json={"value": "1300000"}, headers=f.owner.headers)
    assert r.status_code == 422
    assert await db_value(admin_db, "SELECT value FROM targets WHERE id = $1", quarters[0]["id"]) == 300000
    # decomposing again replaces the children (months this time)
    months = [
        {
            "scope_type": "tenant",
            "period": "month",
            "period_start": date(year.year, m, 1).isoformat(),
            "value": "100000",
        }
        for m in range(1, 13)
    ]
    r = await client.post(
        decompose, json={"parent_id": parent["id"], "children": months}, headers=f.owner.headers
    )
    assert r.status_code == 201 and len(r.json()) == 12
    assert await db_value(admin_db, children, parent["id"]) == 12


async def test_manager_splits_a_territory_target_by_scope(client, mailbox, app, admin_db):
    f = await field(client, mailbox, app)
    parent = (
        await client.post(
            URL,
            json=body(scope_type="territory", territory_id=f.province["id"], value="50000"),
            headers=f.owner.headers,
        )
    ).json()
    split = [
        {
            "scope_type": "territory",
            "territory_id": f.city["id"],
            "period": "month",
            "period_start": month(),
            "value": "30000",
        },
        {
            "scope_type": "rep",
            "membership_id": f.rep2.membership_id,
            "period": "month",
            "period_start": month(),
            "value": "20000",
        },
    ]
    r = await client.post(
        f"{URL}/decompose", json={"parent_id": parent["id"], "children": split}, headers=f.manager.headers
    )
    assert r.status_code == 201, r.text
    city = r.json()[0]
    outside = [{**split[0], "territory_id": f.other_province["id"]}, split[1]]
    r = await client.post(
        f"{URL}/decompose", json={"parent_id": parent["id"], "children": outside}, headers=f.manager.headers
    )
    assert r.status_code == 403
    same = [{**split[0], "territory_id": f.province["id"]}, split[1]]  # not narrower
    r = await client.post(
        f"{URL}/decompose", json={"parent_id": parent["id"], "children": same}, headers=f.owner.headers
    )
    assert r.status_code == 422
    # the city's own split, then the province cannot be split again under it
    r = await client.post(
        f"{URL}/decompose",
        json={
            "parent_id": city["id"],
            "children": [
                {
                    "scope_type": "rep",
                    "membership_id": f.rep.membership_id,
                    "period": "month",
                    "period_start": month(),
                    "value": "30000",
                }
            ],
        },
        headers=f.manager.headers,
    )
    assert r.status_code == 201
    r = await client.post(
        f"{URL}/decompose", json={"parent_id": parent["id"], "children": split}, headers=f.owner.headers
    )
    assert r.status_code == 409
    r = await client.post(
        f"{URL}/decompose", json={"parent_id": parent["id"], "children": split}, headers=f.rep.headers
    )
    assert r.status_code == 403
    assert await db_value(admin_db, "SELECT count(*) FROM targets WHERE tenant = $1", f.owner.tenant_id) == 4


async def test_another_tenants_target_is_404(client, mailbox, app):
    f = await field(client, mailbox, app)
    t = (await client.post(URL, json=body(), headers=f.owner.headers)).json()
    stranger = await signup(client)
    assert (await client.get(f"{URL}/{t['id']}", headers=stranger.headers)).status_code == 404
    assert (
        await client.patch(f"{URL}/{t['id']}", json={"value": "1"}, headers=stranger.headers)
    ).status_code == 404
    r = await client.post(
        f"{URL}/decompose",
        json={
            "parent_id": t["id"],
            "children": [
                {
                    "scope_type": "territory",
                    "territory_id": f.city["id"],
                    "period": "month",
                    "period_start": month(),
                    "value": "100000",
                }
            ],
        },
        headers=stranger.headers,
    )
    assert r.status_code == 404
    assert (await client.get(URL, headers=stranger.headers)).json()["items"] == []
