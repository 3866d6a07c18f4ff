"""Billing for one tenant: its standing, Stripe Checkout to subscribe, the Customer Portal to manage,
and the trial that signup starts. Plain async functions, ``scope`` first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from app import audit, db
from app.errors import AppError, Conflict, ValidationFailed
from app.settings import get_settings
from tenants.billing import stripe_api
from tenants.billing.entitlements import LIVE_STATUSES, BillingState, evaluate
from tenants.billing.schemas import BillingRead, CheckoutCreate, PlanRead, RedirectRead
from tenants.billing.seats import seat_allowance, tenant_row
from tenants.scope import TenantScope

# Stripe refuses a subscription trial ending less than 48 hours from now.
_MIN_STRIPE_TRIAL = timedelta(days=2)


class BillingOff(AppError):
    status, code, title = 409, "billing-off", "Billing is off on this server; every company has the free plan"


async def start_trial(tx: db.Tx, tenant_id: UUID) -> None:
    """Start the card-less trial of a new tenant (called by signup, in its transaction)."""
    await tx.execute(
        "UPDATE tenants SET trial_ends_at = now() + make_interval(days => $2), billing_status = 'trialing'"
        " WHERE id = $1",
        tenant_id,
        get_settings().billing_trial_days,
    )


async def get_billing(scope: TenantScope) -> BillingRead:
    """Plan, status, seats used vs paid, trial and period ends. Owners and admins only."""
    scope.require("admin")
    settings = get_settings()
    async with scope.tx() as tx:
        row = await tenant_row(tx)
    assert row is not None
    if not settings.billing_enabled:
        return BillingRead(
            enabled=False, status="free", access="full", seats_used=row["used"], seats_paid=row["seat_limit"]
        )
    access = evaluate(
        BillingState.from_row(row), datetime.now(UTC), enabled=True, grace_days=settings.billing_grace_days
    )
    plan = settings.plan(row["billing_plan"])
    return BillingRead(
        enabled=True,
        status=row["billing_status"] if row["has_subscription"] else "trialing",
        access="read_only" if access.read_only else "full",
        seats_used=row["used"],
        seats_paid=seat_allowance(row, settings),
        plan=plan.code if plan else None,
        plan_name=plan.name if plan else None,
        trial_ends_at=row["trial_ends_at"],
        current_period_end=row["current_period_end"],
        grace_ends_at=access.grace_ends_at,
        has_subscription=row["has_subscription"],
        warnings=scope.billing_warnings(),
        plans=[
            PlanRead(
                code=p.code,
                name=p.name,
                per_seat=p.per_seat,
                max_seats=p.max_seats,
                auto_add_seats=p.auto_add_seats,
            )
            for p in settings.billing_plans
        ],
    )


async def _customer(tx: db.Tx, scope: TenantScope, row: dict[str, object]) -> str:
    """The tenant's one Stripe customer, created on first need (the tenant row is locked, and the
    idempotency key is the tenant id, so two requests or a retry cannot make a second one)."""
    if row["stripe_customer_id"]:
        return str(row["stripe_customer_id"])
    customer = await stripe_api.create_customer(scope.tenant_id, scope.tenant_name, scope.email)
    await tx.execute("UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1", scope.tenant_id, customer)
    await audit.record(
        tx, scope.user_id, "billing.customer_created", "tenant", scope.tenant_id, data={"customer": customer}
    )
    return customer


def _require_enabled() -> None:
    if not get_settings().billing_enabled:
        raise BillingOff()


async def start_checkout(scope: TenantScope, data: CheckoutCreate) -> RedirectRead:
    """A Stripe Checkout Session (subscription mode) for ``data.plan``; the quantity is the seats in
    use (at least ``data.seats``) on a per-seat plan, 1 on a flat one. 409 when a subscription is live
    (change it in the portal) or the plan is too small for the members."""
    scope.require("admin")
    _require_enabled()
    settings = get_settings()
    plan = settings.plan(data.plan)
    if plan is None:
        raise ValidationFailed.field("plan", "Unknown plan")
    async with scope.tx() as tx:
        row = await tenant_row(tx, lock=True)
        assert row is not None
        if row["has_subscription"] and row["billing_status"] in LIVE_STATUSES:
            raise Conflict("This company already has a subscription; change it in the customer portal")
        used = int(row["used"])
        if plan.max_seats is not None and max(used, data.seats or 0) > plan.max_seats:
            raise Conflict(
                "The {plan} plan allows up to {limit} seats and {used} are needed; choose a larger plan",
                plan=plan.name,
                limit=plan.max_seats,
                used=max(used, data.seats or 0),
            )
        customer = await _customer(tx, scope, dict(row))
    quantity = max(used, data.seats or 0, 1) if plan.per_seat else 1
    trial_end = row["trial_ends_at"]
    if row["has_subscription"] or trial_end is None or trial_end - datetime.now(UTC) < _MIN_STRIPE_TRIAL:
        trial_end = None  # no second trial, and none too short for Stripe
    base = settings.public_url.rstrip("/")
    session_id, url = await stripe_api.create_checkout_session(
        tenant_id=scope.tenant_id,
        customer_id=customer,
        plan=plan.code,
        price_id=plan.price_id,
        quantity=quantity,
        trial_end=trial_end,
        success_url=f"{base}/billing?checkout=done",
        cancel_url=f"{base}/billing?checkout=cancelled",
        key=f"acre-checkout-{scope.tenant_id}-{uuid4()}",
    )
    return RedirectRead(url=url, session_id=session_id)


async def open_portal(scope: TenantScope) -> RedirectRead:
    """A Stripe Customer Portal session to change plan, seats or card, or cancel."""
    scope.require("admin")
    _require_enabled()
    async with scope.tx() as tx:
        row = await tenant_row(tx, lock=True)
        assert row is not None
        customer = await _customer(tx, scope, dict(row))
    base = get_settings().public_url.rstrip("/")
    url = await stripe_api.create_portal_session(
        customer, f"{base}/billing", key=f"acre-portal-{scope.tenant_id}-{uuid4()}"
    )
    return RedirectRead(url=url)
