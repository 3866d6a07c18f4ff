"""Input and output structs of the deals domain. Money is ``Decimal`` (a JSON string on the way out;
strings or JSON numbers accepted in, decoded exactly, never through float)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from app.deals.stages import Rule, Stage

Unit = Literal["seat", "licence", "module", "service_day", "maintenance_year"]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text100 = Annotated[str, msgspec.Meta(max_length=100)]
Text500 = Annotated[str, msgspec.Meta(max_length=500)]
Text2000 = Annotated[str, msgspec.Meta(max_length=2000)]
Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
DecisionRole = Literal["approver", "decision_maker", "influencer", "gatekeeper", "user", "other"]
QuoteStatus = Literal["draft", "pending", "approved", "rejected", "sent"]


# --- products ---------------------------------------------------------------------------------


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    name: Name
    unit: Unit
    list_price: Decimal
    floor_price: Decimal
    currency: Currency | None = None  # the tenant's currency when left out
    edition: Text100 | None = None
    active: bool = True


class ProductUpdate(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    unit: Unit | UnsetType = UNSET
    list_price: Decimal | UnsetType = UNSET
    floor_price: Decimal | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    edition: Text100 | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class ProductRead(msgspec.Struct):
    id: UUID
    sku: str
    name: str
    edition: str | None
    unit: str
    list_price: Decimal
    floor_price: Decimal
    currency: str
    active: bool
    created_at: datetime
    updated_at: datetime


# --- deals ------------------------------------------------------------------------------------


class Requirements(msgspec.Struct, forbid_unknown_fields=True):
    modules: list[Text100] = msgspec.field(default_factory=list)
    services: list[Text100] = msgspec.field(default_factory=list)
    geographic_scope: Text500 | None = None
    language_scope: Text500 | None = None


class KeyInfo(msgspec.Struct, forbid_unknown_fields=True):
    """销售关键信息: the structured key information of a deal."""

    schedule: Text2000 | None = None
    budget: Text2000 | None = None
    requirements: Requirements = msgspec.field(default_factory=Requirements)
    decision_process: Text2000 | None = None
    competition: Text2000 | None = None
    key_evaluation_criteria: Text2000 | None = None


class DecisionPerson(msgspec.Struct, forbid_unknown_fields=True):
    """One of the customer's contacts in the decision (approver, decision maker …)."""

    contact_id: UUID
    role: DecisionRole
    influence: Score | None = None
    support: Score | None = None


