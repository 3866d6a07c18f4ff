"""The leads' cron: an Idempotency-Key is remembered for ``IDEMPOTENCY_DAYS``; older intake records
are deleted (hourly, tenant by tenant), so the table holds about a week of requests."""

from __future__ import annotations

from typing import Any

from tenants.cron import for_each_tenant
from tenants.scope import TenantScope

IDEMPOTENCY_DAYS = 7


async def purge_tenant(scope: TenantScope) -> int:
    async with scope.tx() as tx:
        status = await tx.execute(
            "DELETE FROM lead_requests WHERE tenant = $1 AND created_at < now() - make_interval(days => $2)",
            scope.tenant_id,
            IDEMPOTENCY_DAYS,
        )
    return int(status.split()[-1])


async def purge_lead_requests(ctx: dict[str, Any]) -> int:
    """Cron: forget intake requests older than a week (their Idempotency-Keys may be used again)."""
    return await for_each_tenant("lead request purge", purge_tenant)
