"""Input and output structs of contract terms, milestones, collection items and payments (money as in
``app.deals.schemas``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from app.deals.schemas import Currency, Name, Text100, Text500, Text2000

MilestoneCode = Literal["full", "deposit", "delivery", "balance"]


class MilestoneWrite(msgspec.Struct, forbid_unknown_fields=True):
    """One payment milestone: its ``amount``, or its ``percent`` of the contract total (one of the two),
    due ``due_days`` after signing."""

    code: MilestoneCode
    due_days: Annotated[int, msgspec.Meta(ge=0, le=3650)]
    amount: Decimal | None = None
    percent: Decimal | None = None


class MilestonesWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The whole plan (PUT); ``null``/empty ``milestones`` goes back to the rule's plan."""

    milestones: Annotated[list[MilestoneWrite], msgspec.Meta(max_length=12)] | None = None


class ContractTermsWrite(msgspec.Struct, forbid_unknown_fields=True):
    quote_id: UUID | None = None
    party_a_full_name: Name | None = None
    party_a_address: Text500 | None = None
    party_a_contact: Text100 | None = None
    party_a_phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    free_upgrade_years: Annotated[int, msgspec.Meta(ge=0, le=10)] = 1
    onsite_service_chargeable: bool = True
    onsite_fee_per_day: Decimal | None = None
    delivery_percent: Annotated[int, msgspec.Meta(ge=50, le=70)] = 60
    stable_weeks: Annotated[int, msgspec.Meta(ge=1, le=2)] = 2
    installation_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30


class MilestoneRead(msgspec.Struct):
    code: str
    percent: int
    amount: Decimal
    due_days: int


class DealContractRead(msgspec.Struct):
    """A contract of the deal: the money its document was rendered with; once ``signed`` the source of
    truth for the deal's amount and collections."""

    id: UUID
    deal_id: UUID
    document_id: UUID | None  # None: frozen when the deal was moved to signed by hand
    quote_id: UUID | None  # None: no quote, the terms were entered by hand
    total: Decimal
    currency: str
    milestones: list[MilestoneRead]
    status: str  # rendered | signed | voided (another contract was signed, or the deal left signed)
    envelope_id: UUID | None  # the envelope that signed it
    signed_at: datetime | None
    voided_at: datetime | None
    created_at: datetime


class ContractTermsRead(msgspec.Struct):
    deal_id: UUID
    quote_id: UUID | None
    party_a_full_name: str | None
    party_a_address: str | None
    party_a_contact: str | None
    party_a_phone: str | None
    free_upgrade_years: int
    onsite_service_chargeable: bool
    onsite_fee_per_day: Decimal | None
    delivery_percent: int
    stable_weeks: int
    installation_days: int
    total: Decimal
    currency: str
    milestones: list[MilestoneRead]
    complete: bool
    missing: list[str]
    saved: bool
    milestones_custom: bool = False  # the milestones were edited (PUT .../milestones) and still apply


class CollectionRead(msgspec.Struct):
    id: UUID
    deal_id: UUID
    seq: int
    code: str
    percent: int
    amount: Decimal
    currency: str
    due_date: date
    paid_at: datetime | None  # when the payments reached the amount
    paid_amount: Decimal | None  # the sum of the payments so far
    outstanding: Decimal
    status: str  # open | overdue | paid


class CollectionPaid(msgspec.Struct, forbid_unknown_fields=True):
    """A payment of the item: ``amount`` left out pays what is outstanding."""

    amount: Decimal | None = None
    paid_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    paid_on: date | None = None  # the date of ``paid_at``, else today (the tenant's)
    currency: Currency | None = None  # must be the item's when given
    note: Text2000 | None = None


class CollectionItemRead(msgspec.Struct):
    """A collection item in the lists: with its deal, customer, owner and territory."""

    id: UUID
    deal_id: UUID
    deal_title: str
    customer_id: UUID
    customer_name: str
    owner_membership_id: UUID
    territory_id: UUID
    seq: int
    code: str
    percent: int
    amount: Decimal
    currency: str
    due_date: date
    paid_amount: Decimal
    outstanding: Decimal
    status: str  # open | overdue | paid
    paid_at: datetime | None


class OverdueGroupRead(msgspec.Struct):
    owner_membership_id: UUID
    territory_id: UUID
    currency: str
    count: int
    outstanding: Decimal
    oldest_due_date: date


class PaymentRead(msgspec.Struct):
    id: UUID
    collection_id: UUID
    amount: Decimal
    currency: str
    paid_on: date
    note: str | None
    actor: UUID | None
    created_at: datetime
