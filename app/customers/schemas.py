from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

Grade = Literal["A", "B", "C", "D"]
Status = Literal["prospect", "won", "lost", "closed"]
ItStatus = Literal["none", "uses_software"]
Source = Literal[
    "event", "telemarketing", "inbound", "cold_visit", "list", "trade_show", "web", "referral", "upsell"
]
DecisionRole = Literal["approver", "decision_maker", "influencer", "gatekeeper", "user", "other"]
FollowupKind = Literal["call", "visit", "meeting", "message", "demo", "other"]
# How far the contact got on the funnel (calls → conversations → appointments → presentations → sales).
FollowupResult = Literal["no_answer", "conversation", "appointment", "presentation", "order", "other"]
ConflictStatus = Literal["open", "resolved"]

FullName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


Text40 = Annotated[str, msgspec.Meta(max_length=40)]
Text50 = Annotated[str, msgspec.Meta(max_length=50)]
Text100 = Annotated[str, msgspec.Meta(max_length=100)]
Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Text320 = Annotated[str, msgspec.Meta(max_length=320)]
Text500 = Annotated[str, msgspec.Meta(max_length=500)]
Text1000 = Annotated[str, msgspec.Meta(max_length=1000)]
Text2000 = Annotated[str, msgspec.Meta(max_length=2000)]

Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
Headcount = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new customer. ``owner_membership_id`` absent = the creator owns it; ``null`` = into the
    territory's pool. ``grade`` defaults to D (not expected to close within 12 months).
    ``territory_id`` absent: the territory the credit code's division is mapped to (422 when the code
    is missing or its division is not mapped)."""

    full_name: FullName
    territory_id: UUID | None = None
    short_name: Text100 | None = None
    tax_id: Text40 | None = None
    address: Text500 | None = None
    phone: Text40 | None = None
    industry: Text100 | None = None
    size_revenue_band: Text50 | None = None
    headcount: Headcount | None = None
    it_status: ItStatus = "none"
    current_software: Text200 | None = None
    source: Source | None = None
    referrer: Text200 | None = None
    referrer_customer_id: UUID | None = None
    grade: Grade = "D"
    status: Status = "prospect"
    owner_membership_id: UUID | UnsetType | None = UNSET
    next_followup_at: AwareTime | None = None


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changed fields only. The owner is not changed here (claim, release and handover do that)."""

    full_name: FullName | UnsetType = UNSET
    territory_id: UUID | UnsetType = UNSET
    short_name: Text100 | UnsetType | None = UNSET
    tax_id: Text40 | UnsetType | None = UNSET
    address: Text500 | UnsetType | None = UNSET
    phone: Text40 | UnsetType | None = UNSET
    industry: Text100 | UnsetType | None = UNSET
    size_revenue_band: Text50 | UnsetType | None = UNSET
    headcount: Headcount | UnsetType | None = UNSET
    it_status: ItStatus | UnsetType = UNSET
    current_software: Text200 | UnsetType | None = UNSET
    source: Source | UnsetType | None = UNSET
    referrer: Text200 | UnsetType | None = UNSET
    referrer_customer_id: UUID | UnsetType | None = UNSET
    grade: Grade | UnsetType = UNSET
    grade_reason: Text1000 | None = None
    status: Status | UnsetType = UNSET
    next_followup_at: AwareTime | UnsetType | None = UNSET


class CustomerRead(msgspec.Struct):
    id: UUID
    full_name: str
    short_name: str | None
    tax_id: str | None
    address: str | None
    phone: str | None
    industry: str | None
    size_revenue_band: str | None
    headcount: int | None
    it_status: str
    current_software: str | None
    source: str | None
    referrer: str | None
    referrer_customer_id: UUID | None
    grade: str
    status: str
    territory_id: UUID
    territory_name: str
    owner_membership_id: UUID | None
    owner_name: str | None
    last_followup_at: datetime | None
    next_followup_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # the territory the credit code's division is mapped to, and whether the customer sits outside
    # it (跨区: neither in it nor below it)
    code_territory_id: UUID | None
    cross_territory: bool
    pool_id: UUID  # the pool it is in (unowned), or was claimed from (owned)
    locked_at: datetime | None  # locked by its owner against auto-reclaim


