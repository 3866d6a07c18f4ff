"""Who sees which deal, and the checks every deal service shares.

- owner/admin (and jobs): every deal;
- a manager: the deals of customers in the territories they manage (whole subtrees), plus their own;
- a rep: the deals they own.

A deal outside this is 404, exactly like another tenant's id. Whoever sees a deal may work it (its
owner, a manager of its customer's territory, an admin); deciding approvals needs managing the
customer's territory (``approver``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

import asyncpg

from app.customers.access import Params
from app.db import Tx
from app.errors import NotFound, ValidationFailed
from app.territories.service import managed_territory_ids, sees_all
from tenants.scope import TenantScope

MAX_MONEY = Decimal("999999999999.99")
SELECT_DEAL = (
    "SELECT d.*, c.full_name AS customer_name, c.territory_id FROM deals d"
    " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
)


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

    def approves(self, territory_id: UUID | None) -> bool:
        return self.everything or (territory_id is not None and territory_id in self.managed)


async def deal_access(tx: Tx, scope: TenantScope) -> DealAccess:
    if sees_all(scope):
        return DealAccess(True, scope.membership_id, frozenset())
    return DealAccess(False, scope.membership_id, frozenset(await managed_territory_ids(tx, scope)))


async def load_deal(
    tx: Tx, scope: TenantScope, deal_id: UUID, *, lock: bool = False
) -> tuple[asyncpg.Record, DealAccess]:
    """The deal (with ``customer_name`` and ``territory_id``) if the member sees it, else 404."""
    access = await deal_access(tx, scope)
    p = Params(scope.tenant_id, deal_id)
    row = await tx.fetchrow(
        SELECT_DEAL
        + f" WHERE d.tenant = $1 AND d.id = $2 AND {access.visible_sql(p)}"
        + (" FOR UPDATE OF d" if lock else ""),
        *p.values,
    )
    if row is None:
        raise NotFound("No deal with this id")
    return row, access


def check_money(field: str, value: Decimal) -> Decimal:
    """A non-negative amount with at most two decimals, else 422 on ``field``."""
    try:
        ok = (
            value.is_finite()
            and Decimal(0) <= value <= MAX_MONEY
            and value == value.quantize(Decimal("0.01"))
        )
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValidationFailed.field(field, "Use an amount from 0 with at most two decimals")
    return value.quantize(Decimal("0.01"))


def check_percent(field: str, value: Decimal) -> Decimal:
    try:
        ok = (
            value.is_finite()
            and Decimal(0) <= value <= Decimal(100)
            and value == value.quantize(Decimal("0.01"))
        )
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValidationFailed.field(field, "Use a percentage from 0 to 100")
    return value


async def subtree_path(tx: Tx, tenant: UUID, territory_id: UUID) -> str:
    """The materialised path of a territory of the tenant (filters take its subtree), else 404."""
    path = await tx.fetchval(
        "SELECT path FROM territories WHERE tenant = $1 AND id = $2", tenant, territory_id
    )
    if path is None:
        raise NotFound("No territory with this id")
    return str(path)


def subtree_sql(path_param: str, column: str = "c.territory_id") -> str:
    """A condition: ``column`` lies in the subtree at the path parameter ``path_param``."""
    return (
        f"{column} IN (SELECT t.id FROM territories t WHERE t.tenant = $1"
        f" AND t.path >= {path_param} AND t.path < {path_param} || '~')"
    )
