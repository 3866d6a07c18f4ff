"""The Stripe event inbox: :func:`ingest` verifies and stores an event (answering at once), the
``handle_stripe_event`` job runs :func:`handle_event`, the cron :func:`requeue_unhandled` retries
what was not handled.

Delivery is at least once and in any order, so handling never trusts the event's snapshot: it
re-reads the subscription from Stripe and writes what Stripe says now. The event row is locked and
marked ``handled_at`` in the same transaction as the tenant's update, so an event is applied once
however many copies arrive or however often the job runs."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import stripe

from app import audit, db, outbox
from app.errors import BadRequest
from app.settings import get_settings
from tenants.billing import stripe_api
from tenants.billing.entitlements import LIVE_STATUSES

HANDLED_TYPES = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
_INSERT = (
    "INSERT INTO stripe_events (id, type, created_at, livemode, payload)"
    " SELECT i, t, to_timestamp(c), l, p::jsonb FROM unnest($1::text[], $2::text[], $3::bigint[],"
    " $4::bool[], $5::text[]) AS u(i, t, c, l, p) ON CONFLICT (id) DO NOTHING RETURNING id"
)
_BATCH = 200


def verify(payload: bytes, signature: str | None) -> stripe_api.WebhookEvent:
    """The verified event's id, type, creation time and mode, or 400."""
    try:
        return stripe_api.verify_event(payload, signature)
    except (stripe.SignatureVerificationError, ValueError):
        raise BadRequest("The Stripe signature of this request is not valid") from None


async def ingest(payload: bytes, signature: str | None) -> bool:
    """Verify and store one webhook delivery and queue its handling, durably, before answering.
    Returns False for a copy of an event already stored (nothing is queued again). Raises 400 on a
    bad signature, before anything is stored.

    Deliveries arriving together share one transaction (group commit): the first one of an idle
    moment is written at once, and those arriving while a write is in flight go in the next one,
    so a burst costs one commit per batch instead of one per event, and nobody waits on a timer."""
    event = verify(payload, signature)
    return await _inbox().submit(event, payload.decode())


class _Inbox:
    def __init__(self) -> None:
        self.pending: list[tuple[stripe_api.WebhookEvent, str, asyncio.Future[bool]]] = []
        self.writer: asyncio.Task[None] | None = None

    def submit(self, event: stripe_api.WebhookEvent, payload: str) -> asyncio.Future[bool]:
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.pending.append((event, payload, stored))
        if self.writer is None:  # its own task: a caller that goes away cannot cancel others' write
            self.writer = asyncio.create_task(self._write())
        return stored

    async def _write(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:_BATCH], self.pending[_BATCH:]
                try:
                    _settle(batch, await _store(batch))
                except asyncpg.DataError:  # one bad row must not fail the others: each alone, then
                    for one in batch:
                        await _write_alone(one)
                except Exception as error:  # the database is away: everyone hears it (Stripe retries)
                    _fail(batch, error)
        finally:
            self.writer = None


async def _write_alone(one: tuple[stripe_api.WebhookEvent, str, asyncio.Future[bool]]) -> None:
    try:
        _settle([one], await _store([one]))
    except Exception as error:
        _fail([one], error)


def _fail(batch: list[tuple[stripe_api.WebhookEvent, str, asyncio.Future[bool]]], error: Exception) -> None:
    for _, _, stored in batch:
        if not stored.done():
            stored.set_exception(error)


_inboxes: dict[asyncio.AbstractEventLoop, _Inbox] = {}


def _inbox() -> _Inbox:
    loop = asyncio.get_running_loop()
    inbox = _inboxes.get(loop)
    if inbox is None:
        _inboxes.clear()  # one event loop per process outside tests
        inbox = _inboxes[loop] = _Inbox()
    return inbox


async def _store(batch: list[tuple[stripe_api.WebhookEvent, str, asyncio.Future[bool]]]) -> set[str]:
    first = {event.id: (event, payload) for event, payload, _ in reversed(batch)}
    rows = list(first.values())
    async with db.transaction(None) as tx:
        inserted = {
            r["id"]
            for r in await tx.fetch(
                _INSERT,
                [e.id for e, _ in rows],
                [e.type for e, _ in rows],
                [e.created or 0 for e, _ in rows],
                [bool(e.livemode) for e, _ in rows],
                [p for _, p in rows],
            )
        }
        await outbox.add_jobs(tx, "handle_stripe_event", [(i, (i,)) for i in inserted])
    return inserted


def _settle(
    batch: list[tuple[stripe_api.WebhookEvent, str, asyncio.Future[bool]]], inserted: set[str]
) -> None:
    """The first copy of a newly stored event gets True; later copies, in or before this batch, False."""
    for event, _, stored in batch:
        new = event.id in inserted
        inserted.discard(event.id)
        if not stored.done():
            stored.set_result(new)


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _subscription_id(event_type: str, obj: dict[str, Any]) -> str | None:
    if event_type.startswith("customer.subscription."):
        return str(obj["id"])
    if event_type == "checkout.session.completed":
        return obj.get("subscription") if obj.get("mode") == "subscription" else None
    # invoices: the subscription moved under parent.subscription_details in 2025 API versions
    sub = _get(obj, "parent", "subscription_details", "subscription") or obj.get("subscription")
    return str(sub) if sub else None


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


