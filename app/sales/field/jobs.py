"""Worker jobs of field work: the weekly territory reports and the daily briefings (crons, each
idempotent, a failing tenant logged and the others still run), and their one-tenant variants (jobs,
also used by tests)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import structlog

from app import db
from app.localtime import local_now
from app.sales.field.briefings import BRIEFING_HOUR, SEND_HOURS, brief_tenant
from app.sales.field.weekly_generation import generate, previous_week

log = structlog.get_logger(__name__)


async def _tenants() -> list[Any]:
    async with db.transaction(None) as tx:
        return await tx.fetch("SELECT id, time_zone FROM tenants ORDER BY id")


async def weekly_territory_reports(ctx: dict[str, Any]) -> int:
    """Cron (Mondays, hourly): each tenant's reports for its previous local week; returns how many new."""
    total = 0
    for tenant in await _tenants():
        try:
            total += await generate(tenant["id"], previous_week(tenant["time_zone"]))
        except Exception as exc:
            log.exception("weekly reports failed for a tenant", tenant_id=str(tenant["id"]), exc_info=exc)
    return total


async def weekly_reports_for(ctx: dict[str, Any], tenant_id: str, week_start: str) -> int:
    """Job: one tenant's reports for the week starting ``week_start`` (ISO date of a Monday)."""
    return await generate(UUID(tenant_id), date.fromisoformat(week_start))


async def daily_briefings(ctx: dict[str, Any]) -> int:
    """Cron (hourly): the briefings of every tenant where it is ``BRIEFING_HOUR`` (or up to
    ``SEND_HOURS`` later) local time."""
    total = 0
    for tenant in await _tenants():
        if not BRIEFING_HOUR <= local_now(tenant["time_zone"]).hour < BRIEFING_HOUR + SEND_HOURS:
            continue
        try:
            total += await brief_tenant(tenant["id"])
        except Exception as exc:
            log.exception("briefings failed for a tenant", tenant_id=str(tenant["id"]), exc_info=exc)
    return total


async def briefings_for(ctx: dict[str, Any], tenant_id: str, day: str | None = None) -> int:
    """Job: one tenant's briefings for ``day`` (ISO date; today in its time zone when left out)."""
    return await brief_tenant(UUID(tenant_id), date.fromisoformat(day) if day else None)