class DealCreate(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: UUID
    title: Name
    amount: Decimal = Decimal("0")
    currency: Currency | None = None
    expected_close_date: date | None = None
    owner_membership_id: UUID | None = None  # the creator when left out
    stage: Stage = "prospect_list"
    probability: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None  # the stage's default
    key_info: KeyInfo = msgspec.field(default_factory=KeyInfo)
    decision_people: list[DecisionPerson] = msgspec.field(default_factory=list)


class DealUpdate(msgspec.Struct, forbid_unknown_fields=True):
    title: Name | UnsetType = UNSET
    amount: Decimal | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    expected_close_date: date | UnsetType | None = UNSET
    owner_membership_id: UUID | UnsetType = UNSET
    probability: Annotated[int, msgspec.Meta(ge=0, le=100)] | UnsetType = UNSET
    key_info: KeyInfo | UnsetType = UNSET
    decision_people: list[DecisionPerson] | UnsetType = UNSET


class DealRead(msgspec.Struct):
    id: UUID
    customer_id: UUID
    customer_name: str
    territory_id: UUID
    owner_membership_id: UUID
    title: str
    amount: Decimal
    currency: str
    expected_close_date: date | None
    stage: str
    probability: int
    lost_reason: str | None
    key_info: KeyInfo
    decision_people: list[DecisionPerson]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class StageMove(msgspec.Struct, forbid_unknown_fields=True):
    to: Stage
    reason: Text2000 | None = None


class StageChangeRead(msgspec.Struct):
    id: UUID
    from_stage: str | None
    to_stage: str
    reason: str | None
    actor: UUID | None
    approval_id: UUID | None
    at: datetime


class StageRulesRead(msgspec.Struct):
    matrix: dict[str, dict[str, Rule]]
    require_approved_quote: bool
    customized: bool


# --- quotes -----------------------------------------------------------------------------------


class QuoteLineIn(msgspec.Struct, forbid_unknown_fields=True):
    product_id: UUID
    quantity: Decimal
    unit_price: Decimal | None = None  # the list price when left out
    discount_percent: Decimal = Decimal("0")


class QuoteCreate(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[QuoteLineIn], msgspec.Meta(min_length=1, max_length=500)]
    valid_until: date
    tax_rate: Decimal = Decimal("13")
    formal: bool = True
    note: Text2000 | None = None


class QuoteLineRead(msgspec.Struct):
    line_no: int
    product_id: UUID
    sku: str
    name: str
    edition: str | None
    unit: str
    quantity: Decimal
    list_price: Decimal
    floor_price: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal
    below_floor: bool


class QuoteRead(msgspec.Struct):
    id: UUID
    deal_id: UUID
    round: int
    round_name: str  # list | discount | final
    formal: bool
    status: str
    needs_approval: bool
    currency: str
    tax_rate: Decimal
    valid_until: date
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    note: str | None
    lines: list[QuoteLineRead]
    created_at: datetime
    sent_at: datetime | None


# --- approvals --------------------------------------------------------------------------------


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    comment: Text2000 | None = None


class ApprovalRead(msgspec.Struct):
    id: UUID
    kind: str
    subject_id: UUID
    deal_id: UUID | None
    territory_id: UUID | None
    requested_by: UUID | None
    status: str
    payload: dict[str, Any]
    comment: str | None
    decided_by: UUID | None
    decided_at: datetime | None
    created_at: datetime


# --- pipeline ---------------------------------------------------------------------------------


class PipelineStageRow(msgspec.Struct):
    stage: str
    currency: str
    count: int
    amount: Decimal
    weighted_amount: Decimal  # Σ amount × probability / 100


class PipelineRepRow(msgspec.Struct):
    owner_membership_id: UUID
    currency: str
    count: int
    amount: Decimal
    weighted_amount: Decimal


class PipelineTotalRow(msgspec.Struct):
    currency: str
    count: int
    amount: Decimal
    weighted_amount: Decimal


class PipelineRead(msgspec.Struct):
    territory_id: UUID | None
    from_date: date | None
    to_date: date | None
    closed_included: bool
    by_stage: list[PipelineStageRow]
    by_rep: list[PipelineRepRow]
    totals: list[PipelineTotalRow]  # one row per currency: amounts in different currencies never add up


class CommissionRulesWrite(msgspec.Struct, forbid_unknown_fields=True):
    """The commission split rule: percent shared by customer ownership time and by stage moves
    (summing to 100)."""

    ownership_weight: int
    stages_weight: int


class CommissionShare(msgspec.Struct):
    """One member's part of the suggestion, with the figures it came from."""

    membership_id: UUID
    name: str
    percent: Decimal
    owned_days: float
    stage_moves: int


class CommissionShareWrite(msgspec.Struct, forbid_unknown_fields=True):
    membership_id: UUID
    percent: Decimal


class CommissionShareRead(msgspec.Struct):
    membership_id: UUID
    name: str
    percent: Decimal


class CommissionSplitWrite(msgspec.Struct, forbid_unknown_fields=True):
    shares: list[CommissionShareWrite]


class CommissionSplitRead(msgspec.Struct):
    confirmed_by: UUID
    confirmed_at: datetime
    shares: list[CommissionShareRead]


class CommissionRead(msgspec.Struct):
    """A won deal's suggested split (the rule's weights, the period considered) and the confirmed one."""

    deal_id: UUID
    ownership_weight: int
    stages_weight: int
    period_start: datetime
    period_end: datetime
    suggestion: list[CommissionShare]
    confirmed: CommissionSplitRead | None
