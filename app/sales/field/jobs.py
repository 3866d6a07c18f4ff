"""Worker jobs of field work: the weekly territory reports and the daily briefings (crons, each
idempotent, a failing tenant logged and the others still run), and their one-tenant variants (jobs,
also used by tests)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.localtime import local_now
from app.sales.field.briefings import BRIEFING_HOUR, SEND_HOURS, brief_tenant
from app.sales.field.weekly_generation import generate, previous_week
from tenants.cron import for_each_tenant
from tenants.scope import TenantScope


async def _weekly(scope: TenantScope) -> int:
    return await generate(scope, previous_week(scope.time_zone))


async def weekly_territory_reports(ctx: dict[str, Any]) -> int:
    """Cron (Mondays, hourly): each tenant's reports for its previous local week; returns how many new."""
    return await for_each_tenant("weekly reports", _weekly)


async def weekly_reports_for(ctx: dict[str, Any], tenant_id: str, week_start: str) -> int:
    """Job: one tenant's reports for the week starting ``week_start`` (ISO date of a Monday)."""
    return await generate(await TenantScope.for_job(tenant_id), date.fromisoformat(week_start))


async def _briefings(scope: TenantScope) -> int:
    if not BRIEFING_HOUR <= local_now(scope.time_zone).hour < BRIEFING_HOUR + SEND_HOURS:
        return 0
    return await brief_tenant(scope)


async def daily_briefings(ctx: dict[str, Any]) -> int:
    """Cron (hourly): the briefings of every tenant where it is ``BRIEFING_HOUR`` (or up to
    ``SEND_HOURS`` later) local time."""
    return await for_each_tenant("briefings", _briefings)


async def briefings_for(ctx: dict[str, Any], tenant_id: str, day: str | None = None) -> int:
    """Job: one tenant's briefings for ``day`` (ISO date; today in its time zone when left out)."""
    return await brief_tenant(await TenantScope.for_job(tenant_id), date.fromisoformat(day) if day else None)
