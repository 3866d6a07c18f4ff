"""ARQ jobs and crons of billing. At least once: each checks state first (see events and seats)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tenants.billing import events, seats
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope


async def handle_stripe_event(ctx: dict[str, Any], event_id: str) -> str:
    """Apply one stored Stripe event. A failure is recorded on the event and re-raised; the
    ``requeue_stripe_events`` cron queues it again."""
    try:
        return await events.handle_event(event_id)
    except Exception as exc:
        await events.record_failure(event_id, exc)
        raise


async def raise_subscription_seats(ctx: dict[str, Any], tenant_id: str, quantity: int) -> str:
    """Raise a per-seat subscription to at least ``quantity`` (a member was added beyond the paid seats
    on a plan that auto-adds them)."""
    return await seats.sync_seats(UUID(tenant_id), minimum=int(quantity))


async def requeue_stripe_events(ctx: dict[str, Any]) -> int:
    """Cron: queue again the Stripe events still unhandled (with per-event backoff)."""
    return await events.requeue_unhandled()


async def reconcile_seats(ctx: dict[str, Any]) -> int:
    """Cron: for each per-seat subscription, Stripe quantity = seats in use (raised at once, lowered
    only at renewal). Returns how many subscriptions it changed; one tenant's failure skips only it."""

    async def reconcile(scope: TenantScope) -> int:
        return int(await seats.sync_seats(scope.tenant_id) in ("raised", "lowered"))

    return await for_each_tenant("seat reconciliation", reconcile, only=await seats.per_seat_tenants())
