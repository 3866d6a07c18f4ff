"""GET /api/v1/billing, Checkout and the Customer Portal; roles, tenants, billing off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.settings import get_settings
from tests.helpers import add_member, signup
from tests.integration.billing.support import checkout, subscribe, tenant


async def test_a_new_tenant_is_on_a_card_less_trial(client, app, fake, admin_db):
    owner = await signup(client)
    r = await client.get("/api/v1/billing", headers=owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["enabled"] is True and body["status"] == "trialing" and body["access"] == "full"
    assert body["plan"] is None and body["has_subscription"] is False
    assert body["seats_used"] == 1 and body["seats_paid"] == get_settings().billing_trial_seats
    trial_end = datetime.fromisoformat(body["trial_ends_at"])
    assert timedelta(days=13, hours=23) < trial_end - datetime.now(UTC) <= timedelta(days=14)
    assert {p["code"] for p in body["plans"]} == {"starter", "team"}
    # no Stripe customer until one is needed
    assert not [
        c for c in fake.writes_to("/v1/customers") if c.params["metadata"]["tenant_id"] == owner.tenant_id
    ]


async def test_checkout_creates_one_customer_and_a_subscription_session(client, app, fake, mailbox, admin_db):
    owner = await signup(client)
    await add_member(client, owner, mailbox, app)
    before = len(fake.requests)
    r = await client.post("/api/v1/billing/checkout", json={"plan": "team"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["url"].startswith(fake.url + "/pay/cs_test_")
    again = await client.post(
        "/api/v1/billing/checkout", json={"plan": "team", "seats": 5}, headers=owner.headers
    )
    assert again.status_code == 200

    calls = fake.requests[before:]
    customers = [c for c in calls if c.path == "/v1/customers"]
    assert len(customers) == 1
    assert customers[0].idempotency_key == f"acre-customer-{owner.tenant_id}"
    assert customers[0].params["metadata"]["tenant_id"] == owner.tenant_id
    sessions = [c for c in calls if c.path == "/v1/checkout/sessions"]
    assert len(sessions) == 2 and len({s.idempotency_key for s in sessions}) == 2
    first, second = (s.params for s in sessions)
    assert first["mode"] == "subscription" and first["client_reference_id"] == owner.tenant_id
    assert first["metadata"]["tenant_id"] == owner.tenant_id
    assert first["subscription_data"]["metadata"] == {"tenant_id": owner.tenant_id, "plan": "team"}
    assert first["line_items"][0] == {"price": "price_acre_team", "quantity": "2"}  # the seats in use
    assert second["line_items"][0]["quantity"] == "5"
    assert first["customer"] == second["customer"] == (await tenant(admin_db, owner))["stripe_customer_id"]
    assert (
        int(first["subscription_data"]["trial_end"]) > datetime.now(UTC).timestamp()
    )  # the trial carries over

    starter = await client.post("/api/v1/billing/checkout", json={"plan": "starter"}, headers=owner.headers)
    assert starter.status_code == 200
    assert fake.requests[-1].params["line_items"][0] == {"price": "price_acre_starter", "quantity": "1"}
    unknown = await client.post("/api/v1/billing/checkout", json={"plan": "gold"}, headers=owner.headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "plan"


async def test_portal_and_a_second_checkout_once_subscribed(client, app, fake, admin_db):
    owner = await signup(client)
    await subscribe(client, owner, fake, app)
    customer = (await tenant(admin_db, owner))["stripe_customer_id"]
    r = await client.post("/api/v1/billing/portal", headers=owner.headers)
    assert r.status_code == 200 and r.json()["url"] == f"{fake.url}/portal/{customer}"
    assert fake.requests[-1].params["customer"] == customer
    assert fake.requests[-1].params["return_url"].endswith("/billing")
    r = await client.post("/api/v1/billing/checkout", json={"plan": "team"}, headers=owner.headers)
    assert r.status_code == 409, r.text
    body = (await client.get("/api/v1/billing", headers=owner.headers)).json()
    assert (body["status"], body["plan"], body["plan_name"], body["seats_paid"]) == (
        "active",
        "team",
        "Team",
        1,
    )
    assert body["current_period_end"] is not None


async def test_starter_is_refused_when_more_members_than_it_allows(client, app, fake, mailbox):
    owner = await signup(client)
    for _ in range(3):
        await add_member(client, owner, mailbox, app)
    r = await client.post("/api/v1/billing/checkout", json={"plan": "starter"}, headers=owner.headers)
    assert r.status_code == 409 and "Starter" in r.json()["detail"]


async def test_reps_get_403_and_other_tenants_see_only_their_own(client, app, fake, mailbox, admin_db):
    owner_a = await signup(client)
    rep = await add_member(client, owner_a, mailbox, app, role="rep")
    for method, path in (
        ("GET", "/api/v1/billing"),
        ("POST", "/api/v1/billing/checkout"),
        ("POST", "/api/v1/billing/portal"),
    ):
        r = await client.request(
            method, path, headers=rep.headers, json={"plan": "team"} if "checkout" in path else None
        )
        assert r.status_code == 403, (path, r.text)
    await subscribe(client, owner_a, fake, app)
    owner_b = await signup(client)
    body_b = (await client.get("/api/v1/billing", headers=owner_b.headers)).json()
    assert body_b["status"] == "trialing" and body_b["plan"] is None and body_b["seats_used"] == 1
    await checkout(client, owner_b)
    a, b = await tenant(admin_db, owner_a), await tenant(admin_db, owner_b)
    assert a["stripe_customer_id"] != b["stripe_customer_id"]
    portal_b = await client.post("/api/v1/billing/portal", headers=owner_b.headers)
    assert portal_b.json()["url"].endswith(b["stripe_customer_id"])


async def test_billing_off_says_so(client, app, fake, monkeypatch: pytest.MonkeyPatch):
    owner = await signup(client)
    monkeypatch.delenv("ACRE_STRIPE_SECRET_KEY")
    get_settings.cache_clear()
    r = await client.get("/api/v1/billing", headers=owner.headers)
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["status"] == "free"
    for path in ("/api/v1/billing/checkout", "/api/v1/billing/portal"):
        r = await client.post(
            path, json={"plan": "team"} if "checkout" in path else None, headers=owner.headers
        )
        assert r.status_code == 409 and r.json()["type"] == "/problems/billing-off", r.text
    r = await client.post("/webhooks/stripe", content=b"{}", headers={"stripe-signature": "t=1,v1=x"})
    assert r.status_code == 409
