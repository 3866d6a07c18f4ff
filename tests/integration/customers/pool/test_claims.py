"""Claim and release: the happy paths with their ledger entries, and every rule that refuses a claim
answering 409 with the rule and its numbers."""

from __future__ import annotations

from tests.factories import customer, db_value
from tests.integration.customers.pool.support import age, ledger_rows, pool_customer, put_rules, team


async def test_claim_and_release_move_the_owner_and_write_the_ledger(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    made = await pool_customer(client, t.owner, t.territory["id"], grade="A")
    assert made["owner_membership_id"] is None

    r = await client.post(f"/api/v1/customers/{made['id']}/claim", headers=rep.headers)
    assert r.status_code == 200, r.text
    assert r.json()["owner_membership_id"] == rep.membership_id

    r = await client.post(
        f"/api/v1/customers/{made['id']}/release", json={"reason": "  "}, headers=rep.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await client.post(
        f"/api/v1/customers/{made['id']}/release",
        json={"reason": "other", "note": "客户预算取消"},
        headers=rep.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["owner_membership_id"] is None
    r = await client.post(
        f"/api/v1/customers/{made['id']}/release",
        json={"reason": "other", "note": "again"},
        headers=rep.headers,
    )
    assert r.status_code == 409 and r.json()["rule"] == "not_owned"

    rows = await ledger_rows(admin_db, t.owner.tenant_id, made["id"])
    assert [(r["cause"], str(r["from_membership_id"]), str(r["to_membership_id"])) for r in rows] == [
        ("claim", "None", rep.membership_id),
        ("release", rep.membership_id, "None"),
    ]
    assert rows[1]["reason"] == "Other: 客户预算取消" and str(rows[1]["actor"]) == rep.membership_id
    assert rows[1]["prev_hash"] == rows[0]["hash"]

    r = await client.get(f"/api/v1/customers/{made['id']}/ownership", headers=rep.headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["cause"] for i in items] == ["claim", "release"]
    assert items[0]["to_name"] == "业务员0" and items[1]["reason"] == "Other: 客户预算取消"


async def test_create_with_an_owner_records_create_or_assign(client, admin_db):
    t = await team(client, admin_db, reps=1)
    own = await customer(client, t.owner, t.territory["id"])
    given = await customer(client, t.owner, t.territory["id"], owner_membership_id=t.reps[0].membership_id)
    pooled = await pool_customer(client, t.owner, t.territory["id"])
    rows = await ledger_rows(admin_db, t.owner.tenant_id)
    by_customer = {str(r["customer_id"]): r for r in rows}
    assert by_customer[own["id"]]["cause"] == "create"
    assert str(by_customer[given["id"]]["to_membership_id"]) == t.reps[0].membership_id
    assert by_customer[given["id"]]["cause"] == "assign"
    assert pooled["id"] not in by_customer


async def test_only_the_owner_or_a_manager_releases(client, admin_db):
    t = await team(client, admin_db, reps=2)
    made = await customer(client, t.owner, t.territory["id"], owner_membership_id=t.reps[0].membership_id)
    r = await client.post(
        f"/api/v1/customers/{made['id']}/release",
        json={"reason": "other", "note": "x"},
        headers=t.reps[1].headers,
    )
    assert r.status_code == 404  # another rep's customer is invisible
    r = await client.post(
        f"/api/v1/customers/{made['id']}/release",
        json={"reason": "other", "note": "重新分配"},
        headers=t.owner.headers,
    )
    assert r.status_code == 200 and r.json()["owner_membership_id"] is None


async def test_a_claimed_customer_is_409_naming_the_owner(client, admin_db):
    t = await team(client, admin_db, reps=2)
    made = await pool_customer(client, t.owner, t.territory["id"])
    assert (
        await client.post(f"/api/v1/customers/{made['id']}/claim", headers=t.reps[0].headers)
    ).status_code == 200
    r = await client.post(f"/api/v1/customers/{made['id']}/claim", headers=t.reps[1].headers)
    assert r.status_code == 409
    body = r.json()
    assert body["rule"] == "owned" and body["params"]["owner"] == "业务员0" and "业务员0" in body["detail"]
    r = await client.post(f"/api/v1/customers/{made['id']}/claim", headers=t.reps[0].headers)
    assert r.status_code == 409 and r.json()["rule"] == "already_yours"


async def test_won_customers_are_not_in_the_pool(client, admin_db):
    t = await team(client, admin_db, reps=1)
    made = await pool_customer(client, t.owner, t.territory["id"], status="won")
    r = await client.post(f"/api/v1/customers/{made['id']}/claim", headers=t.reps[0].headers)
    assert r.status_code == 409 and r.json()["rule"] == "not_in_pool"


async def test_cooldown_refuses_the_previous_owner_until_the_date(client, admin_db):
    t = await team(client, admin_db, reps=2)
    await put_rules(client, t.owner, cooldown_days=7)
    made = await pool_customer(client, t.owner, t.territory["id"])
    url = f"/api/v1/customers/{made['id']}"
    assert (await client.post(url + "/claim", headers=t.reps[0].headers)).status_code == 200
    assert (
        await client.post(
            url + "/release", json={"reason": "other", "note": "不合适"}, headers=t.reps[0].headers
        )
    ).status_code == 200
    r = await client.post(url + "/claim", headers={**t.reps[0].headers, "Accept-Language": "zh-CN"})
    assert r.status_code == 409
    body = r.json()
    assert body["rule"] == "cooldown" and body["params"]["days"] == 7
    released = await db_value(
        admin_db, "SELECT max(at) FROM customer_ownership_history WHERE customer_id = $1::uuid", made["id"]
    )
    assert body["params"]["until"] >= released.date().isoformat()
    # another rep is not in cooldown
    assert (await client.post(url + "/claim", headers=t.reps[1].headers)).status_code == 200


async def test_caps_refuse_with_the_numbers(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    await put_rules(client, t.owner, owned_cap=2, grades={"A": {"no_followup_days": 15, "owned_cap": 1}})
    a1, a2, b1, b2 = [
        await pool_customer(client, t.owner, t.territory["id"], grade=g) for g in ("A", "A", "B", "B")
    ]
    assert (await client.post(f"/api/v1/customers/{a1['id']}/claim", headers=rep.headers)).status_code == 200
    r = await client.post(f"/api/v1/customers/{a2['id']}/claim", headers=rep.headers)
    assert r.status_code == 409 and r.json()["rule"] == "grade_cap"
    assert r.json()["params"] == {"count": 1, "grade": "A", "cap": 1}
    assert (await client.post(f"/api/v1/customers/{b1['id']}/claim", headers=rep.headers)).status_code == 200
    r = await client.post(f"/api/v1/customers/{b2['id']}/claim", headers=rep.headers)
    assert r.status_code == 409 and r.json()["rule"] == "owned_cap"
    assert r.json()["params"] == {"count": 2, "cap": 2} and "2" in r.json()["detail"]


async def test_daily_claim_cap(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    await put_rules(client, t.owner, daily_claim_cap=2, cooldown_days=0)
    made = [await pool_customer(client, t.owner, t.territory["id"]) for _ in range(3)]
    for c in made[:2]:
        assert (
            await client.post(f"/api/v1/customers/{c['id']}/claim", headers=rep.headers)
        ).status_code == 200
    # releasing does not give a claim back
    r = await client.post(
        f"/api/v1/customers/{made[0]['id']}/release",
        json={"reason": "other", "note": "x"},
        headers=rep.headers,
    )
    assert r.status_code == 200
    r = await client.post(f"/api/v1/customers/{made[2]['id']}/claim", headers=rep.headers)
    assert r.status_code == 409 and r.json()["rule"] == "daily_cap" and r.json()["params"]["cap"] == 2


async def test_claim_resets_the_reclaim_clock(client, admin_db):
    t = await team(client, admin_db, reps=1)
    made = await pool_customer(client, t.owner, t.territory["id"], grade="A")
    await age(admin_db, made["id"], 100)
    assert (
        await client.post(f"/api/v1/customers/{made['id']}/claim", headers=t.reps[0].headers)
    ).status_code == 200
    fresh = await db_value(
        admin_db,
        "SELECT owner_changed_at > now() - interval '1 hour' FROM customers WHERE id = $1::uuid",
        made["id"],
    )
    assert fresh is True
