"""Entitlements through the API: grace after a failed payment, read-only, back to full access."""

from __future__ import annotations

import secrets
from uuid import UUID

from tests.helpers import signup
from tests.integration.billing.support import deliver_all, sql, subscribe, tenant


async def _write(client, member) -> int:
    r = await client.post(
        "/api/v1/invitations", json={"email": f"x-{secrets.token_hex(4)}@example.com"}, headers=member.headers
    )
    return r.status_code  # type: ignore[no-any-return]


async def _reads_ok(client, member) -> None:
    for path in ("/api/v1/me", "/api/v1/members", "/api/v1/invitations", "/api/v1/billing"):
        r = await client.get(path, headers=member.headers)
        assert r.status_code == 200, (path, r.text)


async def test_payment_failure_grace_then_read_only_then_paid_again(client, app, fake, admin_db):
    owner = await signup(client, locale="zh-CN")
    sub_id = await subscribe(client, owner, fake, app)
    me = (await client.get("/api/v1/me", headers=owner.headers)).json()
    assert me["warnings"] == []

    fake.set_status(sub_id, "past_due")
    await deliver_all(client, fake, app)
    row = await tenant(admin_db, owner)
    assert row["billing_status"] == "past_due" and row["past_due_since"] is not None
    # grace: writes still work, /me warns (in the member's language)
    assert await _write(client, owner) == 201
    me = (await client.get("/api/v1/me", headers=owner.headers)).json()
    assert len(me["warnings"]) == 1 and "付款失败" in me["warnings"][0]
    billing = (await client.get("/api/v1/billing", headers=owner.headers)).json()
    assert billing["access"] == "full" and billing["grace_ends_at"] is not None

    # the grace period runs out
    await sql(
        admin_db,
        "UPDATE tenants SET past_due_since = now() - interval '7 days 1 minute' WHERE id = $1",
        UUID(owner.tenant_id),
    )
    r = await client.post("/api/v1/invitations", json={"email": "late@example.com"}, headers=owner.headers)
    assert r.status_code == 402, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "/problems/payment-required" and body["billing"] == "/api/v1/billing"
    assert body["reason"] == "payment_overdue" and "付款已逾期" in body["detail"]
    patch = await client.patch(
        f"/api/v1/members/{owner.membership_id}", json={"role": "owner"}, headers=owner.headers
    )
    assert patch.status_code == 402
    await _reads_ok(client, owner)
    assert (await client.post("/api/v1/billing/portal", headers=owner.headers)).status_code == 200
    assert (await client.get("/api/v1/billing", headers=owner.headers)).json()["access"] == "read_only"

    # paid again: full access, no warning
    fake.set_status(sub_id, "active")
    await deliver_all(client, fake, app)
    assert (await tenant(admin_db, owner))["past_due_since"] is None
    assert await _write(client, owner) == 201
    assert (await client.get("/api/v1/me", headers=owner.headers)).json()["warnings"] == []


async def test_trial_expiry_makes_the_tenant_read_only(client, app, fake, admin_db):
    owner = await signup(client)
    assert await _write(client, owner) == 201
    await sql(
        admin_db,
        "UPDATE tenants SET trial_ends_at = now() - interval '1 minute' WHERE id = $1",
        UUID(owner.tenant_id),
    )
    r = await client.post(
        "/api/v1/invitations", json={"email": "after-trial@example.com"}, headers=owner.headers
    )
    assert r.status_code == 402 and r.json()["reason"] == "trial_ended"
    await _reads_ok(client, owner)
    me = (await client.get("/api/v1/me", headers=owner.headers)).json()
    assert me["warnings"] and "trial has ended" in me["warnings"][0]
    # choosing a plan stays possible; once paid, writes work again
    await subscribe(client, owner, fake, app)
    assert await _write(client, owner) == 201


async def test_a_canceled_subscription_is_read_only(client, app, fake, admin_db):
    owner = await signup(client)
    sub_id = await subscribe(client, owner, fake, app)
    fake.set_status(sub_id, "canceled")
    events = await deliver_all(client, fake, app)
    assert events[-1]["type"] == "customer.subscription.deleted"
    assert (await tenant(admin_db, owner))["billing_status"] == "canceled"
    r = await client.patch(
        f"/api/v1/members/{owner.membership_id}", json={"role": "owner"}, headers=owner.headers
    )
    assert r.status_code == 402 and r.json()["reason"] == "subscription_ended"
    await _reads_ok(client, owner)
    assert (await client.post("/api/v1/auth/logout", headers=owner.headers)).status_code == 200
