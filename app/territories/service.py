"""Territories: the tree and its changes (who manages what is ``tenants.access.territories``).

Everyone in a tenant may read the tree and its members (reps pick territories from it). Writes:
owner/admin anywhere; a manager inside the subtrees they manage (creating under, editing in; deleting
or moving only territories strictly below one they manage); a rep never (403). An id that is not in
the tenant is 404, whatever the role.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
from msgspec import UnsetType

from app import audit
from app.db import Tx
from app.errors import Conflict, NotFound, ValidationFailed
from app.pagination import Page, check_limit, decode_cursor, encode_cursor
from app.rows import to_struct
from app.sql import Params
from app.territories import impact, tree
from app.territories.schemas import (
    MoveImpact,
    TerritoryCreate,
    TerritoryMove,
    TerritoryOption,
    TerritoryRead,
    TerritoryUpdate,
)
from tenants.access import in_subtree_sql, require_manages
from tenants.scope import TenantScope

_COLUMNS = "id, parent_id, name, level, path, created_at, updated_at"
# Structural writes (create, move, delete) of one tenant's tree run one at a time, so a move can
# never race a create below it or another move into a cycle.
_TREE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('territory-tree:' || $1::uuid::text, 0))"


def _read(row: asyncpg.Record) -> TerritoryRead:
    ids = tree.ids_of(row["path"])
    return to_struct(TerritoryRead, row, depth=len(ids), ancestor_ids=ids[:-1])


# --- reading ---------------------------------------------------------------------------------


async def fetch_territory(tx: Tx, scope: TenantScope, territory_id: UUID) -> asyncpg.Record:
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS} FROM territories WHERE tenant = $1 AND id = $2", scope.tenant_id, territory_id
    )
    if row is None:
        raise NotFound("No territory with this id")
    return row


async def get_territory(scope: TenantScope, territory_id: UUID) -> TerritoryRead:
    async with scope.tx() as tx:
        return _read(await fetch_territory(tx, scope, territory_id))


async def list_territories(
    scope: TenantScope,
    *,
    parent_id: UUID | None = None,
    under: UUID | None = None,
    top_level: bool = False,
    limit: int = 200,
    cursor: str | None = None,
) -> Page[TerritoryRead]:
    """The tree in depth-first order (by path): all of it, the children of ``parent_id``, the top
    level, or the subtree ``under`` a territory (itself included). Unknown ids give an empty page."""
    check_limit(limit)
    after = decode_cursor(cursor, 1)
    async with scope.tx() as tx:
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM territories t WHERE tenant = $1"
            " AND ($2::uuid IS NULL OR parent_id = $2)"
            " AND (NOT $3 OR parent_id IS NULL)"
            " AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM territories u WHERE u.tenant = $1 AND u.id = $4"
            f"      AND {in_subtree_sql('t.path', of='u.path')}))"
            " AND ($5::text IS NULL OR path > $5)"
            " ORDER BY path LIMIT $6",
            scope.tenant_id,
            parent_id,
            top_level,
            under,
            after[0] if after else None,
            limit + 1,
        )
    items = [_read(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(rows[limit - 1]["path"]) if more else None)


def picker_sql(p: Params, limit: int = 200) -> str:
    """The tree in depth-first order (the first ``limit``, as ``list_territories`` pages it) as one
    scalar subquery of JSON (the tenant is ``$1``): a page's territory picker read in the same round
    trip as its other small reads. ``picker_options`` reads it."""
    return (
        "(SELECT coalesce(json_agg(json_build_array(t.id::text, t.name,"
        f" char_length(t.path) / {tree.SEGMENT}) ORDER BY t.path), '[]')::text"
        f" FROM (SELECT id, name, path FROM territories WHERE tenant = $1 ORDER BY path LIMIT {p(limit)}) t)"
    )


def picker_options(raw: str) -> list[TerritoryOption]:
    return msgspec.json.decode(raw, type=list[TerritoryOption])


# --- writing ---------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValidationFailed.field("name", "Required")
    return cleaned


def _sibling_conflict(name: str) -> Conflict:
    return Conflict("A territory named {name} already exists here", name=name, extra={"field": "name"})


async def create_territory(scope: TenantScope, data: TerritoryCreate) -> TerritoryRead:
    name = _clean_name(data.name)
    new_id = uuid4()
    try:
        async with scope.tx() as tx:
            scope.require("manager")
            await tx.execute(_TREE_LOCK, scope.tenant_id)
            parent_path: str | None = None
            if data.parent_id is not None:
                parent = await tx.fetchrow(
                    "SELECT path FROM territories WHERE tenant = $1 AND id = $2",
                    scope.tenant_id,
                    data.parent_id,
                )
                if parent is None:
                    raise ValidationFailed.field("parent_id", "No territory with this id")
                parent_path = str(parent["path"])
                if tree.depth(parent_path) >= tree.MAX_DEPTH:
                    raise ValidationFailed.field(
                        "parent_id", "Territories nest at most {max} levels deep", max=tree.MAX_DEPTH
                    )
            await require_manages(tx, scope, data.parent_id)
            row = await tx.fetchrow(
                "INSERT INTO territories (tenant, id, parent_id, name, level, path)"
                " VALUES ($1, $2, $3, $4, $5, $6)"
                f" RETURNING {_COLUMNS}",
                scope.tenant_id,
                new_id,
                data.parent_id,
                name,
                data.level,
                tree.child_path(parent_path, new_id),
            )
            assert row is not None
            await audit.record(
                tx,
                scope.user_id,
                "territory.created",
                "territory",
                new_id,
                data={"name": name, "level": data.level, "parent_id": data.parent_id},
            )
            return _read(row)
    except asyncpg.UniqueViolationError:
        raise _sibling_conflict(name) from None


async def update_territory(scope: TenantScope, territory_id: UUID, data: TerritoryUpdate) -> TerritoryRead:
    changes: dict[str, Any] = {}
    if not isinstance(data.name, UnsetType):
        changes["name"] = _clean_name(data.name)
    if not isinstance(data.level, UnsetType):
        changes["level"] = data.level
    try:
        async with scope.tx() as tx:
            current = await fetch_territory(tx, scope, territory_id)
            await require_manages(tx, scope, territory_id)
            if not changes:
                return _read(current)
            row = await tx.fetchrow(
                "UPDATE territories SET name = coalesce($3, name), level = coalesce($4, level),"
                " updated_at = now()"
                f" WHERE tenant = $1 AND id = $2 RETURNING {_COLUMNS}",
                scope.tenant_id,
                territory_id,
                changes.get("name"),
                changes.get("level"),
            )
            assert row is not None
            await audit.record(
                tx,
                scope.user_id,
                "territory.updated",
                "territory",
                territory_id,
                data={k: {"from": current[k], "to": v} for k, v in changes.items()},
            )
            return _read(row)
    except asyncpg.UniqueViolationError:
        raise _sibling_conflict(str(changes.get("name"))) from None


async def delete_territory(scope: TenantScope, territory_id: UUID) -> None:
    """Delete a territory with its whole subtree and their member lists. Refused (409, naming the
    count) while any customer is in the subtree: move them first."""
    async with scope.tx() as tx:
        await tx.execute(_TREE_LOCK, scope.tenant_id)
        current = await fetch_territory(tx, scope, territory_id)
        await require_manages(tx, scope, current["parent_id"])
        path = str(current["path"])
        customers = await impact.count_customers(tx, scope.tenant_id, path)
        if customers:
            raise Conflict(
                "This territory or its subtree still has {count} customers; move them first",
                count=customers,
                extra={"customers": customers},
            )
        deleted = await tx.execute(
            f"DELETE FROM territories WHERE tenant = $1 AND {in_subtree_sql('path', of='$2')}",
            scope.tenant_id,
            path,
        )
        await audit.record(
            tx,
            scope.user_id,
            "territory.deleted",
            "territory",
            territory_id,
            data={"name": current["name"], "territories": int(deleted.split()[-1])},
        )


async def move_territory(scope: TenantScope, territory_id: UUID, data: TerritoryMove) -> MoveImpact:
    """Move a territory and its subtree under ``new_parent_id`` (``None`` = top level). With
    ``preview`` nothing changes and the answer is what would be affected. A target inside the
    subtree itself is refused (422); all paths of the subtree are rewritten in one UPDATE."""
    try:
        async with scope.tx() as tx:
            if not data.preview:
                await tx.execute(_TREE_LOCK, scope.tenant_id)
            current = await fetch_territory(tx, scope, territory_id)
            await require_manages(tx, scope, current["parent_id"])
            old_path = str(current["path"])
            new_parent_path: str | None = None
            if data.new_parent_id is not None:
                target = await tx.fetchrow(
                    "SELECT path FROM territories WHERE tenant = $1 AND id = $2",
                    scope.tenant_id,
                    data.new_parent_id,
                )
                if target is None:
                    raise ValidationFailed.field("new_parent_id", "No territory with this id")
                new_parent_path = str(target["path"])
                if tree.is_within(new_parent_path, old_path):
                    raise ValidationFailed.field(
                        "new_parent_id", "A territory cannot be moved under itself or its own subtree"
                    )
            await require_manages(tx, scope, data.new_parent_id)
            deepest = int(
                await tx.fetchval(
                    "SELECT max(length(path)) FROM territories"
                    f" WHERE tenant = $1 AND {in_subtree_sql('path', of='$2')}",
                    scope.tenant_id,
                    old_path,
                )
            )
            new_path = tree.child_path(new_parent_path, territory_id)
            if tree.depth(new_path) + (deepest - len(old_path)) // tree.SEGMENT > tree.MAX_DEPTH:
                raise ValidationFailed.field(
                    "new_parent_id", "Territories nest at most {max} levels deep", max=tree.MAX_DEPTH
                )
            result = MoveImpact(
                territory_id=territory_id,
                new_parent_id=data.new_parent_id,
                applied=not data.preview,
                territories=await impact.count_territories(tx, scope.tenant_id, old_path),
                customers=await impact.count_customers(tx, scope.tenant_id, old_path),
                reps=await impact.count_reps(tx, scope.tenant_id, old_path),
                open_deals=await impact.open_deals_in_subtree(tx, scope.tenant_id, old_path),
            )
            if data.preview or new_path == old_path:
                return result
            await tx.execute(
                "UPDATE territories SET path = $3 || substr(path, $4),"
                " parent_id = CASE WHEN id = $5 THEN $6 ELSE parent_id END,"
                " updated_at = CASE WHEN id = $5 THEN now() ELSE updated_at END"
                f" WHERE tenant = $1 AND {in_subtree_sql('path', of='$2')}",
                scope.tenant_id,
                old_path,
                new_path,
                len(old_path) + 1,
                territory_id,
                data.new_parent_id,
            )
            await audit.record(
                tx,
                scope.user_id,
                "territory.moved",
                "territory",
                territory_id,
                data={
                    "from_parent_id": current["parent_id"],
                    "to_parent_id": data.new_parent_id,
                    "territories": result.territories,
                    "customers": result.customers,
                },
            )
            return result
    except asyncpg.UniqueViolationError:
        raise Conflict(
            "The new parent already has a territory with this name", extra={"field": "name"}
        ) from None
