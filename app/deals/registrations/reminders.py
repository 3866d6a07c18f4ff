"""The reminder before a vendor registration's protection ends (cron, hourly): the deal's owner gets an
in-app notification once a live registration has ``registration_reminder_days`` days or fewer left
(``ACRE_REGISTRATION_REMINDER_DAYS``). Idempotent: the notification's key is the registration and
its end date, so a second run sends nothing more, and a registration extended later is reminded of
again before its new end."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import structlog

from app.deals.registrations.service import LIVE_SQL
from app.localtime import local_today
from app.notifications.service import Notice, notify
from app.settings import get_settings
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)

_ENDING = f"""
SELECT r.id, r.vendor, r.protected_until, d.id AS deal_id, d.owner_membership_id AS owner,
       c.full_name AS customer
FROM vendor_registrations r
JOIN deals d ON d.tenant = r.tenant AND d.id = r.deal_id
JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id
JOIN memberships m ON m.tenant = d.tenant AND m.id = d.owner_membership_id AND m.active
WHERE r.tenant = $1 AND {LIVE_SQL} AND r.protected_until <= $2
ORDER BY r.protected_until, r.id
"""


async def remind_tenant(scope: TenantScope, today: date, days: int) -> int:
    """Remind the owners of the tenant's registrations ending within ``days`` of ``today``; returns how
    many notifications were new."""
    async with scope.tx() as tx:
        rows = await tx.fetch(_ENDING, scope.tenant_id, today + timedelta(days=days))
        notices = [
            Notice(
                r["owner"],
                "registration_expiring",
                f"registration-expiring:{r['id']}:{r['protected_until'].isoformat()}",
                "deal",
                r["deal_id"],
                {"customer": r["customer"], "vendor": r["vendor"], "until": r["protected_until"].isoformat()},
            )
            for r in rows
        ]
        return len(await notify(tx, notices))


async def registration_reminders(ctx: dict[str, Any]) -> int:
    """Cron (hourly): every tenant's reminders (a failing tenant is logged, the others still run)."""
    days = get_settings().registration_reminder_days

    async def remind(scope: TenantScope) -> int:
        return await remind_tenant(scope, local_today(scope.time_zone), days)

    total = await for_each_tenant("registration reminders", remind)
    if total:
        log.info("registration reminders", sent=total)
    return total
