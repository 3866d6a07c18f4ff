"""Input and output shapes of the handover API (never table rows)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from app.deals.registrations.schemas import RegistrationConflict
from app.territories.schemas import Level

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
    ``keep_read_days``: the previous owner still sees the customers for this many days;
    ``carry_envelopes``: their envelopes out for signature get the receiver as sender (the signers
    are not told); ``previous_owner_signs``: the previous owners sign the handover sheet too (the
    receivers always do)."""

    carry_deals: bool = True
    keep_read_days: Days = 0
    carry_envelopes: bool = True
    previous_owner_signs: bool = False


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
    envelopes: int = 0
    tasks: int = 0  # open tasks, return visits and future visit-plan items carried along
    return_visits: int = 0
    visit_items: int = 0


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
    envelopes: int = 0
    tasks: int = 0
    return_visits: int = 0
    visit_items: int = 0
    # customers a live vendor registration keeps with another team (app.deals.registrations.gates)
    registration_conflicts: list[RegistrationConflict] = msgspec.field(default_factory=list)


class NewTerritory(msgspec.Struct, forbid_unknown_fields=True):
    """A split's new sibling territory, created when the realignment runs, with its members."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    level: Level = "custom"
    reps: list[UUID] = msgspec.field(default_factory=list)
    managers: list[UUID] = msgspec.field(default_factory=list)


class RealignCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A territory realignment (区域调整), planned and previewed like a handover.

    ``move``: ``territory_id`` with its subtree goes under ``new_parent_id`` (``None``: top level).
    ``merge``: ``territory_id`` (B) goes into ``into_id`` (A): B's customers, children and members go to
    A, B is deleted. ``split``: customers of ``territory_id`` chosen by ``customer_ids`` or by
    ``grades``/``statuses``/``owner_ids`` go to the existing ``into_id`` or to ``new_territory`` (a new
    sibling). ``owner_rule`` for an owner who does not work the territory a customer ends in (is not a
    member of it or of one of its ancestors, after the change): ``keep`` — listed as a conflict, the
    plan cannot run until resolved; ``reassign`` — to that territory's reps (or, with none, its nearest
    ancestor's) by capacity; ``release`` — to its pool. Owners who do work it keep their customers
    under every rule."""

    reason: Reason
    operation: Literal["move", "merge", "split"]
    territory_id: UUID
    new_parent_id: UUID | None = None
    into_id: UUID | None = None
    new_territory: NewTerritory | None = None
    customer_ids: list[UUID] = msgspec.field(default_factory=list)
    grades: list[Literal["A", "B", "C", "D"]] = msgspec.field(default_factory=list)
    statuses: list[Literal["prospect", "won", "lost", "closed"]] = msgspec.field(default_factory=list)
    owner_ids: list[UUID] = msgspec.field(default_factory=list)
    owner_rule: Literal["keep", "reassign", "release"] = "keep"
    carry_deals: bool = True
    carry_envelopes: bool = True


class RealignStored(msgspec.Struct):
    """What a realignment plan keeps besides the handover columns: the request, the id the split's
    new territory will get, and the paths seen when planning (execute refuses if the tree moved)."""

    request: RealignCreate
    new_territory_id: UUID | None = None
    seen_paths: dict[str, str] = msgspec.field(default_factory=dict)


class TerritoryImpact(msgspec.Struct):
    """One territory customers end in: how many, their open deals, and what the owner rule does."""

    territory_id: UUID
    name: str
    customers: int
    deals: int
    pipeline_amount: Decimal
    kept: int
    reassigned: int
    released: int
    conflicts: int


class RealignPreview(msgspec.Struct):
    operation: str
    territory_id: UUID
    target_id: UUID | None
    owner_rule: str
    territories_moved: int
    members_moved: int
    targets: list[TerritoryImpact]  # the first 200 territories
    conflicts: int


class SheetSigner(msgspec.Struct):
    """One person asked to sign the handover sheet (``side``: ``receiver`` or ``previous_owner``),
    with the signing flow's status of their signature."""

    envelope_id: UUID
    name: str
    email: str
    side: str
    status: str
    signed: bool
    signed_at: datetime | None


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
    realignment: RealignPreview | None = None
    sheet_signers: list[SheetSigner] = msgspec.field(default_factory=list)


class HandoverSummary(msgspec.Struct):
    """One plan in the list (the full preview is on ``GET /api/v1/handovers/{id}``)."""

    id: UUID
    kind: str
    status: str
    mode: str
    reason: str
    customers: int
    created_by: UUID | None
    created_at: datetime
    executed_at: datetime | None
    undone_at: datetime | None


class SheetRow(msgspec.Struct):
    """One customer of an executed (or undone) handover as its sheet lists it: who had it, who got
    it (``None``: the pool), and the deals that moved with it (how many, their amount)."""

    customer_id: UUID
    full_name: str
    grade: str
    territory: str
    from_name: str | None
    to_name: str | None
    to_pool: bool
    deals: int
    deals_amount: Decimal


class SheetRows(msgspec.Struct):
    """One page of the handover sheet's rows (``offset`` from the first), and how many there are."""

    items: list[SheetRow]
    total: int
    offset: int
    limit: int
