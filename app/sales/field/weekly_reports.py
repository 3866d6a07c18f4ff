"""Weekly territory reports (周报) as read and planned: a report per territory that has a manager
and ISO week (Monday–Sunday in the tenant's time zone), made by the worker (``weekly_generation``,
where its figures are defined). An owner/admin reads every report, a manager those of their managed
subtrees, a rep none (403); a manager of the report's territory fills in ``next_week_plan``.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from uuid import UUID

import asyncpg

from app import audit, db
from app.errors import Conflict, NotFound
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.rows import to_struct
from app.sales.field.schemas import WeeklyPlanUpdate, WeeklyReportRead
from tenants.access import manages, reach_sql, weekly_report_territories
from tenants.scope import TenantScope


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.isoweekday() - 1)


_SELECT = (
    "SELECT w.*, coalesce(t.name, w.territory_name) AS territory_name FROM weekly_reports w"
    " LEFT JOIN territories t ON t.tenant = w.tenant AND t.id = w.territory_id"
)


def _read(row: asyncpg.Record) -> WeeklyReportRead:
    figures = row["figures"]
    return to_struct(
        WeeklyReportRead,
        row,
        week_end=row["week_start"] + timedelta(days=6),
        figures=json.loads(figures) if isinstance(figures, str) else figures,
    )


async def _load(tx: db.Tx, scope: TenantScope, report_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    visible = await weekly_report_territories(tx, scope)
    row = await tx.fetchrow(
        _SELECT
        + f" WHERE w.tenant = $1 AND w.id = $2 AND {reach_sql('w.territory_id', '$3')}"
        + (" FOR UPDATE OF w" if lock else ""),
        scope.tenant_id,
        report_id,
        visible,
    )
    if row is None:
        raise NotFound("No weekly report with this id")
    return row


async def get_weekly(scope: TenantScope, report_id: UUID) -> WeeklyReportRead:
    async with scope.tx() as tx:
        return _read(await _load(tx, scope, report_id))


async def list_weekly(
    scope: TenantScope,
    *,
    territory_id: UUID | None = None,
    week: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[WeeklyReportRead]:
    """Reports the caller reads, latest week first; ``week`` is any day of the wanted week."""
    check_limit(limit)
    at, after_id = decode_date_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        visible = await weekly_report_territories(tx, scope)
        rows = await tx.fetch(
            _SELECT + f" WHERE w.tenant = $1 AND {reach_sql('w.territory_id', '$2')}"
            " AND ($3::uuid IS NULL OR w.territory_id = $3) AND ($4::date IS NULL OR w.week_start = $4)"
            " AND ($5::date IS NULL OR (w.week_start, w.id) < ($5, $6::uuid))"
            " ORDER BY w.week_start DESC, w.id DESC LIMIT $7",
            scope.tenant_id,
            visible,
            territory_id,
            week_of(week) if week else None,
            at,
            after_id,
            limit + 1,
        )
    items = [_read(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].week_start, items[-1].id) if more else None)


async def update_plan(scope: TenantScope, report_id: UUID, data: WeeklyPlanUpdate) -> WeeklyReportRead:
    """Set next week's plan: a manager of the report's territory (or an owner/admin)."""
    plan = (data.next_week_plan or "").strip() or None
    async with scope.tx() as tx:
        row = await _load(tx, scope, report_id, lock=True)
        if row["territory_id"] is None:
            raise Conflict("This report's territory no longer exists; its plan cannot change")
        if not await manages(tx, scope, row["territory_id"]):
            raise NotFound("No weekly report with this id")
        await tx.execute(
            "UPDATE weekly_reports SET next_week_plan = $3, plan_updated_by = $4, plan_updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            report_id,
            plan,
            scope.membership_id,
        )
        await audit.record(tx, scope.user_id, "weekly_report.plan_updated", "weekly_report", report_id)
        return _read(await _load(tx, scope, report_id))
