"""Daily sales reports (每日销售汇报表): one per member and day, for today or an earlier day. The
figures are prefilled from the day's data when the report is made and kept as filed:

- follow-ups of the day by the member: calls, visits (visit/meeting) by result, effective visits
  (appointment, presentation, order) and the effective visit rate;
- planned vs done visits of the day's visit plan;
- orders (deals first reaching signed or won that day, see ``measures``) and collections paid
  that day, by currency;
- the member's month target (amount and collections, in the tenant's currency), the day's share of
  it (month target / days in the month) and the month-to-date attainment.

The member adds competitor news and customer feedback, and may raise market incidents with it.
Who reads a report: its author, their managers, owner/admin (404 otherwise).

Editing (``update_report``): only its author, until the end of the day after they filed it in the
tenant's zone (a report filed late in the evening can be corrected the next morning; after that it is
the record the managers and the weekly report read, and a change is 409). The author changes the
notes and may refresh the figures from the day's data; incidents are raised and closed on their own.
"""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from msgspec import UnsetType

from app import audit
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.localtime import local_today, zone
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.rows import to_struct, to_structs
from app.sales.field.incidents import raise_incident
from app.sales.field.measures import BOUNDS, EFFECTIVE_RESULTS, VISIT_KINDS, actuals, ratio
from app.sales.field.schemas import DailyReportCreate, DailyReportRead, DailyReportUpdate, IncidentRead
from app.sales.field.targets import month_target
from tenants.access import reach_sql, team_member_ids
from tenants.scope import TenantScope

_SELECT = (
    "SELECT r.*, u.name AS member_name FROM daily_reports r"
    " JOIN memberships m ON m.tenant = r.tenant AND m.id = r.membership_id"
    " LEFT JOIN users u ON u.id = m.user_id"
)
_INCIDENTS = (
    "SELECT i.*, u.name AS member_name FROM market_incidents i"
    " JOIN memberships m ON m.tenant = i.tenant AND m.id = i.membership_id"
    " LEFT JOIN users u ON u.id = m.user_id WHERE i.tenant = $1 AND i.report_id = ANY($2::uuid[])"
    " ORDER BY i.created_at, i.id"
)
_FOLLOWUPS = f"""
SELECT f.kind, f.result, count(*) AS n FROM customer_followups f
WHERE f.tenant = $1 AND f.author_membership_id = $2
  AND f.happened_at >= {BOUNDS.format(d="$3", tz="$4")}
  AND f.happened_at < {BOUNDS.format(d="$3::date + 1", tz="$4")}
GROUP BY f.kind, f.result
"""


def _money(figures: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in sorted(figures.items())}


