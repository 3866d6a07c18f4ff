"""Renewals (续约): before a won deal's free-upgrade and maintenance period ends
(``ACRE_RENEWAL_LEAD_DAYS`` days before, ``app.deals.aftersales``), the deal's owner gets a renewal
deal for the customer, a return visit (回访) due by the period's end with its visit task, and an in-app
notification.

Cron (hourly), idempotent: the period is locked and made at most once (``renewal_deal_id`` set in the
same transaction); a period whose owner is deactivated waits until the deal has an active owner.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final
from uuid import UUID

import structlog

from app import audit
from app.deals.aftersales.service import ENDS_ON_SQL
from app.deals.schemas import DealCreate
from app.deals.service import create_deal
from app.i18n import N_, translate
from app.localtime import local_today
from app.notifications.service import Notice, notify
from app.settings import get_settings
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)

TITLE: Final = N_("Renewal: {title}")
_DUE = f"""
SELECT p.deal_id, {ENDS_ON_SQL} AS ends_on, d.customer_id, d.owner_membership_id AS owner, d.title, d.currency
FROM deal_service_periods p
JOIN deals d ON d.tenant = p.tenant AND d.id = p.deal_id
JOIN memberships m ON m.tenant = d.tenant AND m.id = d.owner_membership_id AND m.active
WHERE p.tenant = $1 AND p.renewal_deal_id IS NULL AND {ENDS_ON_SQL} - $3::int <= $2::date
ORDER BY p.starts_on, p.deal_id
FOR UPDATE OF p SKIP LOCKED
"""
_VISIT = """
WITH visit AS (
    INSERT INTO return_visits (tenant, customer_id, deal_id, assignee_membership_id, offset_days,
                               scheduled_from, due_on)
    VALUES ($1, $2, $3, $4, $5, $6, $6::date + $5::int)
    ON CONFLICT DO NOTHING RETURNING id, due_on
), task AS (
    INSERT INTO sales_tasks (tenant, customer_id, assignee_membership_id, kind, source, due_on,
                             return_visit_id)
    SELECT $1, $2, $4, 'visit', 'return_visit', v.due_on, v.id FROM visit v
)
SELECT id FROM visit UNION ALL (SELECT id FROM return_visits WHERE tenant = $1 AND customer_id = $2
    AND scheduled_from = $6 AND offset_days = $5) LIMIT 1
"""


async def renew_tenant(scope: TenantScope, today: date, lead_days: int) -> int:
    """Make the renewals of the tenant's periods ending within ``lead_days`` of ``today``; returns
    how many were made."""
    made = 0
    async with scope.tx() as tx:
        for row in await tx.fetch(_DUE, scope.tenant_id, today, lead_days):
            title = translate(scope.tenant_locale, TITLE, title=row["title"])[:200]
            renewal = await create_deal(
                scope,
                DealCreate(
                    customer_id=row["customer_id"],
                    title=title,
                    currency=row["currency"],
                    owner_membership_id=row["owner"],
                    expected_close_date=row["ends_on"],
                ),
            )
            # due when the period ends (at least tomorrow); one already scheduled so is it
            offset = max(1, (row["ends_on"] - today).days)
            visit_id: UUID | None = await tx.fetchval(
                _VISIT, scope.tenant_id, row["customer_id"], row["deal_id"], row["owner"], offset, today
            )
            await tx.execute(
                "UPDATE deal_service_periods SET renewal_deal_id = $3, return_visit_id = $4,"
                " renewed_at = now() WHERE tenant = $1 AND deal_id = $2",
                scope.tenant_id,
                row["deal_id"],
                renewal.id,
                visit_id,
            )
            await notify(
                tx,
                [
                    Notice(
                        row["owner"],
                        "renewal_created",
                        f"renewal:{row['deal_id']}",
                        "deal",
                        renewal.id,
                        {"deal": row["title"], "until": row["ends_on"].isoformat()},
                    )
                ],
            )
            await audit.record(
                tx,
                None,
                "deal.renewal_created",
                "deal",
                row["deal_id"],
                data={"renewal_deal_id": renewal.id, "return_visit_id": visit_id, "ends_on": row["ends_on"]},
            )
            made += 1
    return made


async def renewal_sweep(ctx: dict[str, Any]) -> int:
    """Cron (hourly): every tenant's renewals due (a failing tenant is logged, the others still run)."""
    lead = get_settings().renewal_lead_days

    async def renew(scope: TenantScope) -> int:
        return await renew_tenant(scope, local_today(scope.time_zone), lead)

    total = await for_each_tenant("renewals", renew)
    if total:
        log.info("renewals", made=total)
    return total
