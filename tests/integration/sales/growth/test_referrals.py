"""Referrals: recording who referred a customer, the referrer's referred customers and their
outcomes, the per-tenant reward made once when a referred customer is won, and paying it."""

from __future__ import annotations

from uuid import uuid4

from tests.factories import customer, db_rows, db_value, territory
from tests.helpers import signup
from tests.integration.sales.growth.support import signed, world


async def test_record_a_referral_and_refusals(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    referrer = w.customer
    referred = await customer(client, w.rep, w.city["id"])
    url = f"/api/v1/customers/{referred['id']}/referral"
    r = await client.put(
        url, json={"referrer_customer_id": referrer["id"], "referrer_name": "李总"}, headers=w.rep.headers
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert (
        got["referrer_customer_id"] == referrer["id"]
        and got["referrer_customer_name"] == referrer["full_name"]
    )
    assert got["referrer_name"] == "李总" and got["status"] == "prospect" and got["won_deals"] == 0
    shown = (await client.get(f"/api/v1/customers/{referred['id']}", headers=w.rep.headers)).json()
    assert shown["source"] == "referral" and shown["referrer_customer_id"] == referrer["id"]

    stranger = await signup(client)
    far = await territory(client, stranger, "外地")
    foreign = await customer(client, stranger, far["id"])
    state = "SELECT referrer_customer_id, referrer, referrer_contact FROM customers WHERE id = $1"
    before = [tuple(r) for r in await db_rows(admin_db, state, referred["id"])]
    bad = [
        (w.rep, url, {"referrer_customer_id": referred["id"]}, 422, "referrer_customer_id"),
        (w.rep, url, {"referrer_customer_id": foreign["id"]}, 422, "referrer_customer_id"),
        (w.rep, url, {"referrer_contact": "13800000000"}, 422, "referrer_name"),
        (w.rep, url, {"referrer_name": "x" * 201}, 422, None),
        (
            w.rep,
            f"/api/v1/customers/{referrer['id']}/referral",
            {"referrer_customer_id": referred["id"]},
            422,
            "referrer_customer_id",
        ),  # they would refer each other
        (w.other_manager, url, {"referrer_name": "王"}, 404, None),
        (stranger, url, {"referrer_name": "王"}, 404, None),
        (w.rep, f"/api/v1/customers/{foreign['id']}/referral", {"referrer_name": "王"}, 404, None),
    ]
    for who, path, body, status, field in bad:
        r = await client.put(path, json=body, headers=who.headers)
        assert r.status_code == status, (body, r.text)
        if field:
            assert r.json()["errors"][0]["field"] == field
    assert [tuple(r) for r in await db_rows(admin_db, state, referred["id"])] == before
    assert (
        await db_value(admin_db, "SELECT referrer_customer_id FROM customers WHERE id = $1", referrer["id"])
        is None
    )

    # the referrer's referred customers; another tenant's referrer id is 404
    page = (
        await client.get(
            "/api/v1/referrals", params={"referrer_customer_id": referrer["id"]}, headers=w.rep.headers
        )
    ).json()
    assert [i["customer_id"] for i in page["items"]] == [referred["id"]]
    r = await client.get(
        "/api/v1/referrals", params={"referrer_customer_id": foreign["id"]}, headers=w.rep.headers
    )
    assert r.status_code == 404
    assert (await client.get("/api/v1/referrals", headers=w.other_manager.headers)).json()["items"] == []

    # a person, then cleared
    r = await client.put(
        url, json={"referrer_name": " 王  先生 ", "referrer_contact": "13800000000"}, headers=w.rep.headers
    )
    assert r.status_code == 200 and r.json()["referrer_name"] == "王 先生"
    assert r.json()["referrer_customer_id"] is None and r.json()["referrer_contact"] == "13800000000"
    r = await client.put(url, json={}, headers=w.rep.headers)
    assert r.status_code == 200 and r.json()["referrer_name"] is None
    assert (await client.get("/api/v1/referrals", headers=w.rep.headers)).json()["items"] == []


async def test_reward_settings(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    r = await client.get("/api/v1/referral-reward-settings", headers=w.owner.headers)
    assert r.status_code == 200 and r.json() == {
        "kind": "points",
        "points": 100,
        "amount": None,
        "currency": None,
        "customized": False,
    }
    assert (
        await client.get("/api/v1/referral-reward-settings", headers=w.manager.headers)
    ).status_code == 403
    r = await client.put("/api/v1/referral-reward-settings", json={"kind": "none"}, headers=w.rep.headers)
    assert r.status_code == 403
    bad = [
        ({"kind": "amount"}, "amount"),
        ({"kind": "amount", "amount": "-5"}, "amount"),
        ({"kind": "amount", "amount": "0"}, "amount"),
        ({"kind": "amount", "amount": "1.234"}, "amount"),
        ({"kind": "points", "points": 0}, "points"),
        ({"kind": "points", "points": None}, "points"),
    ]
    for body, field in bad:
        r = await client.put("/api/v1/referral-reward-settings", json=body, headers=w.owner.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    r = await client.put("/api/v1/referral-reward-settings", json={"kind": "gift"}, headers=w.owner.headers)
    assert r.status_code in (400, 422)
    assert (
        await db_value(admin_db, "SELECT count(*) FROM sales_settings WHERE tenant = $1", w.owner.tenant_id)
        == 0
    )
    r = await client.put(
        "/api/v1/referral-reward-settings",
        json={"kind": "amount", "amount": "500.00"},
        headers=w.owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "kind": "amount",
        "points": None,
        "amount": "500.00",
        "currency": "CNY",
        "customized": True,
    }


async def test_a_won_referred_customer_earns_one_reward_which_a_manager_pays(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    r = await client.put(
        "/api/v1/referral-reward-settings",
        json={"kind": "amount", "amount": "800.00", "currency": "CNY"},
        headers=w.owner.headers,
    )
    assert r.status_code == 200, r.text
    referrer = w.customer
    referred = await customer(client, w.rep, w.city["id"])
    by_person = await customer(client, w.rep, w.city["id"])
    plain = await customer(client, w.rep, w.city["id"])
    await client.put(
        f"/api/v1/customers/{referred['id']}/referral",
        json={"referrer_customer_id": referrer["id"]},
        headers=w.rep.headers,
    )
    await client.put(
        f"/api/v1/customers/{by_person['id']}/referral",
        json={"referrer_name": "张会计", "referrer_contact": "13900000000"},
        headers=w.rep.headers,
    )

    first = await signed(client, w.rep, referred["id"], amount="60000.00")
    await signed(client, w.rep, referred["id"], amount="5000.00")  # already won: no second reward
    await signed(client, w.rep, plain["id"])  # not referred: no reward
    rows = await db_rows(
        admin_db,
        "SELECT referred_customer_id::text, referrer_customer_id::text, deal_id::text, kind, amount::text,"
        " currency, status FROM referral_rewards WHERE tenant = $1",
        w.owner.tenant_id,
    )
    assert [tuple(r) for r in rows] == [
        (referred["id"], referrer["id"], first["id"], "amount", "800.00", "CNY", "pending")
    ]

    # the referrer's view: outcome and reward
    item = (
        await client.get(
            "/api/v1/referrals", params={"referrer_customer_id": referrer["id"]}, headers=w.rep.headers
        )
    ).json()["items"][0]
    assert item["status"] == "won" and item["won_deals"] == 2
    assert item["won_amounts"] == [{"currency": "CNY", "amount": "65000.00"}]
    assert item["reward_status"] == "pending"

    # the referrer cannot change any more
    r = await client.put(
        f"/api/v1/customers/{referred['id']}/referral", json={"referrer_name": "别人"}, headers=w.rep.headers
    )
    assert r.status_code == 409

    # points, for a person's referral, after the settings change
    await client.put(
        "/api/v1/referral-reward-settings", json={"kind": "points", "points": 300}, headers=w.owner.headers
    )
    await signed(client, w.rep, by_person["id"])

    r = await client.get("/api/v1/referral-rewards", headers=w.manager.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["referrer_name"], i["kind"], i["points"]) for i in items] == [
        ("张会计", "points", 300),
        (None, "amount", None),
    ]
    assert items[1]["referrer_customer_name"] == referrer["full_name"] and items[1]["amount"] == "800.00"
    assert (await client.get("/api/v1/referral-rewards", headers=w.other_manager.headers)).json()[
        "items"
    ] == []
    assert (await client.get("/api/v1/referral-rewards", headers=w.rep.headers)).status_code == 403
    assert (
        await client.get("/api/v1/referral-rewards", params={"status": "owed"}, headers=w.manager.headers)
    ).status_code == 422
    pending = (
        await client.get(
            "/api/v1/referral-rewards", params={"status": "pending", "limit": 1}, headers=w.owner.headers
        )
    ).json()
    assert len(pending["items"]) == 1 and pending["next_cursor"]

    reward_id = items[1]["id"]
    stranger = await signup(client)
    for who in (w.other_manager, stranger):
        assert (
            await client.post(f"/api/v1/referral-rewards/{reward_id}/paid", headers=who.headers)
        ).status_code == 404
    assert (
        await client.post(f"/api/v1/referral-rewards/{reward_id}/paid", headers=w.rep.headers)
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/referral-rewards/{uuid4()}/paid", headers=w.manager.headers)
    ).status_code == 404
    assert (
        await db_value(admin_db, "SELECT status FROM referral_rewards WHERE id = $1", reward_id) == "pending"
    )
    r = await client.post(f"/api/v1/referral-rewards/{reward_id}/paid", headers=w.manager.headers)
    assert r.status_code == 200 and r.json()["status"] == "paid" and r.json()["paid_at"]
    assert (
        await client.post(f"/api/v1/referral-rewards/{reward_id}/paid", headers=w.manager.headers)
    ).status_code == 409
    paid = (
        await client.get("/api/v1/referral-rewards", params={"status": "paid"}, headers=w.manager.headers)
    ).json()
    assert [i["id"] for i in paid["items"]] == [reward_id]
