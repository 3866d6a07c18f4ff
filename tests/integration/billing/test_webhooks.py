"""The Stripe webhook: signature, inbox, idempotent and order-independent handling, retries."""

from __future__ import annotations

import asyncio
import json
import secrets
from uuid import UUID

from tests.billing_fake import signed
from tests.helpers import connect, run_jobs, signup
from tests.integration.billing.support import (
    WEBHOOK_SECRET,
    checkout,
    deliver,
    deliver_all,
    sql,
    subscribe,
    tenant,
)


async def test_bad_signature_is_refused_and_nothing_is_stored(client, app, fake, admin_db):
    owner = await signup(client)
    sub_id = await subscribe(client, owner, fake, app)
    fake.set_status(sub_id, "canceled")
    event = fake.take_events()[-1]
    payload = json.dumps(event).encode()

    wrong_secret = await client.post(
        "/webhooks/stripe", content=payload, headers={"stripe-signature": signed(payload, "whsec_wrong")}
    )
    tampered = await client.post(
        "/webhooks/stripe",
        content=payload.replace(b"canceled", b"active__"),
        headers={"stripe-signature": signed(payload, WEBHOOK_SECRET)},
    )
    stale = await client.post(
        "/webhooks/stripe",
        content=payload,
        headers={"stripe-signature": signed(payload, WEBHOOK_SECRET, timestamp=1_000_000)},
    )
    unsigned = await client.post("/webhooks/stripe", content=payload)
    for r in (wrong_secret, tampered, stale, unsigned):
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await sql(admin_db, "SELECT count(*) FROM stripe_events WHERE id = $1", event["id"]) == 0
    await run_jobs(app)
    assert (await tenant(admin_db, owner))["billing_status"] == "active"


