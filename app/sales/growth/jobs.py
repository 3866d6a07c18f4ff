"""Cron of sales growth: the daily cadence tasks, tenant by tenant.

Idempotent and safe to run twice at once: done tasks are written down first (set-based), then one
``INSERT … SELECT`` per tenant makes the due ones, guarded by a unique partial index. A failing
tenant is logged and the others still run."""

from __future__ import annotations

from typing import Any

import structlog

from app import db
from app.sales.growth.cadences import load_cadences
from app.sales.growth.tasks import close_done_tasks, create_due_tasks

log = structlog.get_logger(__name__)


async def cadence_tenant(tenant_id: Any, time_zone: str) -> tuple[int, int]:
    """(tasks closed, tasks made) for one tenant, in one transaction."""
    async with db.transaction(tenant_id) as tx:
        closed = await close_done_tasks(tx)
        cadences = await load_cadences(tx)
        made = await create_due_tasks(tx, cadences.rule_arrays(), time_zone)
    return closed, made


async def cadence_tasks(ctx: dict[str, Any]) -> int:
    """Cron (daily): close the tasks done by a follow-up and make the due cadence tasks; returns how
    many were made."""
    async with db.transaction(None) as tx:
        tenants = await tx.fetch("SELECT id, time_zone FROM tenants ORDER BY id")
    total = 0
    for tenant in tenants:
        try:
            _, made = await cadence_tenant(tenant["id"], tenant["time_zone"])
            total += made
        except Exception as exc:
            log.exception("cadence tasks failed for a tenant", tenant_id=str(tenant["id"]), exc_info=exc)
    if total:
        log.info("cadence tasks", made=total)
    return total
