"""Input and output shapes of the handover API (never table rows)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Mode = Literal["single", "round_robin", "capacity", "pool"]
Weight = Annotated[int, msgspec.Meta(ge=1, le=100)]
Days = Annotated[int, msgspec.Meta(ge=0, le=90)]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]


class HandoverSelection(msgspec.Struct, forbid_unknown_fields=True):
    """Which customers: those owned by ``owner_ids`` and/or (``pool``) unowned ones, in
    ``territory_ids`` (with subtrees), of ``grades`` and ``statuses``, or exactly ``customer_ids``.
    Criteria combine with AND; at least one of owner_ids, pool, territory_ids, customer_ids."""

    owner_ids: list[UUID] = msgspec.field(default_factory=list)
    pool: bool = False
    territory_ids: list[UUID] = msgspec.field(default_factory=list)
    grades: list[Literal["A", "B", "C", "D"]] = msgspec.field(default_factory=list)
    statuses: list[Literal["prospect", "won", "lost"]] = msgspec.field(default_factory=list)
    customer_ids: list[UUID] = msgspec.field(default_factory=list)


class HandoverTarget(msgspec.Struct, forbid_unknown_fields=True):
    membership_id: UUID
    weight: Weight = 1


class HandoverOptions(msgspec.Struct, forbid_unknown_fields=True):
    """``carry_deals``: open deals (and so their quotes) of the previous owner go along;
    ``keep_read_days``: the previous owner still sees the customers for this many days."""

    carry_deals: bool = True
    keep_read_days: Days = 0


class HandoverCreate(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    selection: HandoverSelection
    targets: list[HandoverTarget] = msgspec.field(default_factory=list)
    mode: Mode = "round_robin"
    options: HandoverOptions = msgspec.field(default_factory=HandoverOptions)


class ReceiverPreview(msgspec.Struct):
    membership_id: UUID
    name: str
    customers: int
    by_grade: dict[str, int]
    deals: int
    pipeline_amount: Decimal
    owned_now: int
    owned_after: int
    cap: int
    exceeds_cap: bool
    grades_over_cap: list[str]


class BlockedCustomer(msgspec.Struct):
    customer_id: UUID
    full_name: str | None
    code: str
    reason: str


class SkippedTarget(msgspec.Struct):
    membership_id: UUID
    reason: str


class HandoverPreview(msgspec.Struct):
    customers: int
    to_pool: int
    deals: int
    pipeline_amount: Decimal
    receivers: list[ReceiverPreview]
    over_cap: list[UUID]
    blocked_count: int
    blocked: list[BlockedCustomer]  # the first 200
    skipped_targets: list[SkippedTarget]


class HandoverRead(msgspec.Struct):
    id: UUID
    kind: str
    status: str
    mode: str
    reason: str
    selection: HandoverSelection
    targets: list[HandoverTarget]
    options: HandoverOptions
    created_by: UUID | None
    created_at: datetime
    planned_at: datetime
    executed_at: datetime | None
    undone_at: datetime | None
    undo_until: datetime | None
    read_until: datetime | None
    document_id: UUID | None
    preview: HandoverPreview
