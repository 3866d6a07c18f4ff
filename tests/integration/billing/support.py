"""Helpers of the billing tests: deliver signed webhooks, subscribe a tenant through Checkout."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import httpx

from tests.billing_fake import StripeFake, signed
from tests.helpers import Member, connect, run_jobs

WEBHOOK_SECRET = "whsec_test_acre_billing"


async def deliver(client: Any, event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> httpx.Response:
    payload = json.dumps(event).encode()
    headers = {"stripe-signature": signed(payload, secret), "content-type": "application/json"}
    return await client.post("/webhooks/stripe", content=payload, headers=headers)  # type: ignore[no-any-return]


async def deliver_all(client: Any, fake: StripeFake, app: Any) -> list[dict[str, Any]]:
    """Deliver every event the fake queued, in order, then run the worker."""
    events = fake.take_events()
    for event in events:
        r = await deliver(client, event)
        assert r.status_code == 200, r.text
    await run_jobs(app)
    return events


async def checkout(client: Any, owner: Member, plan: str = "team", seats: int | None = None) -> str:
    body: dict[str, Any] = {"plan": plan} if seats is None else {"plan": plan, "seats": seats}
    r = await client.post("/api/v1/billing/checkout", json=body, headers=owner.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["session_id"])


async def subscribe(
    client: Any, owner: Member, fake: StripeFake, app: Any, plan: str = "team", seats: int | None = None
) -> str:
    """Checkout, the buyer pays, Stripe's events are delivered and handled. Returns the subscription id."""
    session_id = await checkout(client, owner, plan, seats)
    sub_id = fake.complete_checkout(session_id)
    await deliver_all(client, fake, app)
    return sub_id


async def tenant(admin_db: str, owner: Member) -> dict[str, Any]:
    async with connect(admin_db) as conn:
        row = await conn.fetchrow("SELECT * FROM tenants WHERE id = $1", UUID(owner.tenant_id))
    assert row is not None
    return dict(row)


async def sql(admin_db: str, query: str, *args: Any) -> Any:
    async with connect(admin_db) as conn:
        return await conn.fetchval(query, *args)
