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


class ClaimCounter(msgspec.Struct):
    """The member against the claim caps: ``owned`` of ``owned_cap``, ``today`` of ``daily_cap``
    (``None``: no daily cap)."""

    owned: int
    owned_cap: int
    today: int
    daily_cap: int | None


class ReleaseBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)]


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


class VerifyRead(msgspec.Struct):
    ok: bool
    checked: int
    first_broken_id: int | None
    first_broken_seq: int | None
    head_seq: int | None
    head_hash: str | None


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
