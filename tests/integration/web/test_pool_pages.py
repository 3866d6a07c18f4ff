"""The pool pages: the pool page picks one of the pools a member may claim from; the settings page
(owner/admin) adds a pool with its scope and admins, changes one, and sets the release reasons;
the pool rules page keeps the new rules (lock cap, new-in-pool delay, won counted, reclaim-to)."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.factories import db_value
from tests.integration.customers.pool.support import pool_customer, quick_members, team
from tests.integration.web.support import htmx, sign_in

FORM = "application/x-www-form-urlencoded"


async def test_the_settings_page_adds_a_pool_and_the_pool_page_picks_it(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    (ka,) = await quick_members(client, admin_db, t.owner, 1)
    csrf = await sign_in(client, rep)
    assert (await client.get("/settings/pools")).status_code == 403

    csrf = await sign_in(client, t.owner)
    page = await client.get("/settings/pools")
    assert page.status_code == 200 and t.territory["name"] in page.text and "Release reasons" in page.text
    headers = {**htmx(csrf), "Content-Type": FORM}
    r = await client.post(
        "/settings/pools", content=urlencode({"name": " ", "kind": "key_accounts"}), headers=headers
    )
    assert r.status_code == 422 and 'class="error"' in r.text and "<html" not in r.text
    body = urlencode(
        [
            ("name", "大客户"),
            ("kind", "key_accounts"),
            ("scope_membership_id", ka.membership_id),
            ("owned_cap", "3"),
        ]
    )
    r = await client.post("/settings/pools", content=body, headers=headers)
    assert r.status_code == 200 and r.headers.get("HX-Refresh") == "true"
    pool_id = await db_value(
        admin_db, "SELECT id::text FROM pools WHERE name = '大客户' AND tenant = $1::uuid", t.owner.tenant_id
    )
    assert (
        await db_value(admin_db, "SELECT rules->>'owned_cap' FROM pools WHERE id = $1::uuid", pool_id) == "3"
    )
    page = await client.get("/settings/pools")
    assert "大客户" in page.text and f'id="pool-{pool_id}"' in page.text

    r = await client.post(
        "/settings/pools/release-reasons",
        content=urlencode({"labels": "价格太高\n\n转给同事\n"}),
        headers=headers,
    )
    assert r.status_code == 200 and "Saved." in r.text
    labels = await db_value(
        admin_db,
        "SELECT array_agg(label ORDER BY position) FROM pool_release_reasons WHERE tenant = $1::uuid",
        t.owner.tenant_id,
    )
    assert labels == ["价格太高", "转给同事"]

    # the pool page: the scoped member picks the pool and sees its customer; the rep has no such choice
    made = await pool_customer(client, t.owner, t.territory["id"], full_name="苏州大客户有限公司")
    await db_value(
        admin_db,
        "UPDATE customers SET pool_id = $2::uuid WHERE id = $1::uuid RETURNING 1",
        made["id"],
        pool_id,
    )
    await sign_in(client, ka)
    page = await client.get("/pool")
    assert f'<option value="{pool_id}">大客户</option>' in page.text
    page = await client.get("/pool", params={"pool_id": pool_id})
    assert (
        page.status_code == 200
        and "苏州大客户有限公司" in page.text
        and f'value="{pool_id}" selected' in page.text
    )
    await sign_in(client, rep)
    page = await client.get("/pool")
    assert "大客户</option>" not in page.text and "苏州大客户有限公司" not in page.text
    assert (await client.get("/pool", params={"pool_id": pool_id})).status_code == 404


async def test_the_pool_rules_page_keeps_the_new_rules(client, admin_db):
    t = await team(client, admin_db, reps=0)
    csrf = await sign_in(client, t.owner)
    page = await client.get("/settings/pool-rules")
    assert 'name="lock_cap"' in page.text and 'name="new_in_pool_hours"' in page.text
    headers = {**htmx(csrf), "Content-Type": FORM}
    body = {
        "owned_cap": "50",
        "warning_days": "3",
        "cooldown_days": "7",
        "lock_cap": "2",
        "new_in_pool_hours": "4",
        "count_won": "1",
        "reclaim_to_pool_id": "",
    }
    r = await client.post("/settings/pool-rules", content=urlencode(body), headers=headers)
    assert r.status_code == 200, r.text
    rules = (await client.get("/api/v1/pool-rules", headers=t.owner.headers)).json()
    assert (rules["lock_cap"], rules["new_in_pool_hours"], rules["count_won"]) == (2, 4, True)
    # a form without the new fields (an old page) leaves them as they are
    old = {k: v for k, v in body.items() if k in ("owned_cap", "warning_days", "cooldown_days")}
    assert (
        await client.post("/settings/pool-rules", content=urlencode(old), headers=headers)
    ).status_code == 200
    rules = (await client.get("/api/v1/pool-rules", headers=t.owner.headers)).json()
    assert (rules["lock_cap"], rules["new_in_pool_hours"], rules["count_won"]) == (2, 4, True)


async def test_the_customer_page_locks_and_unlocks_up_to_the_cap(client, admin_db):
    from tests.factories import customer
    from tests.integration.customers.pool.support import put_rules

    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    await put_rules(client, t.owner, lock_cap=1)
    first, second = [
        await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id)
        for _ in range(2)
    ]
    csrf = await sign_in(client, rep)
    page = await client.get(f"/customers/{first['id']}")
    assert f'hx-post="/customers/{first["id"]}/lock"' in page.text and "Lock against reclaim" in page.text
    headers = {**htmx(csrf), "Content-Type": FORM}
    r = await client.post(f"/customers/{first['id']}/lock", content="locked=1", headers=headers)
    assert r.status_code == 200 and "Unlock" in r.text and "<html" not in r.text
    r = await client.post(f"/customers/{second['id']}/lock", content="locked=1", headers=headers)
    assert r.status_code == 409 and "the cap is 1" in r.text
    assert (
        await db_value(admin_db, "SELECT locked_at FROM customers WHERE id = $1::uuid", second["id"]) is None
    )
    r = await client.post(f"/customers/{first['id']}/lock", content="locked=0", headers=headers)
    assert r.status_code == 200 and "Lock against reclaim" in r.text
    assert (
        await db_value(admin_db, "SELECT locked_at FROM customers WHERE id = $1::uuid", first["id"]) is None
    )


async def test_the_settings_page_sets_a_members_caps(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    csrf = await sign_in(client, t.owner)
    headers = {**htmx(csrf), "Content-Type": FORM}
    r = await client.post(
        "/settings/pools/caps", content=urlencode({"target": "x", "owned_cap": "3"}), headers=headers
    )
    assert r.status_code == 422 and 'class="error"' in r.text
    body = urlencode({"target": f"m:{rep.membership_id}", "owned_cap": "3", "lock_cap": "1"})
    r = await client.post("/settings/pools/caps", content=body, headers=headers)
    assert r.status_code == 200 and r.headers.get("HX-Refresh") == "true"
    row = (await client.get("/api/v1/pool-caps", headers=t.owner.headers)).json()[0]
    assert (row["membership_id"], row["owned_cap"], row["daily_claim_cap"], row["lock_cap"]) == (
        rep.membership_id,
        3,
        None,
        1,
    )
    page = await client.get("/settings/pools")
    assert 'id="caps"' in page.text and "业务员0" in page.text