async def compute_figures(tx: Tx, scope: TenantScope, membership_id: UUID, day: date) -> dict[str, Any]:
    """The prefilled figures of one member's day (see the module docstring)."""
    rows = await tx.fetch(_FOLLOWUPS, scope.tenant_id, membership_id, day, scope.time_zone)
    by_result: dict[str, int] = {}
    calls = visits = effective = total = 0
    for r in rows:
        total += r["n"]
        if r["kind"] == "call":
            calls += r["n"]
        if r["kind"] in VISIT_KINDS:
            visits += r["n"]
            key = r["result"] or "unknown"
            by_result[key] = by_result.get(key, 0) + r["n"]
            if r["result"] in EFFECTIVE_RESULTS:
                effective += r["n"]
    plan = await tx.fetchrow(
        "SELECT count(i.id) AS planned, count(i.followup_id) AS done FROM visit_plans p"
        " LEFT JOIN visit_plan_items i ON i.tenant = p.tenant AND i.plan_id = p.id"
        " WHERE p.tenant = $1 AND p.membership_id = $2 AND p.plan_date = $3",
        scope.tenant_id,
        membership_id,
        day,
    )
    today = await actuals(
        tx, scope.tenant_id, scope.time_zone, day, day + timedelta(days=1), "rep", None, membership_id
    )
    month_start = day.replace(day=1)
    mtd = await actuals(
        tx, scope.tenant_id, scope.time_zone, month_start, day + timedelta(days=1), "rep", None, membership_id
    )
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    targets: dict[str, Any] = {"currency": scope.currency}
    for metric, day_figures, month_figures in (
        ("amount", today.amount, mtd.amount),
        ("collections", today.collections, mtd.collections),
    ):
        month = await month_target(tx, scope.tenant_id, membership_id, metric, scope.currency, month_start)
        done_day = day_figures.get(scope.currency, Decimal("0.00"))
        done_month = month_figures.get(scope.currency, Decimal("0.00"))
        day_target = (month / days_in_month).quantize(Decimal("0.01")) if month is not None else None
        targets[metric] = {
            "day_target": str(day_target) if day_target is not None else None,
            "day_actual": str(done_day),
            "day_attainment": str(ratio(done_day, day_target)) if day_target else None,
            "month_target": str(month) if month is not None else None,
            "month_to_date": str(done_month),
            "month_attainment": str(ratio(done_month, month)) if month else None,
        }
    return {
        "followups": total,
        "calls": calls,
        "visits": visits,
        "visits_by_result": dict(sorted(by_result.items())),
        "effective_visits": effective,
        "effective_visit_rate": _pct(ratio(effective, visits)),
        "planned_visits": int(plan["planned"]) if plan else 0,
        "planned_done": int(plan["done"]) if plan else 0,
        "orders": today.orders,
        "order_amount": _money(today.amount),
        "orders_per_visit": _pct(ratio(today.orders, visits)),
        "collections": _money(today.collections),
        "targets": targets,
    }