async def _tenant_for(obj: dict[str, Any]) -> UUID | None:
    """The tenant an event's object belongs to: our ``tenant_id`` metadata or the Checkout
    ``client_reference_id`` when it matches the customer, else the tenant owning the customer."""
    claimed = (
        _uuid(_get(obj, "metadata", "tenant_id"))
        or _uuid(obj.get("client_reference_id"))
        or _uuid(_get(obj, "parent", "subscription_details", "metadata", "tenant_id"))
    )
    customer = obj.get("customer")
    customer = customer.get("id") if isinstance(customer, dict) else customer
    async with db.transaction(None) as tx:
        if claimed is not None:
            owner = await tx.fetchrow("SELECT id, stripe_customer_id FROM tenants WHERE id = $1", claimed)
            if owner is not None and (owner["stripe_customer_id"] in (None, customer) or customer is None):
                return claimed
        if customer:
            found: UUID | None = await tx.fetchval(
                "SELECT id FROM tenants WHERE stripe_customer_id = $1", customer
            )
            return found
    return None


async def _mark(tx: db.Tx, event_id: str, outcome: str, tenant: UUID | None) -> None:
    await tx.execute(
        "UPDATE stripe_events SET handled_at = now(), outcome = $2, tenant = $3, last_error = NULL"
        " WHERE id = $1 AND handled_at IS NULL",
        event_id,
        outcome,
        tenant,
    )


async def apply_subscription(tx: db.Tx, tenant: asyncpg.Record, sub: stripe_api.Subscription) -> str:
    """Write the subscription's state onto the (locked) tenant row. An event about another
    subscription than the tenant's live one (an old, ended one) changes nothing."""
    current = tenant["stripe_subscription_id"]
    current_live = tenant["billing_status"] in LIVE_STATUSES
    if current and current != sub.id and current_live and sub.status not in LIVE_STATUSES:
        return "stale-subscription"
    settings = get_settings()
    plan = next((p for p in settings.billing_plans if p.price_id == sub.price_id), None) or settings.plan(
        sub.metadata.get("plan")
    )
    same = current == sub.id
    if sub.status == "past_due":
        past_due_since = (tenant["past_due_since"] if same else None) or datetime.now(UTC)
    else:
        past_due_since = None
    await tx.execute(
        "UPDATE tenants SET stripe_subscription_id = $2,"
        " stripe_customer_id = coalesce(stripe_customer_id, $3),"
        " billing_plan = coalesce($4, billing_plan), billing_status = $5, seats_paid = $6,"
        " current_period_end = $7, past_due_since = $8, trial_ends_at = coalesce($9, trial_ends_at),"
        " billing_synced_at = now() WHERE id = $1",
        tenant["id"],
        sub.id,
        sub.customer,
        plan.code if plan else None,
        sub.status,
        sub.quantity,
        sub.current_period_end,
        past_due_since,
        sub.trial_end,
    )
    return "synced"


async def handle_event(event_id: str) -> str:
    """Apply one stored event. Returns the outcome: "synced", "ignored" (a type we do not handle),
    "no-tenant", "no-subscription", "stale-subscription", "duplicate" (handled before), "missing"."""
    async with db.transaction(None) as tx:
        row = await tx.fetchrow("SELECT type, payload, handled_at FROM stripe_events WHERE id = $1", event_id)
    if row is None:
        return "missing"
    if row["handled_at"] is not None:
        return "duplicate"
    event_type: str = row["type"]
    payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
    obj: dict[str, Any] = _get(payload, "data", "object") or {}
    tenant_id = await _tenant_for(obj) if event_type in HANDLED_TYPES else None
    if tenant_id is None:
        outcome = "ignored" if event_type not in HANDLED_TYPES else "no-tenant"
        async with db.transaction(None) as tx:
            await _mark(tx, event_id, outcome, None)
        return outcome
    async with db.transaction(tenant_id) as tx:
        locked = await tx.fetchrow("SELECT handled_at FROM stripe_events WHERE id = $1 FOR UPDATE", event_id)
        if locked is None or locked["handled_at"] is not None:
            return "duplicate"
        tenant = await tx.fetchrow("SELECT * FROM tenants WHERE id = $1 FOR UPDATE", tenant_id)
        assert tenant is not None
        sub_id = _subscription_id(event_type, obj)
        if sub_id is None:
            outcome = "no-subscription"
        else:
            outcome = await apply_subscription(tx, tenant, await stripe_api.get_subscription(sub_id))
        await _mark(tx, event_id, outcome, tenant_id)
        await audit.record(
            tx,
            None,
            "billing.stripe_event",
            "tenant",
            tenant_id,
            data={
                "event": event_id,
                "type": event_type,
                "outcome": outcome,
                "subscription": sub_id,
            },
        )
    return outcome


async def record_failure(event_id: str, error: BaseException) -> None:
    async with db.transaction(None) as tx:
        await tx.execute(
            "UPDATE stripe_events SET last_error = $2 WHERE id = $1", event_id, repr(error)[:1000]
        )


async def requeue_unhandled(min_age_seconds: int = 60, limit: int = 500) -> int:
    """Queue again the events not handled yet (a failed or lost job), backing off exponentially per
    event: the n-th retry waits until 2^n minutes after receipt. Returns how many were queued."""
    async with db.transaction(None) as tx:
        rows = await tx.fetch(
            "UPDATE stripe_events SET attempts = attempts + 1 WHERE id IN ("
            "  SELECT id FROM stripe_events WHERE handled_at IS NULL"
            "  AND received_at <= now() - make_interval(secs => $1) * power(2, least(attempts, 12))"
            "  ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, attempts",
            float(min_age_seconds),
            limit,
        )
        for row in rows:
            key = f"{row['id']}:retry-{row['attempts']}"
            await outbox.add_job(tx, "handle_stripe_event", row["id"], key=key)
    return len(rows)
