"""The cron fan-out over tenants: a cron job runs once per tenant, each in that tenant's system scope
(its time zone, locale and currency already in the scope), one tenant after the other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from uuid import UUID

import structlog

from app import db
from tenants.scope import TENANT_COLUMNS, TenantScope

log = structlog.get_logger(__name__)


async def tenant_ids() -> list[UUID]:
    """Every tenant's id, in id order: for a cron that shares the tenants out between concurrent
    ``for_each_tenant(..., only=share)`` runs."""
    async with db.transaction(None) as tx:
        return [r["id"] for r in await tx.fetch("SELECT id FROM tenants ORDER BY id")]


async def for_each_tenant(
    job: str,
    run: Callable[[TenantScope], Awaitable[int]],
    *,
    only: Collection[UUID] | None = None,
) -> int:
    """Run ``run(scope)`` for every tenant (or those in ``only``), by tenant id; returns the sum of
    what the runs returned (0 for a failed run). The tenants are listed once, before the first run.

    A run that raises is logged (``"<job> failed for a tenant"``, with ``job`` and the tenant id and
    the traceback) and the next tenant runs: one tenant's bad data never stops the others. So ``run``
    must keep each tenant's work in its own transactions (it does, through ``scope.tx()``); a run
    that wants to skip a tenant (not its local hour yet) returns 0."""
    async with db.transaction(None) as tx:
        if only is None:
            tenants = await tx.fetch(f"SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id")
        else:
            tenants = await tx.fetch(
                f"SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ANY($1::uuid[]) ORDER BY id", list(only)
            )
    total = 0
    for tenant in tenants:
        try:
            total += await run(TenantScope.system(tenant))
        except Exception as exc:
            log.exception(f"{job} failed for a tenant", job=job, tenant_id=str(tenant["id"]), exc_info=exc)
    return total
