from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec


class PlanRead(msgspec.Struct):
    code: str
    name: str
    per_seat: bool
    max_seats: int | None
    auto_add_seats: bool


class BillingRead(msgspec.Struct):
    """The tenant's plan and standing. ``enabled`` False: billing is off on this server (free plan)."""

    enabled: bool
    status: str
    access: Literal["full", "read_only"]
    seats_used: int
    seats_paid: int | None
    plan: str | None = None
    plan_name: str | None = None
    trial_ends_at: datetime | None = None
    current_period_end: datetime | None = None
    grace_ends_at: datetime | None = None
    has_subscription: bool = False
    warnings: list[str] = msgspec.field(default_factory=list)
    plans: list[PlanRead] = msgspec.field(default_factory=list)


class CheckoutCreate(msgspec.Struct, forbid_unknown_fields=True):
    plan: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    seats: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None


class RedirectRead(msgspec.Struct):
    """Where to send the browser (Stripe Checkout or the Customer Portal)."""

    url: str
    session_id: str | None = None


class WebhookReceipt(msgspec.Struct):
    received: bool
    duplicate: bool