class GradeChangeRead(msgspec.Struct):
    id: UUID
    from_grade: str | None
    to_grade: str
    changed_by: UUID | None
    changed_by_name: str | None
    reason: str | None
    changed_at: datetime


class ContactCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    title: Text100 | None = None
    phone: Text40 | None = None
    email: Text320 | None = None
    decision_role: DecisionRole = "other"
    influence: Score | None = None
    support: Score | None = None


class ContactUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    title: Text100 | UnsetType | None = UNSET
    phone: Text40 | UnsetType | None = UNSET
    email: Text320 | UnsetType | None = UNSET
    decision_role: DecisionRole | UnsetType = UNSET
    influence: Score | UnsetType | None = UNSET
    support: Score | UnsetType | None = UNSET


class ContactRead(msgspec.Struct):
    id: UUID
    customer_id: UUID
    name: str
    title: str | None
    phone: str | None
    email: str | None
    decision_role: str
    influence: int | None
    support: int | None
    created_at: datetime
    updated_at: datetime


class FollowupCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``happened_at`` defaults to now; ``next_followup_at`` schedules the next one."""

    kind: FollowupKind
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    happened_at: AwareTime | None = None
    outcome: Text2000 | None = None
    result: FollowupResult | None = None
    next_followup_at: AwareTime | None = None


class FollowupRead(msgspec.Struct):
    id: UUID
    customer_id: UUID
    author_membership_id: UUID | None
    author_name: str | None
    kind: str
    happened_at: datetime
    summary: str
    outcome: str | None
    result: str | None
    next_followup_at: datetime | None
    created_at: datetime


class ConflictRead(msgspec.Struct):
    id: UUID
    customer_id: UUID
    customer_name: str
    territory_id: UUID
    territory_name: str
    attempted_by: UUID | None
    attempted_by_name: str | None
    attempted_data: dict[str, Any]
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


class ConflictResolve(msgspec.Struct, forbid_unknown_fields=True):
    resolution: Text2000 | None = None


class DuplicateCheckRead(msgspec.Struct):
    """Whether entering a company would collide with an existing customer (撞单), and with whom:
    its name, owner (``None`` in the pool) and territory, and ``message`` saying so in the caller's
    language. ``yours``: the caller already owns it."""

    match: bool
    full_name: str | None = None
    owner_name: str | None = None
    territory_name: str | None = None
    in_pool: bool = False
    yours: bool = False
    message: str | None = None


class ListChangeCounts(msgspec.Struct):
    """Customers whose place on the lists changed (名单异动), each counted once per kind."""

    membership_id: UUID | None  # None on the total row; a rep row: whose list it was
    name: str | None
    won: int
    lost: int
    reclaimed: int
    handed_over: int
    released: int
    archived: int


class ListChangesRead(msgspec.Struct):
    date_from: date
    date_to: date
    territory_id: UUID | None
    total: ListChangeCounts
    reps: list[ListChangeCounts]


class MergeBody(msgspec.Struct, forbid_unknown_fields=True):
    """Merge customer ``absorb_id`` into the customer of the path (the survivor), saying why;
    ``conflict_id``: the duplicate conflict (撞单) the merge settles, resolved with it."""

    absorb_id: UUID
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    conflict_id: UUID | None = None


class MergeRead(msgspec.Struct):
    """The survivor after the merge, the absorbed customer's (now deleted) id, and how many rows of
    each kind moved to the survivor (table name → count; only those that moved)."""

    customer: CustomerRead
    absorbed_id: UUID
    moved: dict[str, int]
    filled: list[str]


class MergeCandidate(msgspec.Struct):
    """Another record that may be the same company: same name key, credit code or phone."""

    id: UUID
    full_name: str
    tax_id: str | None
    phone: str | None
    territory_name: str
    owner_name: str | None
