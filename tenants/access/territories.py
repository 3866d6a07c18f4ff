"""Who manages and who works which territory.

- owner/admin (and jobs): manage every territory (``scope.at_least("admin")``);
- a manager: manages the whole subtree of every territory where they are a manager (while their
  tenant role is still manager or above), and works those subtrees;
- a rep: manages nothing; works the territories where they are a member (rep or manager) — their
  pools are the pools of those territories.

Changing things at a territory needs managing it (``require_manages``: 403); changing the top level
needs owner/admin. Everyone in a tenant may read the tree itself.

Who is told about something in a territory (a duplicate entry, 撞单): its managers — the active
members who are a manager of it or of a territory above it and whose tenant role is still manager or
above, so those who see it — else, when it has none, the active owners and admins
(``territory_managers``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.db import Tx
from app.errors import Forbidden
from tenants.access.subtree import in_subtree_sql
from tenants.scope import TenantScope

_MANAGED_ROOTS = (
    "SELECT a.path FROM territory_members tm"
    " JOIN territories a ON a.tenant = tm.tenant AND a.id = tm.territory_id"
    " WHERE tm.tenant = $1 AND tm.membership_id = $2 AND tm.role = 'manager'"
)

# A manager's managed territories (``acts_as_manager``): $1 the tenant, $2 their membership.
MANAGED_IDS = (
    f"SELECT DISTINCT t.id FROM ({_MANAGED_ROOTS}) r JOIN territories t"
    f" ON t.tenant = $1 AND {in_subtree_sql('t.path', of='r.path')}"
)
# The territories a member works: $1 the tenant, $2 their membership, $3 their role is manager or above.
MEMBER_IDS = (
    "SELECT DISTINCT t.id FROM territory_members tm"
    " JOIN territories a ON a.tenant = tm.tenant AND a.id = tm.territory_id"
    " JOIN territories t ON t.tenant = a.tenant AND (t.id = a.id OR"
    f"  ($3 AND tm.role = 'manager' AND {in_subtree_sql('t.path', of='a.path')}))"
    " WHERE tm.tenant = $1 AND tm.membership_id = $2"
)

_PERSON = "mm.id AS membership_id, u.email, coalesce(u.locale, tn.locale) AS locale"
_TERRITORY_MANAGERS = f"""
SELECT DISTINCT {_PERSON} FROM territories t
JOIN territories a ON a.tenant = t.tenant AND {in_subtree_sql("t.path", of="a.path")}
JOIN territory_members tm ON tm.tenant = a.tenant AND tm.territory_id = a.id AND tm.role = 'manager'
JOIN memberships mm ON mm.tenant = tm.tenant AND mm.id = tm.membership_id
JOIN users u ON u.id = mm.user_id JOIN tenants tn ON tn.id = mm.tenant
WHERE t.tenant = $1 AND t.id = $2 AND mm.active AND mm.role IN ('owner', 'admin', 'manager')
  AND mm.id IS DISTINCT FROM $3
"""
_OWNERS_AND_ADMINS = f"""
SELECT {_PERSON} FROM memberships mm JOIN users u ON u.id = mm.user_id JOIN tenants tn ON tn.id = mm.tenant
WHERE mm.tenant = $1 AND mm.active AND mm.role IN ('owner', 'admin') AND mm.id IS DISTINCT FROM $2
"""


def acts_as_manager(scope: TenantScope) -> bool:
    """A member whose tenant role is exactly manager: their reach is their managed subtrees (owners,
    admins and jobs reach everything, reps only their own)."""
    return scope.role == "manager" and scope.membership_id is not None


async def managed_territory_ids(tx: Tx, scope: TenantScope) -> list[UUID]:
    """Territories the acting member manages: owner/admin (and jobs) all of them; a manager the
    whole subtree of every territory where they are a manager; a rep none."""
    if scope.at_least("admin"):
        rows = await tx.fetch("SELECT id FROM territories WHERE tenant = $1", scope.tenant_id)
    elif acts_as_manager(scope):
        rows = await tx.fetch(MANAGED_IDS, scope.tenant_id, scope.membership_id)
    else:
        return []
    return [r["id"] for r in rows]


async def member_territory_ids(tx: Tx, scope: TenantScope) -> list[UUID]:
    """Territories the acting member works: where they are a rep, and where they are a manager
    together with its subtree (the subtree only when their tenant role is still manager or above).
    A job (no membership) works none."""
    if scope.membership_id is None:
        return []
    rows = await tx.fetch(
        MEMBER_IDS,
        scope.tenant_id,
        scope.membership_id,
        scope.at_least("manager"),
    )
    return [r["id"] for r in rows]


async def manages(tx: Tx, scope: TenantScope, territory_id: UUID) -> bool:
    """Whether the acting member manages ``territory_id`` (it lies in one of their managed subtrees)."""
    if scope.at_least("admin"):
        return True
    if not acts_as_manager(scope):
        return False
    return bool(
        await tx.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM ({_MANAGED_ROOTS}) r"
            " JOIN territories t ON t.tenant = $1 AND t.id = $3"
            f" AND {in_subtree_sql('t.path', of='r.path')})",
            scope.tenant_id,
            scope.membership_id,
            territory_id,
        )
    )


async def require_manages(tx: Tx, scope: TenantScope, territory_id: UUID | None) -> None:
    """403 unless the member may change things at ``territory_id`` (``None`` = the top level)."""
    if scope.at_least("admin"):
        return
    scope.require("manager")
    if territory_id is None:
        raise Forbidden("Only an owner or admin can change top-level territories")
    if not await manages(tx, scope, territory_id):
        raise Forbidden("You do not manage this territory")


async def territory_managers(
    tx: Tx, tenant_id: UUID, territory_id: UUID, *, besides: UUID | None = None
) -> list[Any]:
    """Who is told about something in ``territory_id``: its managers (at or above it), else the owners
    and admins; ``besides`` (the member who caused it) is never among them. Rows of ``membership_id``,
    ``email`` and ``locale`` (the user's, else the tenant's), by membership id."""
    rows = await tx.fetch(_TERRITORY_MANAGERS + " ORDER BY membership_id", tenant_id, territory_id, besides)
    if not rows:
        rows = await tx.fetch(_OWNERS_AND_ADMINS + " ORDER BY mm.id", tenant_id, besides)
    return rows
