"""Who sees which handover plan: owners/admins (and jobs) every plan; a manager the plans they made
and those whose customers all lie in territories they manage (for a realignment: the territories the
customers move to as well); a rep none (403). Anyone else, and another tenant, gets 404.
"""

from __future__ import annotations

from typing import Any

from app.db import Tx
from tenants.access.territories import managed_territory_ids
from tenants.scope import TenantScope


def plan_visible_sql(me: str, managed: str) -> str:
    """The condition on plan ``p`` that a manager sees it: their own, or one whose customers all lie in
    territories they manage (``me`` and ``managed`` are SQL expressions: membership id, uuid[])."""
    return (
        f"(p.created_by = {me} OR (EXISTS (SELECT 1 FROM handover_items i WHERE i.tenant = p.tenant"
        " AND i.plan_id = p.id) AND NOT EXISTS (SELECT 1 FROM handover_items i JOIN customers c"
        " ON c.tenant = i.tenant AND c.id = i.customer_id WHERE i.tenant = p.tenant AND i.plan_id = p.id"
        f" AND NOT (c.territory_id = ANY({managed})"
        f" AND (i.to_territory_id IS NULL OR i.to_territory_id = ANY({managed}))))))"
    )


async def sees_plan(tx: Tx, scope: TenantScope, plan: Any) -> bool:
    """Whether the caller sees the plan row ``plan`` (a manager or above; check the role first)."""
    if scope.at_least("admin") or plan["created_by"] == scope.membership_id:
        return True
    return bool(
        await tx.fetchval(
            f"SELECT {plan_visible_sql('$3::uuid', '$4::uuid[]')} FROM handover_plans p"
            " WHERE p.tenant = $1 AND p.id = $2",
            tx.tenant_id,
            plan["id"],
            scope.membership_id,
            await managed_territory_ids(tx, scope),
        )
    )
