"""One deal as the deal services read it, found only when the caller sees it
(``tenants.access.deals``): else 404, exactly like another tenant's id."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app.db import Tx
from app.errors import NotFound
from app.sql import Params
from tenants.access import DealAccess, deal_access
from tenants.scope import TenantScope

SELECT_DEAL = (
    "SELECT d.*, c.full_name AS customer_name, c.territory_id FROM deals d"
    " JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
)


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
