"""Vendor project registrations (项目报备): saved on a deal, exempting the customer from auto-reclaim,
gating claims and handovers by members outside the registering team until a manager approves, the
reminders before the protection ends, the list per vendor, and other tenants' ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app import db
from app.customers.pool.rules import reclaim_exempt_customer_ids_sql
from app.deals.registrations.reminders import remind_tenant
from app.localtime import local_today
from tenants.scope import TenantScope
from tests.factories import assign, customer, staff
from tests.helpers import Member, signup
from tests.integration.deals.support import World, deal, world

TODAY = local_today("Asia/Shanghai")  # the tenants of these tests


def body(**fields: Any) -> dict[str, Any]:
    data = {
        "vendor": "用友",
        "registration_no": "YY-2026-0001",
        "registered_on": TODAY.isoformat(),
        "protected_until": (TODAY + timedelta(days=90)).isoformat(),
    }
    data.update(fields)
    return data


async def registered(client: Any, w: World, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    d = await deal(client, w.rep, w.customer["id"])
    r = await client.put(f"/api/v1/deals/{d['id']}/registration", json=body(**fields), headers=w.rep.headers)
    assert r.status_code == 200, r.text
    return d, r.json()


async def outsider(client: Any, mailbox: Any, app: Any, w: World) -> Member:
    """A rep of the other province, granted the customer across territories by the owner."""
    rep2 = await staff(client, w.owner, mailbox, app, role="rep")
    await assign(client, w.owner, w.other_province["id"], rep2, "rep")
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    r = await client.post(
        "/api/v1/cross-territory-grants",
        json={"membership_id": rep2.membership_id, "customer_id": w.customer["id"], "until": until},
        headers=w.owner.headers,
    )
    assert r.status_code == 201, r.text
    return rep2


async def test_deal_saves_reads_and_validates_its_registration(client, mailbox, app):
    w = await world(client, mailbox, app)
    d, reg = await registered(client, w)
    assert reg["vendor"] == "用友" and reg["status"] == "active" and reg["live"] is True
    assert reg["territory_id"] == w.city["id"] and reg["days_left"] == 90
    r = await client.get(f"/api/v1/deals/{d['id']}/registration", headers=w.manager.headers)
    assert r.status_code == 200 and r.json()["registration_no"] == "YY-2026-0001"
    # dates the wrong way round: 422 on the field, nothing changed
    r = await client.put(
        f"/api/v1/deals/{d['id']}/registration",
        json=body(protected_until=(TODAY - timedelta(days=1)).isoformat()),
        headers=w.rep.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "protected_until"
    # another deal cannot hold the same number of the same vendor
    d2 = await deal(client, w.rep, w.customer["id"], title="二期")
    r = await client.put(f"/api/v1/deals/{d2['id']}/registration", json=body(), headers=w.rep.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "registration_no"
    # a manager of another province does not see the deal: 404
    r = await client.put(
        f"/api/v1/deals/{d['id']}/registration", json=body(), headers=w.other_manager.headers
    )
    assert r.status_code == 404
    # past its date it is no longer live
    r = await client.put(
        f"/api/v1/deals/{d['id']}/registration",
        json=body(
            registered_on=(TODAY - timedelta(days=100)).isoformat(),
            protected_until=(TODAY - timedelta(days=1)).isoformat(),
        ),
        headers=w.rep.headers,
    )
    assert r.status_code == 200 and r.json()["live"] is False
    r = await client.delete(f"/api/v1/deals/{d['id']}/registration", headers=w.rep.headers)
    assert r.status_code == 204
    r = await client.get(f"/api/v1/deals/{d['id']}/registration", headers=w.rep.headers)
    assert r.status_code == 404


async def test_live_registration_exempts_the_customer_from_reclaim(client, mailbox, app):
    w = await world(client, mailbox, app)
    other = await customer(client, w.rep, w.city["id"])
    await registered(client, w)
    expired = await deal(client, w.rep, other["id"])
    r = await client.put(
        f"/api/v1/deals/{expired['id']}/registration",
        json=body(
            registration_no="YY-OLD",
            registered_on=(TODAY - timedelta(days=60)).isoformat(),
            protected_until=(TODAY - timedelta(days=1)).isoformat(),
        ),
        headers=w.rep.headers,
    )
    assert r.status_code == 200
    async with db.transaction(UUID(w.owner.tenant_id)) as tx:
        rows = await tx.fetch(reclaim_exempt_customer_ids_sql("$1"), UUID(w.owner.tenant_id))
    assert {(str(r["customer_id"]), r["code"]) for r in rows} == {(w.customer["id"], "vendor_registration")}
    r = await client.get(f"/api/v1/customers/{w.customer['id']}/pool-status", headers=w.rep.headers)
    assert r.json()["reclaim"]["exempt_reasons"] == ["vendor_registration"], r.text


async def test_claim_outside_the_team_is_refused_until_a_manager_approves(client, mailbox, app):
    w = await world(client, mailbox, app)
    _, reg = await registered(client, w)
    rep2 = await outsider(client, mailbox, app, w)
    r = await client.post(
        f"/api/v1/customers/{w.customer['id']}/release", json={"reason": "other"}, headers=w.rep.headers
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/customers/{w.customer['id']}/claim", headers=rep2.headers)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["rule"] == "vendor_registration" and problem["params"]["registration_id"] == reg["id"]
    assert "用友" in problem["detail"]
    # the member asks; a second request while one is pending is 409
    r = await client.post(f"/api/v1/registrations/{reg['id']}/claim-approval", headers=rep2.headers)
    assert r.status_code == 201, r.text
    approval = r.json()
    assert approval["kind"] == "registration" and approval["status"] == "pending"
    r = await client.post(f"/api/v1/registrations/{reg['id']}/claim-approval", headers=rep2.headers)
    assert r.status_code == 409
    assert (
        await client.post(f"/api/v1/customers/{w.customer['id']}/claim", headers=rep2.headers)
    ).status_code == 409
    # the requester cannot approve; the province's manager does and the requester is told
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", json={}, headers=rep2.headers)
    assert r.status_code in (403, 404)
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", json={}, headers=w.manager.headers)
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/notifications", headers=rep2.headers)
    assert any(n["kind"] == "registration_approved" and "用友" in n["message"] for n in r.json()["items"])
    r = await client.post(f"/api/v1/customers/{w.customer['id']}/claim", headers=rep2.headers)
    assert r.status_code == 200, r.text
    assert r.json()["owner_membership_id"] == rep2.membership_id


async def test_claim_inside_the_team_needs_no_approval(client, mailbox, app):
    w = await world(client, mailbox, app)
    _, reg = await registered(client, w)
    rep3 = await staff(client, w.owner, mailbox, app, role="rep")
    await assign(client, w.owner, w.city["id"], rep3, "rep")
    r = await client.post(
        f"/api/v1/customers/{w.customer['id']}/release", json={"reason": "other"}, headers=w.rep.headers
    )
    assert r.status_code == 200
    r = await client.post(f"/api/v1/registrations/{reg['id']}/claim-approval", headers=rep3.headers)
    assert r.status_code == 409  # nothing to approve
    r = await client.post(f"/api/v1/customers/{w.customer['id']}/claim", headers=rep3.headers)
    assert r.status_code == 200, r.text


async def test_handover_plan_names_the_registration_conflict(client, mailbox, app):
    w = await world(client, mailbox, app)
    await registered(client, w)
    rep2 = await staff(client, w.owner, mailbox, app, role="rep")
    await assign(client, w.owner, w.other_province["id"], rep2, "rep")
    rep3 = await staff(client, w.owner, mailbox, app, role="rep")
    await assign(client, w.owner, w.city["id"], rep3, "rep")
    plans = {}
    for who in (rep2, rep3):
        r = await client.post(
            "/api/v1/handovers",
            json={
                "reason": "离职交接",
                "selection": {"customer_ids": [w.customer["id"]]},
                "targets": [{"membership_id": who.membership_id}],
                "mode": "single",
            },
            headers=w.owner.headers,
        )
        assert r.status_code == 201, r.text
        plans[who.membership_id] = r.json()["preview"]["registration_conflicts"]
    [conflict] = plans[rep2.membership_id]
    assert conflict["customer_id"] == w.customer["id"] and conflict["membership_id"] == rep2.membership_id
    assert conflict["vendor"] == "用友" and conflict["territory_name"] == w.city["name"]
    assert plans[rep3.membership_id] == []


async def test_owner_is_reminded_once_before_the_window_ends(client, mailbox, app):
    w = await world(client, mailbox, app)
    d, _ = await registered(client, w, protected_until=(TODAY + timedelta(days=10)).isoformat())
    other = await customer(client, w.rep, w.city["id"])
    far = await deal(client, w.rep, other["id"])
    r = await client.put(
        f"/api/v1/deals/{far['id']}/registration", json=body(registration_no="YY-FAR"), headers=w.rep.headers
    )
    assert r.status_code == 200
    scope = await TenantScope.for_job(w.owner.tenant_id)
    assert await remind_tenant(scope, TODAY, 30) == 1
    assert await remind_tenant(scope, TODAY, 30) == 0  # idempotent
    r = await client.get("/api/v1/notifications", headers=w.rep.headers)
    [notice] = [n for n in r.json()["items"] if n["kind"] == "registration_expiring"]
    assert notice["subject_id"] == d["id"] and (TODAY + timedelta(days=10)).isoformat() in notice["message"]
    # extended: reminded again before the new end
    r = await client.put(
        f"/api/v1/deals/{d['id']}/registration",
        json=body(protected_until=(TODAY + timedelta(days=20)).isoformat()),
        headers=w.rep.headers,
    )
    assert await remind_tenant(scope, TODAY, 30) == 1


async def test_managers_list_registrations_per_vendor(client, mailbox, app):
    w = await world(client, mailbox, app)
    await registered(client, w, protected_until=(TODAY + timedelta(days=40)).isoformat())
    other = await customer(client, w.rep, w.city["id"])
    d2 = await deal(client, w.rep, other["id"])
    r = await client.put(
        f"/api/v1/deals/{d2['id']}/registration",
        json=body(
            vendor="金蝶", registration_no="KD-1", protected_until=(TODAY + timedelta(days=5)).isoformat()
        ),
        headers=w.rep.headers,
    )
    assert r.status_code == 200
    r = await client.get("/api/v1/registrations", headers=w.manager.headers)
    assert r.status_code == 200, r.text
    groups = {g["vendor"]: g for g in r.json()}
    assert set(groups) == {"用友", "金蝶"} and groups["金蝶"]["registrations"][0]["days_left"] == 5
    r = await client.get("/api/v1/registrations?vendor=金蝶", headers=w.owner.headers)
    assert [g["vendor"] for g in r.json()] == ["金蝶"]
    assert (await client.get("/api/v1/registrations", headers=w.other_manager.headers)).json() == []
    assert (await client.get("/api/v1/registrations", headers=w.rep.headers)).status_code == 403


async def test_another_tenants_ids_are_404(client, mailbox, app):
    w = await world(client, mailbox, app)
    d, reg = await registered(client, w)
    stranger = await signup(client)
    for method, path in (
        ("GET", f"/api/v1/deals/{d['id']}/registration"),
        ("PUT", f"/api/v1/deals/{d['id']}/registration"),
        ("DELETE", f"/api/v1/deals/{d['id']}/registration"),
        ("POST", f"/api/v1/registrations/{reg['id']}/claim-approval"),
    ):
        r = await client.request(
            method, path, json=body() if method == "PUT" else None, headers=stranger.headers
        )
        assert r.status_code == 404, (method, path, r.text)
    assert (await client.get("/api/v1/registrations", headers=stranger.headers)).json() == []
