"""Input and output structs of sales growth: cadences, tasks, the funnel, referrals, return visits.
Money is ``Decimal`` (a JSON string on the way out), never float."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from app.customers.schemas import AwareTime

Tier = Literal["active", "priority", "normal", "last"]
TaskKind = Literal["call", "visit"]
TaskSource = Literal["cadence", "return_visit", "manual"]
TaskStatus = Literal["open", "done", "skipped"]
Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Text2000 = Annotated[str, msgspec.Meta(max_length=2000)]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
Satisfaction = Annotated[int, msgspec.Meta(ge=1, le=5)]


# --- cadences ---------------------------------------------------------------------------------


class TierCadence(msgspec.Struct, forbid_unknown_fields=True):
    """Call and visit every so many days (null: no task of that kind for the tier)."""

    call_days: int | None = None
    visit_days: int | None = None


class CadencesWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The whole cadence settings (PUT): what is left out takes the default."""

    tiers: dict[str, TierCadence] = msgspec.field(default_factory=dict)
    grade_tiers: dict[str, str] = msgspec.field(default_factory=dict)
    return_visit_days: list[int] | None = None


class CadencesRead(msgspec.Struct):
    tiers: dict[str, TierCadence]
    grade_tiers: dict[str, str]
    return_visit_days: list[int]
    customized: bool


# --- tasks ------------------------------------------------------------------------------------


class TaskCreate(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: UUID
    kind: TaskKind
    due_on: date
    note: Text2000 | None = None
    assignee_membership_id: UUID | None = None  # the customer's owner (else the caller) when left out


class TaskReschedule(msgspec.Struct, forbid_unknown_fields=True):
    """A new due day for an open task: today or later in the tenant's time zone."""

    due_on: date


class TaskClose(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text2000 | None = None


class TaskRead(msgspec.Struct):
    id: UUID
    customer_id: UUID
    customer_name: str
    assignee_membership_id: UUID
    kind: str
    source: str
    due_on: date
    status: str
    overdue: bool
    note: str | None
    return_visit_id: UUID | None
    closed_at: datetime | None
    close_reason: str | None
    created_at: datetime


# --- funnel -----------------------------------------------------------------------------------


class FunnelRates(msgspec.Struct):
    """Each step over the one before, rounded to 4 decimals (null when the step before is 0)."""

    call_to_conversation: float | None
    conversation_to_appointment: float | None
    appointment_to_presentation: float | None
    presentation_to_sale: float | None
    call_to_sale: float | None


class FunnelRow(msgspec.Struct):
    membership_id: UUID | None
    name: str | None
    calls: int
    conversations: int
    appointments: int
    presentations: int
    sales: int
    rates: FunnelRates


class FunnelRead(msgspec.Struct):
    date_from: date
    date_to: date
    territory_id: UUID | None
    membership_id: UUID | None
    total: FunnelRow
    reps: list[FunnelRow]


# --- referrals --------------------------------------------------------------------------------


class ReferralWrite(msgspec.Struct, forbid_unknown_fields=True):
    """Who referred the customer: another customer, or a person (name and contact). All null clears."""

    referrer_customer_id: UUID | None = None
    referrer_name: Text200 | None = None
    referrer_contact: Text200 | None = None


class MoneyTotal(msgspec.Struct):
    currency: str
    amount: Decimal


class ReferralRead(msgspec.Struct):
    customer_id: UUID
    customer_name: str
    status: str
    grade: str
    owner_membership_id: UUID | None
    referrer_customer_id: UUID | None
    referrer_customer_name: str | None
    referrer_name: str | None
    referrer_contact: str | None
    won_deals: int
    won_amounts: list[MoneyTotal]
    reward_id: UUID | None
    reward_status: str | None
    created_at: datetime


class RewardSettings(msgspec.Struct, forbid_unknown_fields=True):
    """``kind`` none (no reward), points, or amount (with currency)."""

    kind: Literal["none", "points", "amount"] = "points"
    points: int | None = 100
    amount: Decimal | None = None
    currency: Currency | None = None


class RewardSettingsRead(msgspec.Struct):
    kind: str
    points: int | None
    amount: Decimal | None
    currency: str | None
    customized: bool


class RewardRead(msgspec.Struct):
    id: UUID
    referred_customer_id: UUID
    referred_customer_name: str
    territory_id: UUID
    referrer_customer_id: UUID | None
    referrer_customer_name: str | None
    referrer_name: str | None
    deal_id: UUID | None
    kind: str
    points: int | None
    amount: Decimal | None
    currency: str | None
    status: str
    paid_at: datetime | None
    created_at: datetime


# --- return visits ----------------------------------------------------------------------------


class ReturnVisitLog(msgspec.Struct, forbid_unknown_fields=True):
    satisfaction: Satisfaction
    notes: Text2000 | None = None
    new_needs: Text2000 | None = None
    happened_at: AwareTime | None = None


class NeedDeal(msgspec.Struct, forbid_unknown_fields=True):
    """A new deal from the return visit's needs (the needs are its first key information)."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    amount: Decimal = Decimal("0")
    currency: Currency | None = None
    expected_close_date: date | None = None


class ReturnVisitRead(msgspec.Struct):
    id: UUID
    customer_id: UUID
    customer_name: str
    deal_id: UUID | None
    assignee_membership_id: UUID
    offset_days: int
    due_on: date
    status: str
    overdue: bool
    satisfaction: int | None
    notes: str | None
    new_needs: str | None
    followup_id: UUID | None
    new_deal_id: UUID | None
    logged_at: datetime | None
    created_at: datetime
