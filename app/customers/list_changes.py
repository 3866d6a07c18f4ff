"""List changes (名单异动): how the team's customer lists changed over a period — customers won, lost,
reclaimed by the pool rules, handed over, released and archived (歇业) — in total and per rep, for a
manager's subtrees or one territory subtree (local dates of the tenant, both ends included).

Where each kind comes from:

- **won**: customers with a deal first reaching signed or won in the period (the deal's owner);
- **lost**: customers with a deal moved to lost in the period (the deal's owner);
- **reclaimed**, **handed over**, **released**: the ownership history (``customer_ownership_history``,
  cause ``reclaim``, ``handover``, ``release``), counted for the owner the customer left;
- **archived**: customers whose status was set to ``closed`` in the period (the audit log of the
  change), counted for the customer's owner now.

A customer counts once per kind and rep (a customer handed over twice in the period is one). The
territory is the customer's territory now. Owner/admin see everything, a manager their managed
subtrees (another territory: 403; unknown or another tenant's: 404), a rep 403.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from uuid import UUID

from app.customers.schemas import ListChangeCounts, ListChangesRead
from app.errors import Forbidden, ValidationFailed
from app.localtime import local_today, zone
from app.sql import Params
from tenants.access import managed_territory_ids, manages, territory_in_subtree_sql, territory_path
from tenants.scope import TenantScope

KINDS: Final = ("won", "lost", "reclaimed", "handed_over", "released", "archived")
MAX_DAYS: Final = 1100
_CAUSES = (
    "CASE h.cause WHEN 'reclaim' THEN 'reclaimed' WHEN 'handover' THEN 'handed_over' ELSE 'released' END"
)


def list_changes_sql(where: str) -> str:
    """``$1`` tenant, ``$2``/``$3`` the period as timestamps; ``where`` a condition on the customer ``c``."""
    counts = ", ".join(f"count(DISTINCT e.customer_id) FILTER (WHERE e.kind = '{k}') AS {k}" for k in KINDS)
    return f"""
WITH events AS (
    SELECT {_CAUSES} AS kind, h.from_membership_id AS rep, h.customer_id
    FROM customer_ownership_history h JOIN customers c ON c.tenant = h.tenant AND c.id = h.customer_id
    WHERE h.tenant = $1 AND h.at >= $2 AND h.at < $3 AND h.cause IN ('reclaim', 'handover', 'release')
      AND h.from_membership_id IS NOT NULL AND {where}
    UNION ALL
    SELECT CASE WHEN sc.to_stage = 'lost' THEN 'lost' ELSE 'won' END, d.owner_membership_id, d.customer_id
    FROM deal_stage_changes sc
    JOIN deals d ON d.tenant = sc.tenant AND d.id = sc.deal_id
    JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
    WHERE sc.tenant = $1 AND sc.to_stage IN ('signed', 'won', 'lost') AND sc.at >= $2 AND sc.at < $3
      AND {where}
      AND (sc.to_stage = 'lost' OR NOT EXISTS (SELECT 1 FROM deal_stage_changes e WHERE e.tenant = $1
          AND e.deal_id = sc.deal_id AND e.to_stage IN ('signed', 'won') AND e.at < sc.at))
    UNION ALL
    SELECT 'archived', c.owner_membership_id, c.id
    FROM audit_log a JOIN customers c ON c.tenant = a.tenant AND c.id::text = a.subject_id
    WHERE a.tenant = $1 AND a.subject_type = 'customer' AND a.action = 'customer.updated'
      AND a.at >= $2 AND a.at < $3 AND a.data -> 'status' ->> 'to' = 'closed' AND {where}
),
grouped AS (
    SELECT e.rep, GROUPING(e.rep) AS g, {counts} FROM events e GROUP BY GROUPING SETS ((e.rep), ())
)
SELECT x.*, u.name FROM grouped x
LEFT JOIN memberships m ON m.tenant = $1 AND m.id = x.rep
LEFT JOIN users u ON u.id = m.user_id
ORDER BY x.g DESC, ({" + ".join(f"x.{k}" for k in KINDS)}) DESC, u.name NULLS LAST, x.rep
"""


async def list_changes(
    scope: TenantScope,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    territory_id: UUID | None = None,
) -> ListChangesRead:
    """The list changes of the period (default: this month to today), in total and per rep."""
    scope.require("manager")
    date_to = date_to or local_today(scope.time_zone)
    date_from = date_from or date_to.replace(day=1)
    if date_from > date_to:
        raise ValidationFailed.field("date_to", "The end date is before the start date")
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationFailed.field("date_to", "Use a period of at most {days} days", days=MAX_DAYS)
    tz = zone(scope.time_zone)
    start = datetime.combine(date_from, time(), tz).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), tz).astimezone(UTC)
    async with scope.tx() as tx:
        p = Params(scope.tenant_id, start, end)
        if territory_id is not None:
            path = await territory_path(tx, scope.tenant_id, territory_id)
            if not await manages(tx, scope, territory_id):
                raise Forbidden("This territory is outside the ones you manage")
            where = territory_in_subtree_sql(p(path))
        elif scope.at_least("admin"):
            where = "TRUE"
        else:
            where = f"c.territory_id = ANY({p(await managed_territory_ids(tx, scope))}::uuid[])"
        rows = await tx.fetch(list_changes_sql(where), *p.values)

    def counts(r: object) -> ListChangeCounts:
        row = dict(r)  # type: ignore[call-overload]
        return ListChangeCounts(row["rep"], row["name"], *(int(row[k]) for k in KINDS))

    empty = ListChangeCounts(None, None, *(0 for _ in KINDS))
    total = next((counts(r) for r in rows if r["g"] == 1), empty)
    return ListChangesRead(
        date_from=date_from,
        date_to=date_to,
        territory_id=territory_id,
        total=total,
        reps=[counts(r) for r in rows if r["g"] == 0],
    )
