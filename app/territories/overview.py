"""The territory manager's view of the tree: the territories the member manages, depth first, each with
its managers, reps and customers — in the territory itself and in its whole subtree.

Who: owner/admin the whole tree; a manager their managed subtrees (``managed_territory_ids``); a rep
403. Customers are counted by SQL (territories does not import customers), filtered on the tenant.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from app.territories import tree
from tenants.access import managed_territory_ids
from tenants.scope import TenantScope


class TerritoryNode(msgspec.Struct):
    id: UUID
    parent_id: UUID | None
    name: str
    level: str
    depth: int
    path: str
    managers: int  # members who manage this territory itself
    reps: int  # reps assigned to this territory itself
    customers: int  # customers in this territory itself
    subtree_customers: int  # in it and every territory below it
    subtree_members: int  # distinct members assigned in it or below it


_OVERVIEW = """
SELECT t.id, t.parent_id, t.name, t.level, t.path,
  coalesce(m.managers, 0) AS managers, coalesce(m.reps, 0) AS reps, coalesce(c.customers, 0) AS customers
FROM territories t
LEFT JOIN (SELECT territory_id, count(*) FILTER (WHERE role = 'manager') AS managers,
                  count(*) FILTER (WHERE role = 'rep') AS reps
           FROM territory_members WHERE tenant = $1 GROUP BY territory_id) m ON m.territory_id = t.id
LEFT JOIN (SELECT territory_id, count(*) AS customers FROM customers
           WHERE tenant = $1 AND territory_id = ANY($2::uuid[]) GROUP BY territory_id) c
  ON c.territory_id = t.id
WHERE t.tenant = $1 AND t.id = ANY($2::uuid[])
ORDER BY t.path
"""
_ASSIGNED = (
    "SELECT territory_id, membership_id FROM territory_members"
    " WHERE tenant = $1 AND territory_id = ANY($2::uuid[])"
)


async def territory_overview(scope: TenantScope) -> list[TerritoryNode]:
    """The managed territories in depth-first order with their counts (a rep: 403)."""
    scope.require("manager")
    async with scope.tx() as tx:
        ids = await managed_territory_ids(tx, scope)
        rows = await tx.fetch(_OVERVIEW, scope.tenant_id, ids)
        assigned = await tx.fetch(_ASSIGNED, scope.tenant_id, ids)
    by_id = {r["id"]: r for r in rows}
    subtree_customers: dict[UUID, int] = dict.fromkeys(by_id, 0)
    members: dict[UUID, set[UUID]] = {i: set() for i in by_id}
    people: dict[UUID, set[UUID]] = {}
    for a in assigned:
        people.setdefault(a["territory_id"], set()).add(a["membership_id"])
    for row in rows:  # add each territory's own numbers to it and every ancestor that is shown
        for ancestor in tree.ids_of(row["path"]):
            if ancestor in by_id:
                subtree_customers[ancestor] += row["customers"]
                members[ancestor] |= people.get(row["id"], set())
    return [
        TerritoryNode(
            id=r["id"],
            parent_id=r["parent_id"],
            name=r["name"],
            level=r["level"],
            depth=tree.depth(r["path"]),
            path=r["path"],
            managers=r["managers"],
            reps=r["reps"],
            customers=r["customers"],
            subtree_customers=subtree_customers[r["id"]],
            subtree_members=len(members[r["id"]]),
        )
        for r in rows
    ]
