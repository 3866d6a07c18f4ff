"""Who sees and changes which customer (simplified; the pool rules will extend it).

- owner/admin (and jobs): every customer;
- a manager: the customers in the territories they manage (whole subtrees), plus their own;
- a rep: the customers they own, plus the unowned ones (the pool) in their territories.
- cross-territory grants (跨区, ``grants.py``) add, until they expire: a granted territory (with its
  subtree) counts as worked; a granted customer is visible whoever owns it.
- handover read grants (``app/handover``): a previous owner keeps seeing the customers a handover
  moved away from them until the grant ends.

A customer outside this is answered 404, exactly like one of another tenant. Changing a customer
needs more than seeing it: its owner, a manager of its territory, or an owner/admin (else 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from app.db import Tx
from app.territories.service import managed_territory_ids, member_territory_ids, sees_all
from tenants.scope import TenantScope


class Params:
    """Positional parameters (``$1``, ``$2`` …) collected while a query is put together."""

    def __init__(self, *values: Any) -> None:
        self.values: list[Any] = list(values)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


@dataclass(frozen=True, slots=True)
class CustomerAccess:
    everything: bool
    membership_id: UUID | None
    managed: frozenset[UUID]
    worked: frozenset[UUID]  # territories the member works (rep or manager): their pools are visible
    granted: frozenset[UUID] = frozenset()  # customers granted across territories (跨区)
    handed_over: frozenset[UUID] = frozenset()  # handover plans whose moved customers stay readable

    def visible_sql(self, p: Params, alias: str = "c") -> str:
        """A SQL condition on the customer row ``alias``: true when this member may see it."""
        if self.everything:
            return "TRUE"
        granted = f" OR {alias}.id = ANY({p(list(self.granted))}::uuid[])" if self.granted else ""
        if self.handed_over:
            granted += (
                f" OR EXISTS (SELECT 1 FROM handover_items hi WHERE hi.tenant = {alias}.tenant"
                f" AND hi.plan_id = ANY({p(list(self.handed_over))}::uuid[]) AND hi.customer_id = {alias}.id"
                f" AND hi.from_membership_id = {p(self.membership_id)}::uuid)"
            )
        return (
            f"({alias}.owner_membership_id = {p(self.membership_id)}"
            f" OR {alias}.territory_id = ANY({p(list(self.managed))}::uuid[])"
            f" OR ({alias}.owner_membership_id IS NULL"
            f" AND {alias}.territory_id = ANY({p(list(self.worked))}::uuid[])){granted})"
        )

    def may_claim(self, customer_id: UUID, territory_id: UUID) -> bool:
        """Whether the member works the pool this customer is in (or was granted the customer)."""
        return (
            self.everything
            or territory_id in self.managed
            or territory_id in self.worked
            or customer_id in self.granted
        )

    def can_edit(self, territory_id: UUID, owner_membership_id: UUID | None) -> bool:
        return (
            self.everything
            or (owner_membership_id is not None and owner_membership_id == self.membership_id)
            or territory_id in self.managed
        )

    def manages(self, territory_id: UUID) -> bool:
        return self.everything or territory_id in self.managed

    def may_add_in(self, territory_id: UUID) -> bool:
        """Whether the member may enter a new customer in ``territory_id``."""
        return self.everything or territory_id in self.managed or territory_id in self.worked


async def customer_access(tx: Tx, scope: TenantScope) -> CustomerAccess:
    if sees_all(scope):
        return CustomerAccess(True, scope.membership_id, frozenset(), frozenset())
    managed = frozenset(await managed_territory_ids(tx, scope))
    worked: frozenset[UUID] = frozenset(await member_territory_ids(tx, scope))
    grants = await tx.fetch(_GRANTS, scope.tenant_id, scope.membership_id) if scope.membership_id else []
    granted_territories = {g["territory_id"] for g in grants if g["territory_id"] is not None}
    granted_customers = frozenset(g["customer_id"] for g in grants if g["customer_id"] is not None)
    worked |= granted_territories
    handed_over: frozenset[UUID] = frozenset()
    if scope.membership_id:
        plans = await tx.fetch(
            "SELECT plan_id FROM handover_read_grants"
            " WHERE tenant = $1 AND membership_id = $2 AND until > now()",
            scope.tenant_id,
            scope.membership_id,
        )
        handed_over = frozenset(r["plan_id"] for r in plans)
    return CustomerAccess(False, scope.membership_id, managed, worked, granted_customers, handed_over)


# The member's live cross-territory grants: customers, and granted territories with their subtrees.
_GRANTS = (
    "SELECT g.customer_id, t.id AS territory_id FROM cross_territory_grants g"
    " LEFT JOIN territories a ON a.tenant = g.tenant AND a.id = g.territory_id"
    " LEFT JOIN territories t ON t.tenant = a.tenant AND t.path >= a.path AND t.path < a.path || '~'"
    " WHERE g.tenant = $1 AND g.membership_id = $2 AND g.revoked_at IS NULL AND g.until > now()"
)
