"""Schemas of the pool, claims, the ownership history, pool status and cross-territory grants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


class PoolItem(msgspec.Struct):
    id: UUID
    full_name: str
    short_name: str | None
    industry: str | None
    source: str | None
    grade: str
    status: str
    territory_id: UUID
    territory_name: str
    last_followup_at: datetime | None
    created_at: datetime
    # masked (138****5678) where the customer's pool hides them until claimed (``masking``)
    phone: str | None
    address: str | None
    tax_id: str | None


class ClaimCounter(msgspec.Struct):
    """The member against the claim caps: ``owned`` of ``owned_cap``, ``today`` of ``daily_cap``
    (``None``: no daily cap)."""

    owned: int
    owned_cap: int
    today: int
    daily_cap: int | None


class ReleaseBody(msgspec.Struct, forbid_unknown_fields=True):
    """``reason``: a code from ``GET /api/v1/pools/release-reasons``; ``pool_id``: the pool it goes
    to (default its territory's); ``note``: words of one's own, kept with the reason."""

    reason: Annotated[str, msgspec.Meta(max_length=100)]
    pool_id: UUID | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class OwnershipEntryRead(msgspec.Struct):
    id: int
    seq: int
    customer_id: UUID
    from_membership_id: UUID | None
    from_name: str | None
    to_membership_id: UUID | None
    to_name: str | None
    cause: str
    actor: UUID | None
    actor_name: str | None
    reason: str | None
    plan_id: UUID | None
    at: datetime
    hash: str


class AnchorRead(msgspec.Struct):
    """An RFC 3161 timestamp of the ledger's head (``app.customers.anchors``)."""

    id: UUID
    head_seq: int
    head_hash: str
    stamped_at: datetime
    token_sha256: str


class VerifyRead(msgspec.Struct):
    """``ok``: the chain recomputes and every anchor matches it. ``first_broken_*``: the first entry
    that breaks the chain; ``first_broken_anchor_*``: the first anchor that no longer matches, with
    ``anchor_problem`` (``entry_changed`` | ``entry_missing`` | ``token_invalid`` |
    ``anchors_unchained``); ``last_anchor``: the newest anchor that matched."""

    ok: bool
    checked: int
    first_broken_id: int | None
    first_broken_seq: int | None
    head_seq: int | None
    head_hash: str | None
    anchors_checked: int = 0
    first_broken_anchor_id: UUID | None = None
    first_broken_anchor_seq: int | None = None
    first_broken_anchor_at: datetime | None = None
    anchor_problem: str | None = None
    last_anchor: AnchorRead | None = None


class RuleCheck(msgspec.Struct):
    """One rule that decides: ``rule`` is a stable code, ``message`` the sentence in the caller's
    language, ``params`` the numbers and dates in it."""

    rule: str
    message: str
    params: dict[str, Any]


class ReclaimRead(msgspec.Struct):
    rule: str | None  # no_followup | no_deal | None (never reclaimed automatically)
    due_at: datetime | None
    days_left: int | None
    limit_days: int | None
    counted_from: datetime | None
    warning_from: datetime | None
    exempt: bool
    exempt_reasons: list[str]
    message: str


class PoolStatusRead(msgspec.Struct):
    customer_id: UUID
    status: str
    in_pool: bool
    owner_membership_id: UUID | None
    owner_name: str | None
    can_claim: bool
    claim: RuleCheck
    reclaim: ReclaimRead | None
    summary: list[str]


class GrantCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Give ``membership_id`` access to one customer or one territory (with its subtree) until ``until``."""

    membership_id: UUID
    until: AwareTime
    customer_id: UUID | None = None
    territory_id: UUID | None = None
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class GrantRead(msgspec.Struct):
    id: UUID
    membership_id: UUID
    member_name: str | None
    customer_id: UUID | None
    territory_id: UUID | None
    reason: str | None
    granted_by: UUID | None
    until: datetime
    created_at: datetime
    revoked_at: datetime | None
    active: bool


class ReclaimDueItem(msgspec.Struct):
    customer_id: UUID
    customer_name: str
    owner_membership_id: UUID
    owner_name: str | None
    territory_id: UUID
    territory_name: str
    due_at: datetime
    date: str  # the due date in the tenant's time zone
    days_left: int  # 0: due now (the next sweep takes it)


class ReclaimsDueRead(msgspec.Struct):
    """Team customers the auto-reclaim will take within ``days`` (a manager's subtrees)."""

    days: int
    territory_id: UUID | None
    total: int
    items: list[ReclaimDueItem]


class AccessRequestCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Ask to work, until ``until``, one customer or one territory (with its subtree) outside your own
    (跨区申请), saying why. Name exactly one of: ``customer_id`` (a customer you can see or whose pool
    you work), ``territory_id``, or ``conflict_id`` — a duplicate entry (撞单) you made, for the
    customer it collided with."""

    reason: Annotated[str, msgspec.Meta(max_length=1000)]
    until: AwareTime
    customer_id: UUID | None = None
    territory_id: UUID | None = None
    conflict_id: UUID | None = None


class AccessDecision(msgspec.Struct, forbid_unknown_fields=True):
    """A manager's answer to a cross-territory request; the comment goes to the requester."""

    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class AccessRequestRead(msgspec.Struct):
    """A cross-territory request. ``target_territory_id``: the territory whose managers decide it (the
    one asked for, or the customer's); ``grant_id``: the grant its approval made."""

    id: UUID
    membership_id: UUID
    member_name: str | None
    customer_id: UUID | None
    customer_name: str | None
    customer_grade: str | None
    customer_status: str | None
    customer_owner_name: str | None
    territory_id: UUID | None
    target_territory_id: UUID
    target_territory_name: str
    member_territories: list[str]
    reason: str
    until: datetime
    status: str
    comment: str | None
    decided_by: UUID | None
    decider_name: str | None
    decided_at: datetime | None
    grant_id: UUID | None
    created_at: datetime
