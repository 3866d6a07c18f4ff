"""Managing pools: the tenant's own pools (owner/admin), their scope, admins and rules; what a pool's
admins do with its customers — assign them to a member, move them to another pool, export them — and
the per-territory and per-member cap overrides.

Who: creating, changing and deleting pools, and the cap overrides, owner/admin (as the pool rules).
Assigning, moving and exporting: the pool's admins (``tenants.access.pools``), else 403 — a pool the
member can neither claim from nor administer is 404, like another tenant's. Every change is in the
audit log; an assignment is an ownership change in the ledger (cause ``assign``, the pool named).
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from app.audit import record
from app.customers.ledger import OwnershipChange
from app.customers.owner_changes import Moves, change_owners
from app.customers.pool import pools as pool_refs
from app.customers.pool.pools import KINDS, POOL_SELECT, PoolRef
from app.customers.pool.rules import PoolRulesOverride, check_override, override_of
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tenants.access import customer_access
from tenants.scope import TenantScope

MAX_IDS = 500


class PoolWrite(msgspec.Struct, forbid_unknown_fields=True):
    """A pool the tenant adds, or the new state of one (PUT). A territory's pool keeps its name and
    kind (they are its territory's); its scope, admins and rules change like any other's."""

    name: str | None = None
    kind: str = "custom"
    rules: PoolRulesOverride | None = None
    scope_territory_ids: list[UUID] = msgspec.field(default_factory=list)
    scope_membership_ids: list[UUID] = msgspec.field(default_factory=list)
    admin_membership_ids: list[UUID] = msgspec.field(default_factory=list)


class PoolRead(msgspec.Struct):
    id: UUID
    territory_id: UUID | None
    name: str
    kind: str
    rules: PoolRulesOverride | None
    hidden_fields: list[str]
    scope_territory_ids: list[UUID]
    scope_membership_ids: list[UUID]
    admin_membership_ids: list[UUID]
    may_claim: bool
    administers: bool
    customers_in_pool: int


class AssignBody(msgspec.Struct, forbid_unknown_fields=True):
    customer_ids: list[UUID]
    membership_id: UUID
    reason: str | None = None


class MoveBody(msgspec.Struct, forbid_unknown_fields=True):
    customer_ids: list[UUID]
    to_pool_id: UUID


class MovedRead(msgspec.Struct):
    moved: int


class CapOverrideWrite(msgspec.Struct, forbid_unknown_fields=True):
    """One territory's or one member's caps (null: inherit)."""

    territory_id: UUID | None = None
    membership_id: UUID | None = None
    owned_cap: int | None = None
    daily_claim_cap: int | None = None
    lock_cap: int | None = None


class CapOverrideRead(msgspec.Struct):
    id: UUID
    territory_id: UUID | None
    membership_id: UUID | None
    owned_cap: int | None
    daily_claim_cap: int | None
    lock_cap: int | None


# --- reading ----------------------------------------------------------------------------------------


async def _read(tx: Tx, scope: TenantScope, ref: PoolRef) -> PoolRead:
    access = await customer_access(tx, scope)
    row = await tx.fetchrow(
        "SELECT ARRAY(SELECT territory_id FROM pool_scopes WHERE tenant = $1 AND pool_id = $2"
        "  AND territory_id IS NOT NULL ORDER BY territory_id) AS territories,"
        " ARRAY(SELECT membership_id FROM pool_scopes WHERE tenant = $1 AND pool_id = $2"
        "  AND membership_id IS NOT NULL ORDER BY membership_id) AS members,"
        " ARRAY(SELECT membership_id FROM pool_admins WHERE tenant = $1 AND pool_id = $2"
        "  ORDER BY membership_id) AS admins,"
        " (SELECT count(*) FROM customers WHERE tenant = $1 AND pool_id = $2 AND owner_membership_id IS NULL"
        "  AND status IN ('prospect', 'lost')) AS n",
        scope.tenant_id,
        ref.id,
    )
    assert row is not None
    return PoolRead(
        id=ref.id,
        territory_id=ref.territory_id,
        name=ref.name,
        kind=ref.kind,
        rules=override_of(ref.rules) if ref.rules else None,
        hidden_fields=list(ref.hidden_fields),
        scope_territory_ids=list(row["territories"]),
        scope_membership_ids=list(row["members"]),
        admin_membership_ids=list(row["admins"]),
        may_claim=access.everything or ref.id in access.pools,
        administers=access.administers(ref.id),
        customers_in_pool=int(row["n"]),
    )


async def list_pools(scope: TenantScope) -> list[PoolRead]:
    """The pools the member may claim from or administers (owner/admin: all), territories' first."""
    async with scope.tx() as tx:
        access = await customer_access(tx, scope)
        ids = None if access.everything else list(access.pools | access.administered)
        rows = await tx.fetch(
            POOL_SELECT + " WHERE p.tenant = $1 AND ($2::uuid[] IS NULL OR p.id = ANY($2::uuid[]))"
            " ORDER BY p.territory_id IS NULL, coalesce(p.name, t.name), p.id",
            scope.tenant_id,
            ids,
        )
        refs = [await pool_refs.pool_by_id(tx, r["id"]) for r in rows]
        return [await _read(tx, scope, ref) for ref in refs]


async def get_pool(scope: TenantScope, pool_id: UUID) -> PoolRead:
    async with scope.tx() as tx:
        return await _read(tx, scope, await pool_refs.visible_pool(tx, scope, pool_id))


# --- owner/admin: pools, scope, admins, rules -----------------------------------------------------


async def _check_ids(tx: Tx, table: str, ids: list[UUID], field: str) -> None:
    if len(ids) > MAX_IDS:
        raise ValidationFailed.field(field, "At most {n} at once", n=MAX_IDS)
    known = await tx.fetchval(
        f"SELECT count(*) FROM {table} WHERE tenant = $1 AND id = ANY($2::uuid[])", tx.tenant_id, ids
    )
    if known != len(set(ids)):
        raise ValidationFailed.field(field, "Unknown id in the list")


async def _write_members(tx: Tx, pool_id: UUID, data: PoolWrite) -> None:
    await _check_ids(tx, "territories", data.scope_territory_ids, "scope_territory_ids")
    await _check_ids(tx, "memberships", data.scope_membership_ids, "scope_membership_ids")
    await _check_ids(tx, "memberships", data.admin_membership_ids, "admin_membership_ids")
    tenant = tx.tenant_id
    await tx.execute("DELETE FROM pool_scopes WHERE tenant = $1 AND pool_id = $2", tenant, pool_id)
    await tx.execute("DELETE FROM pool_admins WHERE tenant = $1 AND pool_id = $2", tenant, pool_id)
    await tx.execute(
        "INSERT INTO pool_scopes (tenant, pool_id, territory_id)"
        " SELECT DISTINCT $1::uuid, $2::uuid, x FROM unnest($3::uuid[]) x",
        tenant,
        pool_id,
        data.scope_territory_ids,
    )
    await tx.execute(
        "INSERT INTO pool_scopes (tenant, pool_id, membership_id)"
        " SELECT DISTINCT $1::uuid, $2::uuid, x FROM unnest($3::uuid[]) x",
        tenant,
        pool_id,
        data.scope_membership_ids,
    )
    await tx.execute(
        "INSERT INTO pool_admins (tenant, pool_id, membership_id)"
        " SELECT DISTINCT $1::uuid, $2::uuid, x FROM unnest($3::uuid[]) x",
        tenant,
        pool_id,
        data.admin_membership_ids,
    )


def _name(data: PoolWrite) -> str:
    name = (data.name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed.field("name", "Use 1 to 100 characters")
    if data.kind not in KINDS or data.kind == "territory":
        raise ValidationFailed.field("kind", "Use key_accounts, inbound, lost or custom")
    return name


def _rules_json(rules: PoolRulesOverride | None) -> str | None:
    return msgspec.json.encode(rules).decode() if rules is not None else None


async def create_pool(scope: TenantScope, data: PoolWrite) -> PoolRead:
    """A pool of the tenant's own (owner/admin): 422 naming the field (name taken: 409)."""
    scope.require("admin")
    name = _name(data)
    async with scope.tx() as tx:
        if data.rules is not None:
            await check_override(tx, data.rules)
        pool_id = await tx.fetchval(
            "INSERT INTO pools (tenant, name, kind, rules, created_by) VALUES ($1, $2, $3, $4::jsonb, $5)"
            " ON CONFLICT DO NOTHING RETURNING id",
            scope.tenant_id,
            name,
            data.kind,
            _rules_json(data.rules),
            scope.membership_id,
        )
        if pool_id is None:
            raise Conflict("A pool with this name exists already", extra={"field": "name"})
        await _write_members(tx, pool_id, data)
        await record(tx, scope.membership_id, "pool.create", "pool", pool_id, data={"name": name})
        return await _read(tx, scope, await pool_refs.pool_by_id(tx, pool_id))


async def update_pool(scope: TenantScope, pool_id: UUID, data: PoolWrite) -> PoolRead:
    """Replace a pool's scope, admins and rules (and, for the tenant's own, name and kind)."""
    scope.require("admin")
    async with scope.tx() as tx:
        ref = await pool_refs.pool_by_id(tx, pool_id)
        if data.rules is not None:
            await check_override(tx, data.rules)
        if ref.territory_id is None:
            name = _name(data)
            taken = await tx.fetchval(
                "SELECT 1 FROM pools WHERE tenant = $1 AND territory_id IS NULL AND lower(name) = lower($2)"
                " AND id <> $3",
                scope.tenant_id,
                name,
                pool_id,
            )
            if taken:
                raise Conflict("A pool with this name exists already", extra={"field": "name"})
            await tx.execute(
                "UPDATE pools SET name = $3, kind = $4 WHERE tenant = $1 AND id = $2",
                scope.tenant_id,
                pool_id,
                name,
                data.kind,
            )
        await tx.execute(
            "UPDATE pools SET rules = $3::jsonb, updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            pool_id,
            _rules_json(data.rules),
        )
        await _write_members(tx, pool_id, data)
        await record(tx, scope.membership_id, "pool.update", "pool", pool_id)
        return await _read(tx, scope, await pool_refs.pool_by_id(tx, pool_id))


async def delete_pool(scope: TenantScope, pool_id: UUID) -> MovedRead:
    """Delete one of the tenant's own pools (owner/admin): its customers go to their territories'
    pools (owned ones keep their owner). A territory's pool goes only with its territory (409)."""
    scope.require("admin")
    async with scope.tx() as tx:
        ref = await pool_refs.pool_by_id(tx, pool_id)
        if ref.territory_id is not None:
            raise Conflict("A territory's pool goes only with its territory")
        moved = await tx.fetchval(
            "WITH m AS (UPDATE customers SET pool_id = NULL WHERE tenant = $1 AND pool_id = $2 RETURNING 1)"
            " SELECT count(*) FROM m",
            scope.tenant_id,
            pool_id,
        )
        await tx.execute("DELETE FROM pools WHERE tenant = $1 AND id = $2", scope.tenant_id, pool_id)
        await record(tx, scope.membership_id, "pool.delete", "pool", pool_id, data={"moved": moved})
        return MovedRead(int(moved))


# --- pool admins: assign, move, export --------------------------------------------------------------


async def _administered(tx: Tx, scope: TenantScope, pool_id: UUID) -> PoolRef:
    ref = await pool_refs.visible_pool(tx, scope, pool_id)
    if not (await customer_access(tx, scope)).administers(pool_id):
        raise Forbidden("Only the pool's admins can do this")
    return ref


def _ids(ids: list[UUID]) -> list[UUID]:
    if not ids:
        raise ValidationFailed.field("customer_ids", "Required")
    if len(ids) > MAX_IDS:
        raise ValidationFailed.field("customer_ids", "At most {n} at once", n=MAX_IDS)
    return list(dict.fromkeys(ids))


async def _in_pool(tx: Tx, pool_id: UUID, ids: list[UUID]) -> None:
    """409 unless every customer is in the pool now (unowned, a prospect or lost): nothing moves."""
    n = await tx.fetchval(
        "SELECT count(*) FROM customers WHERE tenant = $1 AND pool_id = $2 AND id = ANY($3::uuid[])"
        " AND owner_membership_id IS NULL AND status IN ('prospect', 'lost')",
        tx.tenant_id,
        pool_id,
        ids,
    )
    if n != len(ids):
        raise Conflict(
            "{n} of these customers are not in this pool (any more)",
            extra={"rule": "not_in_pool"},
            n=len(ids) - n,
        )


async def assign(scope: TenantScope, pool_id: UUID, data: AssignBody) -> MovedRead:
    """Give customers of the pool to an active member (the pool's admins): all or none (409 if one is
    no longer in the pool). The ledger records each as ``assign`` from this pool. Caps are not
    checked (an admin's assignment is a decision; the member may release)."""
    ids = _ids(data.customer_ids)
    async with scope.tx() as tx:
        await _administered(tx, scope, pool_id)
        active = await tx.fetchval(
            "SELECT active FROM memberships WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            data.membership_id,
        )
        if not active:
            raise ValidationFailed.field("membership_id", "No active member with this id")
        await _in_pool(tx, pool_id, ids)
        moves = Moves.listed(
            [OwnershipChange(i, None, data.membership_id) for i in ids],
            where="c.status IN ('prospect', 'lost') AND c.owner_membership_id IS NULL",
        )
        reason = (data.reason or "").strip()[:1000] or None
        result = await change_owners(tx, scope, moves, cause="assign", reason=reason, expect=len(ids))
        if result.written is None:
            raise Conflict("Someone claimed one of these customers meanwhile", extra={"rule": "taken"})
        return MovedRead(result.moved)


async def move(scope: TenantScope, pool_id: UUID, data: MoveBody) -> MovedRead:
    """Move unowned customers of the pool to another pool (the pool's admins): all or none. Into a
    territory's pool only its own territory's customers (422). Recorded in the audit log."""
    ids = _ids(data.customer_ids)
    async with scope.tx() as tx:
        await _administered(tx, scope, pool_id)
        try:
            target = await pool_refs.pool_by_id(tx, data.to_pool_id)
        except NotFound:
            raise ValidationFailed.field("to_pool_id", "No pool with this id") from None
        await _in_pool(tx, pool_id, ids)
        if target.territory_id is not None and await tx.fetchval(
            "SELECT 1 FROM customers WHERE tenant = $1 AND id = ANY($2::uuid[]) AND territory_id <> $3",
            scope.tenant_id,
            ids,
            target.territory_id,
        ):
            raise ValidationFailed.field("to_pool_id", "A territory's pool takes only its own customers")
        moved = await tx.fetchval(
            "WITH m AS (UPDATE customers SET pool_id = $3, updated_at = now()"
            " WHERE tenant = $1 AND id = ANY($2::uuid[]) RETURNING 1) SELECT count(*) FROM m",
            scope.tenant_id,
            ids,
            target.id,
        )
        await record(
            tx,
            scope.membership_id,
            "pool.move",
            "pool",
            pool_id,
            data={"to_pool_id": str(target.id), "customer_ids": [str(i) for i in ids]},
        )
        return MovedRead(int(moved))


async def check_export(scope: TenantScope, pool_id: UUID) -> None:
    """Exporting a pool is for its admins (403; 404 for a pool the member cannot see)."""
    async with scope.tx() as tx:
        await _administered(tx, scope, pool_id)


# --- cap overrides (owner/admin) ---------------------------------------------------------------------

_CAPS = "SELECT id, territory_id, membership_id, owned_cap, daily_claim_cap, lock_cap FROM pool_cap_overrides"


async def list_caps(scope: TenantScope) -> list[CapOverrideRead]:
    scope.require("admin")
    async with scope.tx() as tx:
        rows = await tx.fetch(
            _CAPS + " WHERE tenant = $1 ORDER BY territory_id NULLS LAST, id", scope.tenant_id
        )
    return [CapOverrideRead(**dict(r)) for r in rows]


def _cap(field: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise ValidationFailed.field(field, "Use a number from {low} to {high}", low=low, high=high)


async def put_caps(scope: TenantScope, data: CapOverrideWrite) -> CapOverrideRead:
    """Set one territory's or one member's caps (owner/admin); all null removes the override (the
    answer then has every cap null)."""
    scope.require("admin")
    if (data.territory_id is None) == (data.membership_id is None):
        raise ValidationFailed.field("territory_id", "Give a territory or a member")
    _cap("owned_cap", data.owned_cap, 1, 100_000)
    _cap("daily_claim_cap", data.daily_claim_cap, 1, 10_000)
    _cap("lock_cap", data.lock_cap, 0, 10_000)
    async with scope.tx() as tx:
        if data.territory_id is not None:
            await _check_ids(tx, "territories", [data.territory_id], "territory_id")
        else:
            assert data.membership_id is not None
            await _check_ids(tx, "memberships", [data.membership_id], "membership_id")
        column = "territory_id" if data.territory_id is not None else "membership_id"
        target = data.territory_id or data.membership_id
        row = await tx.fetchrow(
            f"INSERT INTO pool_cap_overrides (tenant, {column}, owned_cap, daily_claim_cap, lock_cap,"
            " updated_by)"
            f" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, {column}) DO UPDATE SET"
            " owned_cap = EXCLUDED.owned_cap, daily_claim_cap = EXCLUDED.daily_claim_cap,"
            " lock_cap = EXCLUDED.lock_cap, updated_by = EXCLUDED.updated_by, updated_at = now()"
            " RETURNING id, territory_id, membership_id, owned_cap, daily_claim_cap, lock_cap",
            scope.tenant_id,
            target,
            data.owned_cap,
            data.daily_claim_cap,
            data.lock_cap,
            scope.membership_id,
        )
        assert row is not None
        if data.owned_cap is None and data.daily_claim_cap is None and data.lock_cap is None:
            await tx.execute(
                "DELETE FROM pool_cap_overrides WHERE tenant = $1 AND id = $2", scope.tenant_id, row["id"]
            )
        await record(
            tx, scope.membership_id, "pool.caps", column.removesuffix("_id"), str(target), data=dict(row)
        )
        return CapOverrideRead(**dict(row))
