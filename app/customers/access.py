"""Who sees and changes which customer (simplified; the pool rules will extend it).

- owner/admin (and jobs): every customer;
- a manager: the customers in the territories they manage (whole subtrees), plus their own;
- a rep: the customers they own, plus the unowned ones (the pool) in their territories.

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

    def visible_sql(self, p: Params, alias: str = "c") -> str:
        """A SQL condition on the customer row ``alias``: true when this member may see it."""
        if self.everything:
            return "TRUE"
        return (
            f"({alias}.owner_membership_id = {p(self.membership_id)}"
            f" OR {alias}.territory_id = ANY({p(list(self.managed))}::uuid[])"
            f" OR ({alias}.owner_membership_id IS NULL"
            f" AND {alias}.territory_id = ANY({p(list(self.worked))}::uuid[])))"
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
    worked = frozenset(await member_territory_ids(tx, scope))
    return CustomerAccess(False, scope.membership_id, managed, worked)
