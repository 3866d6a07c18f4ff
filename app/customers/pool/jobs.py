"""Cron jobs of the pool: the reclaim sweep and the reclaim warnings, tenant by tenant.

Both are idempotent and safe to run twice at once (see ``reclaim.py``); a failing tenant is logged
and the others still run."""

from __future__ import annotations

from typing import Any

import structlog

from app import db
from app.customers.pool.reclaim import reclaim_tenant, warn_tenant

log = structlog.get_logger(__name__)


async def _tenants() -> list[Any]:
    async with db.transaction(None) as tx:
        return await tx.fetch("SELECT id, time_zone, locale FROM tenants ORDER BY id")


async def reclaim_sweep(ctx: dict[str, Any]) -> int:
    """Cron: move every customer due for auto-reclaim back to its pool; returns how many moved."""
    total = 0
    for tenant in await _tenants():
        try:
            total += await reclaim_tenant(tenant["id"])
        except Exception as exc:
            log.exception("reclaim sweep failed for a tenant", tenant_id=str(tenant["id"]), exc_info=exc)
    if total:
        log.info("reclaim sweep", reclaimed=total)
    return total


async def reclaim_warnings(ctx: dict[str, Any]) -> int:
    """Cron: warn owners ``warning_days`` before their customers are reclaimed; returns new warnings."""
    total = 0
    for tenant in await _tenants():
        try:
            total += await warn_tenant(tenant["id"], tenant["time_zone"], tenant["locale"])
        except Exception as exc:
            log.exception("reclaim warnings failed for a tenant", tenant_id=str(tenant["id"]), exc_info=exc)
    return total
