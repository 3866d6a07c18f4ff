"""Cron of sales growth: the daily cadence tasks, tenant by tenant.

Idempotent and safe to run twice at once: done tasks are written down first (set-based), then one
``INSERT … SELECT`` per tenant makes the due ones, guarded by a unique partial index. A failing
tenant is logged and the others still run."""

from __future__ import annotations

from typing import Any

import structlog

from app.sales.growth.cadences import load_cadences
from app.sales.growth.tasks import close_done_tasks, create_due_tasks
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)


async def cadence_tenant(scope: TenantScope) -> tuple[int, int]:
    """(tasks closed, tasks made) for one tenant, in one transaction."""
    async with scope.tx() as tx:
        closed = await close_done_tasks(tx)
        cadences = await load_cadences(tx)
        made = await create_due_tasks(tx, cadences.rule_arrays(), scope.time_zone)
    return closed, made


async def _made(scope: TenantScope) -> int:
    return (await cadence_tenant(scope))[1]


async def cadence_tasks(ctx: dict[str, Any]) -> int:
    """Cron (daily): close the tasks done by a follow-up and make the due cadence tasks; returns how
    many were made."""
    total = await for_each_tenant("cadence tasks", _made)
    if total:
        log.info("cadence tasks", made=total)
    return total