async def test_a_signed_body_that_is_not_a_snapshot_event_is_refused(client, admin_db):
    """Verification reads only what ingest stores (msgspec over the raw body): a correctly signed
    body that is not JSON, lacks the event's id or type, or is a thin (v2) event notification is a
    400 problem and stores nothing."""
    run = secrets.token_hex(4)
    bodies = [
        b"not json",
        json.dumps({"object": "event", "type": "invoice.paid"}).encode(),  # no id
        json.dumps({"id": f"evt_{run}_noid", "object": "event", "type": 7}).encode(),  # type not a string
        json.dumps({"id": f"evt_{run}_thin", "object": "v2.core.event", "type": "invoice.paid"}).encode(),
        b"\xff\xfe",  # not UTF-8
    ]
    for payload in bodies:
        r = await client.post(
            "/webhooks/stripe", content=payload, headers={"stripe-signature": signed(payload, WEBHOOK_SECRET)}
        )
        assert r.status_code == 400, (payload, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await sql(admin_db, "SELECT count(*) FROM stripe_events WHERE id LIKE $1", f"evt_{run}%") == 0
    assert await sql(admin_db, "SELECT count(*) FROM outbox WHERE job_id LIKE $1", f"%evt_{run}%") == 0

    # and a minimal signed event is stored with its type, time and mode read from the body
    event_id = f"evt_{run}_ok"
    event = {"id": event_id, "object": "event", "type": "invoice.paid", "created": 1_700_000_000}
    payload = json.dumps({**event, "livemode": True}).encode()
    r = await client.post(
        "/webhooks/stripe", content=payload, headers={"stripe-signature": signed(payload, WEBHOOK_SECRET)}
    )
    assert r.status_code == 200 and r.json() == {"received": True, "duplicate": False}, r.text
    async with connect(admin_db) as conn:
        row = await conn.fetchrow(
            "SELECT type, extract(epoch FROM created_at)::bigint AS created, livemode FROM stripe_events"
            " WHERE id = $1",
            event_id,
        )
    assert dict(row) == {"type": "invoice.paid", "created": 1_700_000_000, "livemode": True}


async def test_the_same_event_ten_times_is_handled_once(client, app, fake, admin_db):
    owner = await signup(client)
    session_id = await checkout(client, owner)
    sub_id = fake.complete_checkout(session_id)
    created = next(e for e in fake.take_events() if e["type"] == "customer.subscription.created")

    answers = [await deliver(client, created) for _ in range(10)]
    assert [r.status_code for r in answers] == [200] * 10
    assert [r.json()["duplicate"] for r in answers] == [False] + [True] * 9
    await run_jobs(app)
    # ARQ may run a job twice: run the handler again by hand
    from tenants.billing.jobs import handle_stripe_event

    assert await handle_stripe_event({}, created["id"]) == "duplicate"

    assert await sql(admin_db, "SELECT count(*) FROM stripe_events WHERE id = $1", created["id"]) == 1
    assert (
        await sql(
            admin_db, "SELECT count(*) FROM outbox WHERE job_id = $1", f"handle_stripe_event:{created['id']}"
        )
        == 1
    )
    assert await sql(admin_db, "SELECT outcome FROM stripe_events WHERE id = $1", created["id"]) == "synced"
    handled = await sql(
        admin_db,
        "SELECT count(*) FROM audit_log WHERE tenant = $1 AND action = 'billing.stripe_event'"
        " AND data->>'event' = $2",
        UUID(owner.tenant_id),
        created["id"],
    )
    assert handled == 1
    assert len(fake.reads_of(f"/v1/subscriptions/{sub_id}")) == 1
    row = await tenant(admin_db, owner)
    assert (row["billing_status"], row["stripe_subscription_id"], row["billing_plan"]) == (
        "active",
        sub_id,
        "team",
    )


async def test_update_before_create_ends_in_the_latest_state(client, app, fake, admin_db):
    owner = await signup(client)
    session_id = await checkout(client, owner)
    sub_id = fake.complete_checkout(session_id)
    fake.set_quantity(sub_id, 4)
    fake.set_status(sub_id, "past_due")
    events = fake.take_events()
    by_type = [e["type"] for e in events]
    assert by_type.index("customer.subscription.created") < by_type.index("customer.subscription.updated")

    for event in reversed(events):  # newest first: updated, failed payment… then created, completed
        assert (await deliver(client, event)).status_code == 200
    await run_jobs(app)

    row = await tenant(admin_db, owner)
    assert row["stripe_subscription_id"] == sub_id
    assert row["billing_status"] == "past_due" and row["past_due_since"] is not None
    assert row["seats_paid"] == 4
    assert row["stripe_customer_id"] == fake.subscriptions[sub_id]["customer"]
    outcomes = await sql(
        admin_db,
        "SELECT array_agg(DISTINCT outcome) FROM stripe_events WHERE id = ANY($1)",
        [e["id"] for e in events],
    )
    assert outcomes == ["synced"]


async def test_unknown_types_are_stored_and_ignored(client, app, fake, admin_db):
    event_id = f"evt_unknown_{secrets.token_hex(6)}"  # ARQ's result keys outlive a run: ids must be unique
    event = {
        "id": event_id,
        "object": "event",
        "type": "charge.refund.updated",
        "created": 1_700_000_000,
        "livemode": False,
        "data": {"object": {"id": "re_1", "object": "refund"}},
    }
    r = await deliver(client, event)
    assert r.status_code == 200 and r.json() == {"received": True, "duplicate": False}
    await run_jobs(app)
    async with connect(admin_db) as conn:
        row = await conn.fetchrow(
            "SELECT type, outcome, handled_at, tenant FROM stripe_events WHERE id = $1", event_id
        )
    assert row["type"] == "charge.refund.updated" and row["outcome"] == "ignored"
    assert row["handled_at"] is not None and row["tenant"] is None


async def test_a_failed_handling_is_retried_by_the_cron(client, app, fake, admin_db):
    from tenants.billing.events import requeue_unhandled

    owner = await signup(client)
    session_id = await checkout(client, owner)
    fake.complete_checkout(session_id)
    fake.fail_requests = 10  # Stripe answers 500 to the re-reads
    events = await deliver_all(client, fake, app)
    ids = [e["id"] for e in events]
    unhandled = await sql(
        admin_db,
        "SELECT count(*) FROM stripe_events WHERE id = ANY($1) AND handled_at IS NULL"
        " AND last_error IS NOT NULL",
        ids,
    )
    assert unhandled == len(ids)
    assert (await tenant(admin_db, owner))["billing_status"] == "trialing"

    fake.fail_requests = 0
    assert await requeue_unhandled(min_age_seconds=0) >= len(ids)
    await run_jobs(app)
    assert (
        await sql(
            admin_db, "SELECT count(*) FROM stripe_events WHERE id = ANY($1) AND handled_at IS NULL", ids
        )
        == 0
    )
    assert (await tenant(admin_db, owner))["billing_status"] == "active"
    # handled events are not queued again
    attempts = "SELECT sum(attempts) FROM stripe_events WHERE id = ANY($1)"
    before = await sql(admin_db, attempts, ids)
    await requeue_unhandled(min_age_seconds=0)
    assert await sql(admin_db, attempts, ids) == before


async def test_deliveries_arriving_together_are_stored_once_each_and_a_bad_one_fails_alone(client, admin_db):
    """Concurrent deliveries share one write (group commit): each distinct event is stored and queued
    once, exactly one copy of a repeated event answers new, and a row the database refuses (a
    creation time past the timestamp range) fails only its own request."""
    run = secrets.token_hex(4)

    def event(n: int, created: int = 1_700_000_000) -> dict[str, object]:
        return {"id": f"evt_{run}_{n}", "object": "event", "type": "ping.test", "created": created}

    async def count(sql_text: str, like: str) -> int:
        return int(await sql(admin_db, sql_text, like))

    bodies = [event(n) for n in range(30)] + [event(7)] * 5
    answers = await asyncio.gather(*(deliver(client, e) for e in bodies))
    assert [r.status_code for r in answers] == [200] * 35
    assert sum(not r.json()["duplicate"] for r in answers) == 30
    copies = [
        r.json()["duplicate"] for r, e in zip(answers, bodies, strict=True) if e["id"] == f"evt_{run}_7"
    ]
    assert sorted(copies) == [False] + [True] * 5
    like = f"evt_{run}_%"
    assert await count("SELECT count(*) FROM stripe_events WHERE id LIKE $1", like) == 30
    assert (
        await count("SELECT count(*) FROM outbox WHERE job_id LIKE $1", f"handle_stripe_event:{like}") == 30
    )
    # rows written by one transaction share its xmin: fewer commits than events
    assert await count("SELECT count(DISTINCT xmin::text) FROM stripe_events WHERE id LIKE $1", like) < 30

    mixed = [event(n) for n in range(100, 110)] + [event(99, created=10**15)]
    answers = await asyncio.gather(*(deliver(client, e) for e in mixed))
    assert [r.status_code for r in answers] == [200] * 10 + [500]
    assert await count("SELECT count(*) FROM stripe_events WHERE id LIKE $1", f"evt_{run}_1__") == 10
    assert await count("SELECT count(*) FROM stripe_events WHERE id LIKE $1", f"evt_{run}_99") == 0
