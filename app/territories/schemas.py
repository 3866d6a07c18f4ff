from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

Level = Literal["province", "prefecture", "city", "county", "township", "custom"]
TerritoryRole = Literal["manager", "rep"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TerritoryCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    level: Level = "custom"
    parent_id: UUID | None = None


class TerritoryUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    level: Level | UnsetType = UNSET


class TerritoryRead(msgspec.Struct):
    id: UUID
    parent_id: UUID | None
    name: str
    level: str
    depth: int
    ancestor_ids: list[UUID]
    created_at: datetime
    updated_at: datetime


class TerritoryOption(msgspec.Struct, array_like=True):
    """A territory in a page's picker: its id as text (what a form sends back), name and depth."""

    id: str
    name: str
    depth: int


class TerritoryMemberCreate(msgspec.Struct, forbid_unknown_fields=True):
    membership_id: UUID
    role: TerritoryRole


class TerritoryMemberRead(msgspec.Struct):
    territory_id: UUID
    membership_id: UUID
    user_id: UUID
    name: str
    email: str
    role: str
    created_at: datetime


class TerritoryMove(msgspec.Struct, forbid_unknown_fields=True):
    new_parent_id: UUID | None
    preview: bool = False


class MoveImpact(msgspec.Struct):
    """What moving a subtree touches. ``applied`` is false for a preview."""

    territory_id: UUID
    new_parent_id: UUID | None
    applied: bool
    territories: int
    customers: int
    reps: int
    open_deals: int


DivisionCode = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


class DivisionRead(msgspec.Struct):
    """An administrative division (GB/T 2260): ``full_name`` with its province and city."""

    code: str
    name: str
    level: str
    full_name: str


class DivisionMappingSet(msgspec.Struct, forbid_unknown_fields=True):
    territory_id: UUID


class DivisionMappingRead(msgspec.Struct):
    """A division code mapped to a territory: customers whose credit code lies in the division
    belong there (the most specific mapped code wins)."""

    code: str
    name: str
    level: str
    territory_id: UUID
    territory_name: str
    created_at: datetime
