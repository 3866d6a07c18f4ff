"""Who reads and decides which sales records (field work: visit plans, daily reports, market incidents,
follow-up activity; targets; weekly territory reports; follow-up tasks and return visits), and who is
whose manager.

- owner/admin (and jobs): everyone's;
- a manager: their own and those of every member of a territory in their managed subtrees (their
  team); they decide (approve, return, close, set targets) for the reps of territories at or below
  one they manage (``manages_member``);
- a rep: their own.

Targets: a rep sees their own rep targets; a manager also the tenant targets, the targets of the
territories they manage and the rep targets of their team. Weekly territory reports: owner/admin all, a
manager those of their managed subtrees, a rep none (403). Follow-up tasks and return visits: their
assignee; a manager those of customers in the territories they manage; owner/admin all. A record
outside this is 404.

The managers of a member are the active managers of the territories the member works as a rep, at
or above them (``managers_of``): they are told when the member submits or reports something.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.db import Tx
from app.sql import Params
from tenants.access.subtree import in_subtree_sql
from tenants.access.territories import acts_as_manager, managed_territory_ids
from tenants.scope import TenantScope

# Managers of a member: those managing (at or above) a territory the member works in as a rep.
_MANAGERS_OF = f"""
SELECT DISTINCT mm.id AS membership_id, u.email, coalesce(u.locale, tn.locale) AS locale
FROM territory_members rm
JOIN territories rt ON rt.tenant = rm.tenant AND rt.id = rm.territory_id
JOIN territories at ON at.tenant = rt.tenant AND {in_subtree_sql("rt.path", of="at.path")}
JOIN territory_members tm ON tm.tenant = at.tenant AND tm.territory_id = at.id AND tm.role = 'manager'
JOIN memberships mm ON mm.tenant = tm.tenant AND mm.id = tm.membership_id AND mm.active
JOIN users u ON u.id = mm.user_id
JOIN tenants tn ON tn.id = mm.tenant
WHERE rm.tenant = $1 AND rm.membership_id = $2 AND rm.role = 'rep' AND mm.id <> $2
"""


def reach_sql(column: str, ids_param: str) -> str:
    """A SQL condition: ``column`` is one of the ids in the ``uuid[]`` parameter ``ids_param``, or the
    parameter is NULL (everything) — the form every list of ``team_member_ids`` and
    ``weekly_report_territories`` is applied in."""
    return f"({ids_param}::uuid[] IS NULL OR {column} = ANY({ids_param}))"


async def managers_of(tx: Tx, tenant_id: UUID, membership_id: UUID) -> list[Any]:
    """The active managers of the territories a rep works (their ancestors included)."""
    return await tx.fetch(_MANAGERS_OF + " ORDER BY mm.id", tenant_id, membership_id)


async def team_member_ids(tx: Tx, scope: TenantScope) -> list[UUID] | None:
    """Whose field work the caller may read: None = everyone (owner/admin/jobs); a manager: their
    own and every member of a territory in their managed subtrees; anyone else: their own."""
    if scope.at_least("admin"):
        return None
    own = [scope.membership_id] if scope.membership_id else []
    if not acts_as_manager(scope):
        return own
    rows = await tx.fetch(
        "SELECT DISTINCT m.membership_id FROM territory_members tm"
        " JOIN territories a ON a.tenant = tm.tenant AND a.id = tm.territory_id"
        f" JOIN territories t ON t.tenant = a.tenant AND {in_subtree_sql('t.path', of='a.path')}"
        " JOIN territory_members m ON m.tenant = t.tenant AND m.territory_id = t.id"
        " WHERE tm.tenant = $1 AND tm.membership_id = $2 AND tm.role = 'manager'",
        scope.tenant_id,
        scope.membership_id,
    )
    return list({*own, *(r["membership_id"] for r in rows)})


async def manages_member(tx: Tx, scope: TenantScope, membership_id: UUID) -> bool:
    """Whether the caller manages a territory (at or above) where ``membership_id`` is a rep."""
    if scope.at_least("admin"):
        return True
    if not acts_as_manager(scope):
        return False
    rows = await managers_of(tx, scope.tenant_id, membership_id)
    return any(r["membership_id"] == scope.membership_id for r in rows)


async def target_visible_sql(tx: Tx, scope: TenantScope, p: Params, target: str = "g") -> str:
    """A SQL condition on the target row ``target``: true when the caller may see it."""
    if scope.at_least("admin"):
        return "TRUE"
    own = f"({target}.scope_type = 'rep' AND {target}.membership_id = {p(scope.membership_id)}::uuid)"
    if scope.role != "manager":
        return own
    managed = await managed_territory_ids(tx, scope)
    team = await team_member_ids(tx, scope) or []
    return (
        f"({own} OR {target}.scope_type = 'tenant' OR {target}.territory_id = ANY({p(managed)}::uuid[])"
        f" OR ({target}.scope_type = 'rep' AND {target}.membership_id = ANY({p(team)}::uuid[])))"
    )


async def assigned_visible_sql(tx: Tx, scope: TenantScope, p: Params, assignee: str, territory: str) -> str:
    """A condition on assigned work (tasks, return visits): the member sees the row whose assignee
    and customer territory are these columns."""
    if scope.at_least("admin"):
        return "TRUE"
    managed = await managed_territory_ids(tx, scope)
    return f"({assignee} = {p(scope.membership_id)} OR {territory} = ANY({p(managed)}::uuid[]))"


async def weekly_report_territories(tx: Tx, scope: TenantScope) -> list[UUID] | None:
    """Territories whose weekly reports the caller reads: None = all (owner/admin); a manager their
    managed subtrees; a rep none (403)."""
    if scope.at_least("admin"):
        return None
    scope.require("manager")
    return await managed_territory_ids(tx, scope)
