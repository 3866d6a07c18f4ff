"""Reclaim warnings (a notification and an email, once per customer and due date), the caller's
notifications with read/unread, and cross-territory grants (跨区) honoured by customer access."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from app.customers.pool.reclaim import warn_tenant
from tenants.scope import TenantScope
from tests.factories import assign, customer, territory
from tests.helpers import mails_to, run_jobs
from tests.integration.customers.pool.support import age, pool_customer, quick_members, team


async def test_warning_notifies_and_mails_once(client, admin_db, app, mailbox):
    t = await team(client, admin_db, reps=2)
    a, b = t.reps
    soon = await customer(
        client,
        t.owner,
        t.territory["id"],
        grade="B",
        owner_membership_id=a.membership_id,
        full_name="苏州青禾软件有限公司",
    )
    later = await customer(client, t.owner, t.territory["id"], grade="B", owner_membership_id=a.membership_id)
    await age(admin_db, soon["id"], 28)  # due in 2 days: inside the 3-day warning window
    await age(admin_db, later["id"], 20)  # due in 10 days
    scope = await TenantScope.for_job(t.owner.tenant_id)

    runs = await asyncio.gather(warn_tenant(scope), warn_tenant(scope))
    assert sorted(runs) == [0, 1]
    assert await warn_tenant(scope) == 0

    r = await client.get("/api/v1/notifications", headers=a.headers)
    items = r.json()["items"]
    assert len(items) == 1 and items[0]["subject_id"] == soon["id"] and items[0]["read"] is False
    assert (
        items[0]["kind"] == "reclaim_warning"
        and "苏州青禾软件有限公司 returns to the pool on" in items[0]["message"]
    )
    assert (await client.get("/api/v1/notifications", headers=b.headers)).json()["items"] == []

    nid = items[0]["id"]
    assert (await client.post(f"/api/v1/notifications/{nid}/read", headers=b.headers)).status_code == 404
    r = await client.post(f"/api/v1/notifications/{nid}/read", headers=a.headers)
    assert r.status_code == 200 and r.json()["read"] is True
    assert (await client.get("/api/v1/notifications", params={"unread": True}, headers=a.headers)).json()[
        "items"
    ] == []
    assert len((await client.get("/api/v1/notifications", headers=a.headers)).json()["items"]) == 1

    await run_jobs(app)
    mails = mails_to(mailbox, a.email)
    assert len(mails) == 1 and "苏州青禾软件有限公司" in mails[0]["Subject"]


async def test_cross_territory_grant_opens_a_customer_and_a_pool(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    far = await territory(client, t.owner, "无锡市")
    await assign(client, t.owner, far["id"], manager, "manager")
    far_pool = await pool_customer(client, t.owner, far["id"])
    far_other = await pool_customer(client, t.owner, far["id"])
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()

    assert (await client.get(f"/api/v1/customers/{far_pool['id']}", headers=rep.headers)).status_code == 404
    assert (
        await client.post(f"/api/v1/customers/{far_pool['id']}/claim", headers=rep.headers)
    ).status_code == 404

    body = {
        "membership_id": rep.membership_id,
        "customer_id": far_pool["id"],
        "until": until,
        "reason": "老客户介绍",
    }
    r = await client.post("/api/v1/cross-territory-grants", json=body, headers=rep.headers)
    assert r.status_code == 404  # the rep cannot see that customer (404 before 403)
    own = {"membership_id": rep.membership_id, "territory_id": t.territory["id"], "until": until}
    r = await client.post("/api/v1/cross-territory-grants", json=own, headers=rep.headers)
    assert r.status_code == 403  # a rep cannot grant, even in their own territory
    r = await client.post("/api/v1/cross-territory-grants", json=body, headers=manager.headers)
    assert r.status_code == 201, r.text
    grant = r.json()
    assert grant["active"] and grant["customer_id"] == far_pool["id"]

    assert (await client.get(f"/api/v1/customers/{far_pool['id']}", headers=rep.headers)).status_code == 200
    assert (await client.get(f"/api/v1/customers/{far_other['id']}", headers=rep.headers)).status_code == 404
    assert (
        await client.post(f"/api/v1/customers/{far_pool['id']}/claim", headers=rep.headers)
    ).status_code == 200

    whole = {"membership_id": rep.membership_id, "territory_id": far["id"], "until": until}
    r = await client.post("/api/v1/cross-territory-grants", json=whole, headers=manager.headers)
    assert r.status_code == 201
    pool_ids = [i["id"] for i in (await client.get("/api/v1/pool", headers=rep.headers)).json()["items"]]
    assert far_other["id"] in pool_ids

    r = await client.delete(f"/api/v1/cross-territory-grants/{r.json()['id']}", headers=manager.headers)
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await client.get(f"/api/v1/customers/{far_other['id']}", headers=rep.headers)).status_code == 404
    listed = (await client.get("/api/v1/cross-territory-grants", headers=rep.headers)).json()["items"]
    assert {g["id"] for g in listed} >= {grant["id"]}


async def test_a_manager_grants_only_in_their_territories_and_grants_are_validated(client, admin_db):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    mine = await territory(client, t.owner, "常州市")
    await assign(client, t.owner, mine["id"], manager, "manager")
    until = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    r = await client.post(
        "/api/v1/cross-territory-grants",
        headers=manager.headers,
        json={"membership_id": rep.membership_id, "territory_id": t.territory["id"], "until": until},
    )
    assert r.status_code == 403  # 苏州 is not the manager's
    cases = [
        ({"membership_id": rep.membership_id, "until": until}, "customer_id"),
        (
            {
                "membership_id": rep.membership_id,
                "territory_id": mine["id"],
                "until": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            },
            "until",
        ),
        ({"membership_id": t.owner.tenant_id, "territory_id": mine["id"], "until": until}, "membership_id"),
    ]
    for body, field in cases:
        r = await client.post("/api/v1/cross-territory-grants", json=body, headers=manager.headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
