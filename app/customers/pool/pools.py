"""Named pools (公海): what a pool is, the pool of a customer, the pools a member may claim from.

Every territory has its own pool (``kind = 'territory'``, named after the territory; made by a
trigger with the territory); a tenant adds more (``key_accounts``, ``inbound``, ``lost``, ``custom``)
with a name. Every customer has a pool (``customers.pool_id``, never NULL): while unowned, the pool
it is in; while owned, the pool it was claimed (assigned) from — the pool whose rules apply to it
(``rules.rules_for_pool``). Going into the pool (release, reclaim, ``owner_changes.Moves.to_pool``)
sets it; a customer created or moved without one gets its territory's pool (trigger
``customers_pool``), and a customer in its territory's pool follows its territory when that changes.

Who may claim from which pool and who administers it: ``tenants.access.pools``.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from app.db import Tx
from app.errors import NotFound
from tenants.access import customer_access
from tenants.scope import TenantScope

KINDS = ("territory", "key_accounts", "inbound", "lost", "custom")

# A pool with its display name: a territory's pool is named after its territory.
POOL_SELECT = (
    "SELECT p.id, p.territory_id, coalesce(p.name, t.name) AS name, p.kind, p.rules::text AS rules,"
    " p.hidden_fields, p.created_at, p.updated_at FROM pools p"
    " LEFT JOIN territories t ON t.tenant = p.tenant AND t.id = p.territory_id"
)


@dataclass(frozen=True, slots=True)
class PoolRef:
    id: UUID
    territory_id: UUID | None  # a territory's own pool; None for a pool the tenant added
    name: str
    kind: str
    rules: str | None  # the stored overrides (JSON), for ``rules.rules_for_pool``
    hidden_fields: tuple[str, ...]


def _ref(row: asyncpg.Record) -> PoolRef:
    return PoolRef(
        row["id"], row["territory_id"], row["name"], row["kind"], row["rules"], tuple(row["hidden_fields"])
    )


async def territory_pool_id(tx: Tx, territory_id: UUID) -> UUID:
    """The pool of a territory of the transaction's tenant (404 for an unknown territory)."""
    pool_id = await tx.fetchval(
        "SELECT id FROM pools WHERE tenant = $1 AND territory_id = $2", tx.tenant_id, territory_id
    )
    if pool_id is None:
        raise NotFound("No territory with this id")
    return UUID(str(pool_id))


async def pool_by_id(tx: Tx, pool_id: UUID) -> PoolRef:
    """A pool of the transaction's tenant, whoever asks (404 for an unknown one or another tenant's)."""
    row = await tx.fetchrow(POOL_SELECT + " WHERE p.tenant = $1 AND p.id = $2", tx.tenant_id, pool_id)
    if row is None:
        raise NotFound("No pool with this id")
    return _ref(row)


async def pool_of_customer(tx: Tx, customer_id: UUID) -> PoolRef:
    """The pool of a customer: the one it is in while unowned, the one it came from while owned
    (404 for an unknown customer). No access check: callers have loaded the customer already."""
    row = await tx.fetchrow(
        POOL_SELECT + " JOIN customers c ON c.tenant = p.tenant AND c.id = $2 AND c.pool_id = p.id"
        " WHERE p.tenant = $1",
        tx.tenant_id,
        customer_id,
    )
    if row is None:
        raise NotFound("No customer with this id")
    return _ref(row)


async def claimable_pool_ids(tx: Tx, scope: TenantScope) -> frozenset[UUID] | None:
    """The pools ``scope``'s member may claim from (``None``: every pool — owner/admin, jobs)."""
    access = await customer_access(tx, scope)
    return None if access.everything else access.pools


async def claimable_pools(tx: Tx, scope: TenantScope) -> list[PoolRef]:
    """The pools the member may claim from, territories' pools first, then by name."""
    ids = await claimable_pool_ids(tx, scope)
    rows = await tx.fetch(
        POOL_SELECT + " WHERE p.tenant = $1 AND ($2::uuid[] IS NULL OR p.id = ANY($2::uuid[]))"
        " ORDER BY p.territory_id IS NULL, coalesce(p.name, t.name), p.id",
        tx.tenant_id,
        None if ids is None else list(ids),
    )
    return [_ref(r) for r in rows]


async def release_targets(scope: TenantScope, territory_id: UUID) -> list[PoolRef]:
    """The pools a customer of ``territory_id`` can be released into: its territory's first (the
    default), then the tenant's own pools by name."""
    async with scope.tx() as tx:
        rows = await tx.fetch(
            POOL_SELECT + " WHERE p.tenant = $1 AND (p.territory_id = $2 OR p.territory_id IS NULL)"
            " ORDER BY p.territory_id IS NULL, p.name, p.id",
            scope.tenant_id,
            territory_id,
        )
    return [_ref(r) for r in rows]


async def visible_pool(tx: Tx, scope: TenantScope, pool_id: UUID) -> PoolRef:
    """A pool the member may claim from or administers, else 404 (like another tenant's)."""
    access = await customer_access(tx, scope)
    if not (access.everything or pool_id in access.pools or pool_id in access.administered):
        raise NotFound("No pool with this id")
    return await pool_by_id(tx, pool_id)