def _pct(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


EDIT_DAYS = 1  # the author may edit a report through this many days after the day they filed it


def editable_until(created_at: datetime, time_zone: str) -> datetime:
    """The end of the day after the report was filed (``EDIT_DAYS``), in the tenant's zone."""
    tz = zone(time_zone)
    filed = created_at.astimezone(tz).date()
    return datetime.combine(filed + timedelta(days=EDIT_DAYS + 1), time(0), tzinfo=tz)


def _read(row: asyncpg.Record, incidents: list[asyncpg.Record], time_zone: str) -> DailyReportRead:
    figures = row["figures"]
    return to_struct(
        DailyReportRead,
        row,
        figures=json.loads(figures) if isinstance(figures, str) else figures,
        incidents=to_structs(IncidentRead, incidents),
        editable_until=editable_until(row["created_at"], time_zone),
    )


async def _load(tx: Tx, scope: TenantScope, report_id: UUID) -> DailyReportRead:
    team = await team_member_ids(tx, scope)
    row = await tx.fetchrow(
        _SELECT + f" WHERE r.tenant = $1 AND r.id = $2 AND {reach_sql('r.membership_id', '$3')}",
        scope.tenant_id,
        report_id,
        team,
    )
    if row is None:
        raise NotFound("No daily report with this id")
    return _read(row, await tx.fetch(_INCIDENTS, scope.tenant_id, [report_id]), scope.time_zone)


def _note(text: str | None) -> str | None:
    return (text or "").strip() or None


async def create_report(scope: TenantScope, data: DailyReportCreate) -> DailyReportRead:
    if scope.membership_id is None:
        raise Forbidden("Only a member can file a daily report")
    if data.report_date > local_today(scope.time_zone):
        raise ValidationFailed.field("report_date", "A report cannot be for a future day")
    async with scope.tx() as tx:
        figures = await compute_figures(tx, scope, scope.membership_id, data.report_date)
        report_id: UUID | None = await tx.fetchval(
            "INSERT INTO daily_reports (tenant, membership_id, report_date, figures, competitor_news,"
            " customer_feedback) VALUES ($1, $2, $3, $4::jsonb, $5, $6)"
            " ON CONFLICT (tenant, membership_id, report_date) DO NOTHING RETURNING id",
            scope.tenant_id,
            scope.membership_id,
            data.report_date,
            json.dumps(figures),
            _note(data.competitor_news),
            _note(data.customer_feedback),
        )
        if report_id is None:
            raise Conflict("You already filed a report for this day")
        for n, incident in enumerate(data.incidents):
            await raise_incident(tx, scope, incident, report_id, field=f"incidents[{n}].")
        await audit.record(
            tx,
            scope.user_id,
            "daily_report.filed",
            "daily_report",
            report_id,
            data={"date": data.report_date, "incidents": len(data.incidents)},
        )
        return await _load(tx, scope, report_id)


async def update_report(scope: TenantScope, report_id: UUID, data: DailyReportUpdate) -> DailyReportRead:
    """The author's changes to their filed report (see the module docstring): 404 when the caller
    cannot read it (another tenant's, another team's), 403 for a reader who is not its author (a
    manager), 409 once the edit window has closed."""
    async with scope.tx() as tx:
        report = await _load(tx, scope, report_id)
        if report.membership_id != scope.membership_id:
            raise Forbidden("Only the author can edit a daily report")
        if await tx.fetchval("SELECT now()") >= report.editable_until:
            raise Conflict(
                "A daily report can be edited until the end of the day after it was filed ({date})",
                date=(report.editable_until - timedelta(days=1)).date().isoformat(),
            )
        news = report.competitor_news if isinstance(data.competitor_news, UnsetType) else data.competitor_news
        feedback = (
            report.customer_feedback
            if isinstance(data.customer_feedback, UnsetType)
            else data.customer_feedback
        )
        figures = (
            await compute_figures(tx, scope, report.membership_id, report.report_date)
            if data.refresh_figures
            else report.figures
        )
        await tx.execute(
            "UPDATE daily_reports SET competitor_news = $3, customer_feedback = $4, figures = $5::jsonb,"
            " updated_at = now() WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            report_id,
            _note(news),
            _note(feedback),
            json.dumps(figures),
        )
        await audit.record(
            tx,
            scope.user_id,
            "daily_report.edited",
            "daily_report",
            report_id,
            data={"refresh_figures": data.refresh_figures},
        )
        return await _load(tx, scope, report_id)


async def preview_report(scope: TenantScope, day: date) -> dict[str, Any]:
    """The figures a report for ``day`` would be prefilled with (nothing is saved)."""
    if scope.membership_id is None:
        raise Forbidden("Only a member can file a daily report")
    if day > local_today(scope.time_zone):
        raise ValidationFailed.field("report_date", "A report cannot be for a future day")
    async with scope.tx() as tx:
        return await compute_figures(tx, scope, scope.membership_id, day)


async def get_report(scope: TenantScope, report_id: UUID) -> DailyReportRead:
    async with scope.tx() as tx:
        return await _load(tx, scope, report_id)


async def list_reports(
    scope: TenantScope,
    *,
    membership_id: UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[DailyReportRead]:
    """The reports the caller sees (own; a manager their team's; admin all), latest day first."""
    check_limit(limit)
    at, after_id = decode_date_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        team = await team_member_ids(tx, scope)
        rows = await tx.fetch(
            _SELECT + f" WHERE r.tenant = $1 AND {reach_sql('r.membership_id', '$2')}"
            " AND ($3::uuid IS NULL OR r.membership_id = $3)"
            " AND ($4::date IS NULL OR r.report_date >= $4) AND ($5::date IS NULL OR r.report_date <= $5)"
            " AND ($6::date IS NULL OR (r.report_date, r.id) < ($6, $7::uuid))"
            " ORDER BY r.report_date DESC, r.id DESC LIMIT $8",
            scope.tenant_id,
            team,
            membership_id,
            date_from,
            date_to,
            at,
            after_id,
            limit + 1,
        )
        page = rows[:limit]
        incidents = await tx.fetch(_INCIDENTS, scope.tenant_id, [r["id"] for r in page])
    by_report: dict[UUID, list[asyncpg.Record]] = {}
    for i in incidents:
        by_report.setdefault(i["report_id"], []).append(i)
    items = [_read(r, by_report.get(r["id"], []), scope.time_zone) for r in page]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].report_date, items[-1].id) if more else None)
