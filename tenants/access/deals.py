"""Who sees which deal, quote and approval.

- owner/admin (and jobs): every deal;
- a manager: the deals of customers in the territories they manage (whole subtrees), plus their own;
- a rep: the deals they own.

A quote, a collection item and a payment are seen with their deal (their queries join the deal and
its customer and take ``DealAccess.visible_sql``). A deal outside this is 404, exactly like another
tenant's id. Whoever sees a deal may work it (its owner, a manager of its customer's territory, an
admin); deciding approvals needs managing the customer's territory (``approves``). The approval
inbox (``inbox_sql``) holds the requests the member may decide and the ones they asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.db import Tx
from app.sql import Params
from tenants.access.territories import managed_territory_ids
from tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class DealAccess:
    everything: bool
    membership_id: UUID | None
    managed: frozenset[UUID]

    def visible_sql(self, p: Params, deal: str = "d", customer: str = "c") -> str:
        """A SQL condition on ``deal`` joined to its ``customer``: true when the member sees it."""
        if self.everything:
            return "TRUE"
        return (
            f"({deal}.owner_membership_id = {p(self.membership_id)}"
            f" OR {customer}.territory_id = ANY({p(list(self.managed))}::uuid[]))"
        )

    def inbox_sql(self, p: Params, approval: str = "a", customer: str = "c") -> str:
        """A SQL condition on the approval ``approval`` left-joined to its deal's ``customer``: the
        requests the member may decide (in a territory they manage: the customer's, else the
        approval's own) and those they asked for."""
        if self.everything:
            return "TRUE"
        return (
            f"(coalesce({customer}.territory_id, {approval}.territory_id)"
            f" = ANY({p(list(self.managed))}::uuid[])"
            f" OR {approval}.requested_by = {p(self.membership_id)})"
        )

    def approves(self, territory_id: UUID | None) -> bool:
        return self.everything or (territory_id is not None and territory_id in self.managed)


async def deal_access(tx: Tx, scope: TenantScope) -> DealAccess:
    if scope.at_least("admin"):
        return DealAccess(True, scope.membership_id, frozenset())
    return DealAccess(False, scope.membership_id, frozenset(await managed_territory_ids(tx, scope)))
