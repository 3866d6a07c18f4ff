"""Cron jobs of the pool: the reclaim sweep and the reclaim warnings, tenant by tenant.

Both are idempotent and safe to run twice at once (see ``reclaim.py``); a failing tenant is logged
and the others still run (``for_each_tenant``)."""

from __future__ import annotations

from typing import Any

import structlog

from app.customers.pool.reclaim import reclaim_tenant, warn_tenant
from tenants.cron import for_each_tenant

log = structlog.get_logger(__name__)


async def reclaim_sweep(ctx: dict[str, Any]) -> int:
    """Cron: move every customer due for auto-reclaim back to its pool; returns how many moved."""
    total = await for_each_tenant("reclaim sweep", reclaim_tenant)
    if total:
        log.info("reclaim sweep", reclaimed=total)
    return total


async def reclaim_warnings(ctx: dict[str, Any]) -> int:
    """Cron: warn owners ``warning_days`` before their customers are reclaimed; returns new warnings."""
    return await for_each_tenant("reclaim warnings", warn_tenant)
