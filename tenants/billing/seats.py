"""Seats: a seat is an active member. The hook :func:`ensure_seat_available` runs before anything adds
one (invitation, acceptance, reactivation); :func:`sync_seats` keeps the Stripe quantity of a per-seat
subscription equal to the seats in use (the auto-add job and the reconciliation cron).

Paid seats: a per-seat plan's subscription quantity, a flat plan's ``max_seats``, the trial's
``ACRE_BILLING_TRIAL_SEATS`` while there is no subscription; ``tenants.seat_limit``, when an operator sets
it, caps all of them (and is the only limit with billing off).

The quantity is never lowered mid-period (a high-water mark): only within ``RENEWAL_WINDOW`` of the
period end, without proration, so the next invoice charges the seats in use. Handling a webhook never
writes to Stripe, so our own quantity changes cannot loop back into more changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from app import audit, db, outbox
from app.errors import PaymentRequired
from app.settings import BillingPlan, Settings, get_settings
from tenants.billing import stripe_api
from tenants.billing.entitlements import LIVE_STATUSES, BillingState, evaluate

RENEWAL_WINDOW = timedelta(days=1)

TENANT_SQL = (
    "SELECT t.*, t.stripe_subscription_id IS NOT NULL AS has_subscription,"
    " (SELECT count(*) FROM memberships m WHERE m.tenant = t.id AND m.active) AS used,"
    " (SELECT count(*) FROM invitations i WHERE i.tenant = t.id AND i.accepted_at IS NULL"
    "   AND i.revoked_at IS NULL AND i.expires_at > now()) AS invited"
    " FROM tenants t WHERE t.id = $1"
)


async def tenant_row(tx: db.Tx, *, lock: bool = False) -> asyncpg.Record | None:
    """The tenant's row with ``used`` (active members) and ``invited`` (open invitations) counts;
    ``lock`` serialises seat changes and billing updates of this tenant."""
    return await tx.fetchrow(TENANT_SQL + (" FOR UPDATE OF t" if lock else ""), tx.tenant_id)


def live_plan(row: Any, settings: Settings) -> tuple[bool, BillingPlan | None]:
    """(whether a subscription is live, its plan if known)."""
    live = bool(row["stripe_subscription_id"]) and row["billing_status"] in LIVE_STATUSES
    return live, settings.plan(row["billing_plan"]) if live else None


def seat_allowance(row: Any, settings: Settings) -> int | None:
    """The seats the tenant may fill (None = no limit)."""
    limits: list[int] = [row["seat_limit"]] if row["seat_limit"] is not None else []
    if settings.billing_enabled:
        live, plan = live_plan(row, settings)
        if live and (plan is None or plan.per_seat):
            limits.append(row["seats_paid"] or 0)
        if live and plan is not None and plan.max_seats is not None:
            limits.append(plan.max_seats)
        if not live and settings.billing_trial_seats is not None:
            limits.append(settings.billing_trial_seats)
    return min(limits) if limits else None


def _can_auto_add(row: Any, plan: BillingPlan | None, needed: int) -> bool:
    if plan is None or not (plan.per_seat and plan.auto_add_seats):
        return False
    caps = [c for c in (plan.max_seats, row["seat_limit"]) if c is not None]
    return all(needed <= c for c in caps)


async def ensure_seat_available(tx: db.Tx, *, pending_invitations: bool = False) -> None:
    """Raise 402 when one more active member would exceed the paid seats, or the tenant is read-only.

    With ``pending_invitations`` the open invitations count as seats too (used when inviting). On a
    plan that auto-adds seats it queues the quantity raise instead (in ``tx``) and returns."""
    row = await tenant_row(tx, lock=True)
    if row is None:
        return
    settings = get_settings()
    if settings.billing_enabled:
        access = evaluate(
            BillingState.from_row(row),
            datetime.now(UTC),
            enabled=True,
            grace_days=settings.billing_grace_days,
        )
        if access.read_only:
            raise PaymentRequired(access.reason, extra={"billing": "/api/v1/billing", "reason": access.code})
    used = row["used"] + (row["invited"] if pending_invitations else 0)
    limit = seat_allowance(row, settings)
    if limit is None or used + 1 <= limit:
        return
    live, plan = live_plan(row, settings)
    if live and _can_auto_add(row, plan, used + 1):
        await outbox.add_job(
            tx,
            "raise_subscription_seats",
            tx.tenant_id,
            used + 1,
            key=f"{tx.tenant_id}:{row['seat_change_seq']}:{used + 1}",
        )
        return
    extra = {"billing": "/api/v1/billing", "seats_used": used, "seats_paid": limit}
    if plan is not None and plan.max_seats is not None and limit >= plan.max_seats:
        raise PaymentRequired(
            "The {plan} plan includes up to {limit} seats; choose a larger plan in billing to add members",
            plan=plan.name,
            limit=limit,
            extra=extra,
        )
    raise PaymentRequired(
        "All {limit} seats are in use; add seats in billing to add members", limit=limit, extra=extra
    )


async def sync_seats(tenant_id: UUID, minimum: int = 0) -> str:
    """Make the Stripe quantity of the tenant's per-seat subscription at least the seats in use (and
    ``minimum``); lower it to the seats in use only within ``RENEWAL_WINDOW`` of the period end.

    Returns what it did: "raised", "lowered", "in-sync", "not-per-seat", "billing-off". The change
    and its key's sequence number commit together, so a retry after a lost answer reuses the key."""
    settings = get_settings()
    if not settings.billing_enabled:
        return "billing-off"
    async with db.transaction(tenant_id) as tx:
        row = await tenant_row(tx, lock=True)
        live, plan = live_plan(row, settings) if row is not None else (False, None)
        if row is None or not live or plan is None or not plan.per_seat:
            return "not-per-seat"
        target = max(row["used"], minimum, 1)
        if plan.max_seats is not None:
            target = min(target, plan.max_seats)
        now = datetime.now(UTC)
        period_end = row["current_period_end"]
        at_renewal = period_end is not None and period_end - now <= RENEWAL_WINDOW
        mirror = row["seats_paid"] or 0
        # The mirror follows Stripe (webhooks, our own changes); Stripe is asked only when it differs,
        # or when a member was just added beyond it (``minimum``).
        if not minimum and (target == mirror or (target < mirror and not at_renewal)):
            return "in-sync"
        sub = await stripe_api.get_subscription(row["stripe_subscription_id"])
        sub_at_renewal = sub.current_period_end is not None and sub.current_period_end - now <= RENEWAL_WINDOW
        if target > sub.quantity:
            action, prorate = "raised", True
        elif target < sub.quantity and sub_at_renewal and not minimum:
            action, prorate = "lowered", False
        else:
            await tx.execute("UPDATE tenants SET seats_paid = $2 WHERE id = $1", tenant_id, sub.quantity)
            return "in-sync"
        seq = row["seat_change_seq"] + 1
        updated = await stripe_api.set_subscription_quantity(
            sub, target, key=f"acre-seats-{sub.id}-{seq}-{target}", prorate=prorate
        )
        await tx.execute(
            "UPDATE tenants SET seats_paid = $2, seat_change_seq = $3 WHERE id = $1",
            tenant_id,
            updated.quantity,
            seq,
        )
        await audit.record(
            tx,
            None,
            f"billing.seats_{action}",
            "tenant",
            tenant_id,
            data={"from": sub.quantity, "to": updated.quantity, "seats_used": row["used"]},
        )
        return action


async def per_seat_tenants(limit: int = 10_000) -> list[UUID]:
    """Tenants whose live subscription is on a per-seat plan (the reconciliation cron's work list)."""
    settings = get_settings()
    codes = [p.code for p in settings.billing_plans if p.per_seat]
    async with db.transaction(None) as tx:
        rows = await tx.fetch(
            "SELECT id FROM tenants WHERE stripe_subscription_id IS NOT NULL AND billing_status = ANY($1)"
            " AND billing_plan = ANY($2) ORDER BY id LIMIT $3",
            list(LIVE_STATUSES),
            codes,
            limit,
        )
    return [r["id"] for r in rows]
