"""The daily collection reminder (cron): each deal owner gets one digest (an in-app notification and
an email) of their unpaid collection items due within ``DUE_WITHIN_DAYS`` days or overdue.

Runs hourly; a tenant is reminded at the first run from ``REMIND_FROM_HOUR`` o'clock in its time
zone. Idempotent per owner and local day: the notification's dedupe key and the email's key are
``collections-due:<owner>:<date>``, so a second run (or two workers at once) sends nothing more.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import structlog

from app import mail, pages
from app.db import Tx
from app.deals.money import cents
from app.localtime import local_now, local_today
from app.notifications.service import Notice, notify
from app.outbound.events import emit
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)

DUE_WITHIN_DAYS = 3
REMIND_FROM_HOUR = 8

_DUE_SQL = """
SELECT k.id, k.due_date, k.currency, k.amount - coalesce(k.paid_amount, 0) AS outstanding,
       d.id AS deal_id, d.title AS deal, c.full_name AS customer, d.owner_membership_id AS owner,
       u.email, coalesce(u.locale, $3) AS locale
FROM collections k
JOIN deals d ON d.tenant = k.tenant AND d.id = k.deal_id
JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
JOIN memberships m ON m.tenant = d.tenant AND m.id = d.owner_membership_id AND m.active
JOIN users u ON u.id = m.user_id
WHERE k.tenant = $1 AND k.paid_at IS NULL AND k.due_date <= $2
ORDER BY d.owner_membership_id, k.due_date, k.id
"""


async def remind_tenant(scope: TenantScope, today: date) -> int:
    """Send the tenant's digests for ``today`` (its local date); returns how many were new."""
    sent = 0
    async with scope.tx() as tx:
        rows = await tx.fetch(
            _DUE_SQL, scope.tenant_id, today + timedelta(days=DUE_WITHIN_DAYS), scope.tenant_locale
        )
        by_owner: dict[UUID, list[Any]] = {}
        for row in rows:
            by_owner.setdefault(row["owner"], []).append(row)
        for owner, items in by_owner.items():
            key = f"collections-due:{owner}:{today.isoformat()}"
            overdue = sum(1 for i in items if i["due_date"] < today)
            params = {"count": len(items), "overdue": overdue, "due_soon": len(items) - overdue}
            if not await notify(tx, [Notice(owner, "collections_due", key, "collections", None, params)]):
                continue
            first = items[0]
            await mail.queue_email(
                tx,
                to=first["email"],
                template="collection_reminder",
                locale=first["locale"],
                key=key,
                **params,
                items=[
                    {
                        "customer": i["customer"],
                        "deal": i["deal"],
                        "amount": f"{cents(i['outstanding']):,} {i['currency']}",
                        "date": i["due_date"].isoformat(),
                        "overdue": i["due_date"] < today,
                    }
                    for i in items
                ],
                link=pages.url(pages.COLLECTIONS, {"owner": str(owner)}),
            )
            sent += 1
        await emit_overdue(tx, today)
    return sent


_OVERDUE_SQL = """
SELECT k.id AS collection_id, k.deal_id, d.customer_id, k.code, k.due_date, k.amount, k.paid_amount,
       k.currency
FROM collections k JOIN deals d ON d.tenant = k.tenant AND d.id = k.deal_id
WHERE k.tenant = $1 AND k.paid_at IS NULL AND k.due_date < $2
  AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.tenant = k.tenant AND e.type = 'collection.overdue'
                  AND e.data->>'collection_id' = k.id::text)
ORDER BY k.due_date, k.id
"""


async def emit_overdue(tx: Tx, today: date) -> int:
    """The ``collection.overdue`` webhook events of the items overdue on ``today`` (once per item: an
    item told of before is not told again)."""
    rows = await tx.fetch(_OVERDUE_SQL, tx.tenant_id, today)
    return await emit(tx, "collection.overdue", [dict(r) for r in rows])


async def collection_reminders(ctx: dict[str, Any]) -> int:
    """Cron (hourly): the daily digests of every tenant whose local time is past ``REMIND_FROM_HOUR``;
    a failing tenant is logged and the others still run. Returns the number of new digests."""

    async def remind(scope: TenantScope) -> int:
        if local_now(scope.time_zone).hour < REMIND_FROM_HOUR:
            return 0
        return await remind_tenant(scope, local_today(scope.time_zone))

    total = await for_each_tenant("collection reminders", remind)
    if total:
        log.info("collection reminders", sent=total)
    return total
