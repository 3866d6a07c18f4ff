"""What a planned realignment would do, per territory the customers end in."""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from app.db import Tx
from app.handover.realign.operation import stored_request
from app.handover.schemas import RealignPreview, TerritoryImpact
from app.rows import to_struct
from tenants.access import in_subtree_sql

_OPEN = "stage NOT IN ('won', 'lost')"

_IMPACT = f"""
SELECT f.id, f.name, count(*) AS n,
    count(*) FILTER (WHERE i.blocked IS NULL AND i.to_membership_id IS NOT DISTINCT FROM i.from_membership_id)
        AS kept,
    count(*) FILTER (WHERE i.blocked IS NULL AND i.to_membership_id IS NOT NULL
        AND i.to_membership_id IS DISTINCT FROM i.from_membership_id) AS reassigned,
    count(*) FILTER (WHERE i.blocked IS NULL AND i.to_membership_id IS NULL
        AND i.from_membership_id IS NOT NULL)
        AS released,
    count(*) FILTER (WHERE i.blocked IS NOT NULL) AS conflicts,
    coalesce(sum(d.n), 0)::int AS deals, coalesce(sum(d.amount), 0) AS amount,
    count(*) OVER () AS total
FROM handover_items i
JOIN customers c ON c.tenant = i.tenant AND c.id = i.customer_id
LEFT JOIN territories f ON f.tenant = i.tenant AND f.id = coalesce(i.to_territory_id, c.territory_id)
LEFT JOIN LATERAL (SELECT count(*) AS n, sum(amount) AS amount FROM deals d
    WHERE d.tenant = c.tenant AND d.customer_id = c.id AND d.{_OPEN}) d ON TRUE
WHERE i.tenant = $1 AND i.plan_id = $2
GROUP BY f.id, f.name ORDER BY f.name NULLS FIRST, f.id LIMIT 200
"""


async def preview(tx: Tx, row: asyncpg.Record) -> RealignPreview:
    stored = stored_request(row)
    data = stored.request
    target = data.new_parent_id if data.operation == "move" else (data.into_id or stored.new_territory_id)
    name = data.new_territory.name.strip() if data.new_territory else ""
    rows = await tx.fetch(_IMPACT, tx.tenant_id, row["id"])
    moved = members = 0
    path = stored.seen_paths.get(str(data.territory_id))
    if data.operation != "split" and path:
        moved = int(
            await tx.fetchval(
                f"SELECT count(*) FROM territories WHERE tenant = $1 AND {in_subtree_sql('path', of='$2')}",
                tx.tenant_id,
                path,
            )
        )
        if data.operation == "merge":
            members = int(
                await tx.fetchval(
                    "SELECT count(*) FROM territory_members WHERE tenant = $1 AND territory_id = $2",
                    tx.tenant_id,
                    data.territory_id,
                )
            )
            moved -= 1  # B itself is not moved, it is merged away
    conflicts = await tx.fetchval(
        "SELECT count(*) FROM handover_items WHERE tenant = $1 AND plan_id = $2 AND blocked IS NOT NULL",
        tx.tenant_id,
        row["id"],
    )
    return RealignPreview(
        operation=data.operation,
        territory_id=data.territory_id,
        target_id=target,
        owner_rule=data.owner_rule,
        territories_moved=moved,
        members_moved=members,
        targets=[
            to_struct(
                TerritoryImpact,
                r,
                territory_id=r["id"] or stored.new_territory_id or data.territory_id,
                name=r["name"] or name,
                customers=r["n"],
                pipeline_amount=Decimal(r["amount"]),
            )
            for r in rows
        ],
        conflicts=int(conflicts),
    )
