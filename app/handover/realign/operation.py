"""A realignment resolved against the tree: checked (422 for what cannot be, 403 for what the member
may not change) and turned into a path prefix rewrite, the territory customers come from and where
they go."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg
import msgspec

from app.db import Tx
from app.errors import NotFound, ValidationFailed
from app.handover.schemas import RealignCreate, RealignStored
from app.territories import tree
from tenants.access import in_subtree_sql, require_manages
from tenants.scope import TenantScope


class Operation(msgspec.Struct):
    """The operation resolved against the tree: the path prefix rewrite (``old`` → ``new``), the
    territory customers are selected from, where they go, and the territories it touches."""

    subject: asyncpg.Record
    target: asyncpg.Record | None
    old: str | None
    new: str | None
    new_id: UUID | None
    new_path: str | None
    seen: dict[str, str]


async def _active_members(tx: Tx, ids: list[UUID], field: str) -> None:
    """422 on ``field[n]`` for the first id that is no active member of the tenant."""
    if not ids:
        return
    rows = await tx.fetch(
        "SELECT id FROM memberships WHERE tenant = $1 AND id = ANY($2::uuid[]) AND active", tx.tenant_id, ids
    )
    known = {r["id"] for r in rows}
    for n, membership_id in enumerate(ids):
        if membership_id not in known:
            raise ValidationFailed.field(f"{field}[{n}]", "No active member with this id")


async def _territory(tx: Tx, territory_id: UUID, field: str) -> asyncpg.Record:
    row = await tx.fetchrow(
        "SELECT id, parent_id, name, path FROM territories WHERE tenant = $1 AND id = $2",
        tx.tenant_id,
        territory_id,
    )
    if row is None:
        if field == "territory_id":  # the territory acted on, like an id in a route: 404
            raise NotFound("No territory with this id")
        raise ValidationFailed.field(field, "No territory with this id")
    return row


async def _parent_path(tx: Tx, parent_id: UUID | None) -> str | None:
    if parent_id is None:
        return None
    return str(
        await tx.fetchval(
            "SELECT path FROM territories WHERE tenant = $1 AND id = $2", tx.tenant_id, parent_id
        )
    )


async def _deepest_below(tx: Tx, path: str) -> int:
    """How many levels the subtree at ``path`` has below itself."""
    longest = await tx.fetchval(
        f"SELECT max(length(path)) FROM territories WHERE tenant = $1 AND {in_subtree_sql('path', of='$2')}",
        tx.tenant_id,
        path,
    )
    return (int(longest) - len(path)) // tree.SEGMENT


async def resolve(tx: Tx, scope: TenantScope, data: RealignCreate, new_id: UUID | None) -> Operation:
    """Check the operation against the tree (422 for what cannot be, 403 for what the member may not
    change) and resolve its paths."""
    subject = await _territory(tx, data.territory_id, "territory_id")
    path = str(subject["path"])
    seen = {str(subject["id"]): path}
    if data.operation == "move":
        if data.into_id is not None or data.new_territory is not None:
            raise ValidationFailed.field("operation", "A move takes only new_parent_id")
        parent_path: str | None = None
        if data.new_parent_id is not None:
            target = await _territory(tx, data.new_parent_id, "new_parent_id")
            parent_path = str(target["path"])
            if tree.is_within(parent_path, path):
                raise ValidationFailed.field(
                    "new_parent_id", "A territory cannot be moved under itself or its own subtree"
                )
            seen[str(target["id"])] = parent_path
        else:
            target = None
        await require_manages(tx, scope, subject["parent_id"])
        await require_manages(tx, scope, data.new_parent_id)
        new = tree.child_path(parent_path, subject["id"])
        if tree.depth(new) + await _deepest_below(tx, path) > tree.MAX_DEPTH:
            raise ValidationFailed.field(
                "new_parent_id", "Territories nest at most {max} levels deep", max=tree.MAX_DEPTH
            )
        return Operation(subject, target, path, new, None, None, seen)
    if data.operation == "merge":
        if data.into_id is None:
            raise ValidationFailed.field("into_id", "Choose the territory to merge into")
        target = await _territory(tx, data.into_id, "into_id")
        into = str(target["path"])
        if tree.is_within(into, path):
            raise ValidationFailed.field(
                "into_id", "A territory cannot be merged into itself or its own subtree"
            )
        seen[str(target["id"])] = into
        await require_manages(tx, scope, subject["parent_id"])
        await require_manages(tx, scope, target["id"])
        if tree.depth(into) + await _deepest_below(tx, path) > tree.MAX_DEPTH:
            raise ValidationFailed.field(
                "into_id", "Territories nest at most {max} levels deep", max=tree.MAX_DEPTH
            )
        return Operation(subject, target, path, into, None, None, seen)
    # split
    if (data.into_id is None) == (data.new_territory is None):
        raise ValidationFailed.field("into_id", "Give either into_id or new_territory")
    if not (data.customer_ids or data.grades or data.statuses or data.owner_ids):
        raise ValidationFailed.field(
            "customer_ids", "Choose the customers by id or by grade, status or owner"
        )
    await require_manages(tx, scope, subject["id"])
    if data.into_id is not None:
        target = await _territory(tx, data.into_id, "into_id")
        if target["id"] == subject["id"]:
            raise ValidationFailed.field("into_id", "Choose another territory than the one being split")
        seen[str(target["id"])] = str(target["path"])
        await require_manages(tx, scope, target["id"])
        return Operation(subject, target, None, None, None, None, seen)
    assert data.new_territory is not None
    if not data.new_territory.name.strip():
        raise ValidationFailed.field("new_territory.name", "Required")
    await _active_members(tx, data.new_territory.reps, "new_territory.reps")
    await _active_members(tx, data.new_territory.managers, "new_territory.managers")
    await require_manages(tx, scope, subject["parent_id"])
    new_id = new_id or uuid4()
    new_path = tree.child_path(await _parent_path(tx, subject["parent_id"]), new_id)
    return Operation(subject, None, None, None, new_id, new_path, seen)


def stored_request(row: asyncpg.Record) -> RealignStored:
    """The plan row's stored realignment (its request and what planning saw)."""
    value = row["realign"]
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=RealignStored)
    return msgspec.convert(value, type=RealignStored)
