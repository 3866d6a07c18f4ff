"""What a change to a territory subtree touches: counts for the move preview and the delete guard.

These read tables owned by later domains (customers, deals) by SQL only, so territories does not
import them; each count filters on the tenant explicitly as well as through RLS.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from app.db import Tx
from tenants.access import in_subtree_sql

SUBTREE_IDS = f"SELECT id FROM territories WHERE tenant = $1 AND {in_subtree_sql('path', of='$2')}"


async def count_territories(tx: Tx, tenant: UUID, path: str) -> int:
    return int(await tx.fetchval(f"SELECT count(*) FROM ({SUBTREE_IDS}) s", tenant, path))


async def count_customers(tx: Tx, tenant: UUID, path: str) -> int:
    return int(
        await tx.fetchval(
            f"SELECT count(*) FROM customers WHERE tenant = $1 AND territory_id IN ({SUBTREE_IDS})",
            tenant,
            path,
        )
    )


async def count_reps(tx: Tx, tenant: UUID, path: str) -> int:
    """Distinct members working the subtree: reps assigned to one of its territories, plus the
    owners of its customers."""
    return int(
        await tx.fetchval(
            f"SELECT count(*) FROM ("
            f" SELECT membership_id FROM territory_members WHERE tenant = $1 AND role = 'rep'"
            f"  AND territory_id IN ({SUBTREE_IDS})"
            f" UNION SELECT owner_membership_id FROM customers WHERE tenant = $1"
            f"  AND owner_membership_id IS NOT NULL AND territory_id IN ({SUBTREE_IDS})) m",
            tenant,
            path,
        )
    )


_OPEN_DEALS = (
    "FROM deals d JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id"
    f" WHERE d.tenant = $1 AND d.stage NOT IN ('won', 'lost') AND c.territory_id IN ({SUBTREE_IDS})"
)


async def open_deals_in_subtree(tx: Tx, tenant: UUID, path: str) -> int:
    """The number of open deals (not won or lost) of customers in the subtree."""
    return int(await tx.fetchval(f"SELECT count(*) {_OPEN_DEALS}", tenant, path))


async def open_pipeline_in_subtree(tx: Tx, tenant: UUID, path: str) -> dict[str, Decimal]:
    """The open pipeline of the subtree: the sum of open deals' amounts, per currency."""
    rows = await tx.fetch(
        f"SELECT d.currency, sum(d.amount) AS amount {_OPEN_DEALS} GROUP BY d.currency", tenant, path
    )
    return {r["currency"]: r["amount"] for r in rows}
