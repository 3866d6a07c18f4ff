"""Sales targets (销售目标): amount, gross margin, new customers and collections, for the tenant, a
territory (its subtree) or a rep, per month, quarter or year; attainment is computed when read.

Who sets what: owner/admin anything; a manager territory targets inside their managed subtrees and
rep targets of the reps there; a rep reads only their own. A target outside what the caller sees is
404, like another tenant's id.

Decomposing a target into children that add up to it is in ``decompose``; changing a value that
would break a sum (a parent's, or a child's against its siblings) is refused here.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal, InvalidOperation
from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.rows import to_struct
from app.sales.field.measures import MONEY_METRICS, ratio, target_actual
from app.sales.field.schemas import TargetCreate, TargetRead, TargetUpdate
from app.sql import Params
from app.territories.service import fetch_territory
from tenants.access import manages, manages_member, target_visible_sql
from tenants.scope import TenantScope

MAX_VALUE = Decimal("99999999999999.99")
MONTHS = {"month": 1, "quarter": 3, "year": 12}
_COLUMNS = (
    "id, metric, scope_type, territory_id, membership_id, period, period_start, value, currency,"
    " parent_id, created_at, updated_at"
)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_end(period: str, start: date) -> date:
    return add_months(start, MONTHS[period])


_ALIGNMENT = {
    "month": N_("A month target starts on the first day of a month"),
    "quarter": N_("A quarter target starts on 1 January, 1 April, 1 July or 1 October"),
    "year": N_("A year target starts on 1 January"),
}
METRIC_LABELS = {
    "amount": N_("sales amount"),
    "gross_margin": N_("gross margin"),
    "new_customers": N_("new customers"),
    "collections": N_("collections"),
}


def check_period(period: str, start: date, field: str = "period_start") -> None:
    """A month starts on the 1st; a quarter on 1 January, April, July or October; a year on 1 January."""
    aligned = start.day == 1 and (start.month - 1) % MONTHS[period] == 0
    if not aligned:
        raise ValidationFailed.field(field, _ALIGNMENT[period])


def check_value(metric: str, value: Decimal, field: str = "value") -> Decimal:
    try:
        ok = value.is_finite() and Decimal(0) <= value <= MAX_VALUE
        ok = ok and value == value.quantize(Decimal(1) if metric == "new_customers" else Decimal("0.01"))
    except InvalidOperation:
        ok = False
    if not ok:
        if metric == "new_customers":
            raise ValidationFailed.field(field, "Use a whole number from 0")
        raise ValidationFailed.field(field, "Use an amount from 0 with at most two decimals")
    return value.quantize(Decimal("0.01"))


# --- who sees and sets which target -----------------------------------------------------------------


async def check_scope(
    tx: Tx,
    scope: TenantScope,
    scope_type: str,
    territory_id: UUID | None,
    membership_id: UUID | None,
    prefix: str = "",
) -> None:
    """422 on a malformed scope, 404 for an unknown territory, 403 when the caller may not set it."""
    if scope_type == "tenant":
        if territory_id is not None or membership_id is not None:
            raise ValidationFailed.field(prefix + "scope_type", "A tenant target has no territory or member")
        if not scope.at_least("admin"):
            raise Forbidden("Only an owner or admin can set tenant targets")
    elif scope_type == "territory":
        if territory_id is None or membership_id is not None:
            raise ValidationFailed.field(prefix + "territory_id", "A territory target needs a territory only")
        await fetch_territory(tx, scope, territory_id)
        if not await manages(tx, scope, territory_id):
            raise Forbidden("You do not manage this territory")
    else:
        if membership_id is None or territory_id is not None:
            raise ValidationFailed.field(prefix + "membership_id", "A rep target needs a member only")
        exists = await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE tenant = $1 AND id = $2)",
            scope.tenant_id,
            membership_id,
        )
        if not exists:
            raise ValidationFailed.field(prefix + "membership_id", "No member with this id")
        if not await manages_member(tx, scope, membership_id):
            raise Forbidden("You do not manage this member")


async def load_target(tx: Tx, scope: TenantScope, target_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    p = Params(scope.tenant_id, target_id)
    visible = await target_visible_sql(tx, scope, p)
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS} FROM targets g WHERE g.tenant = $1 AND g.id = $2 AND {visible}"
        + (" FOR UPDATE" if lock else ""),
        *p.values,
    )
    if row is None:
        raise NotFound("No target with this id")
    return row


async def read_target(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> TargetRead:
    end = period_end(row["period"], row["period_start"])
    actual = await target_actual(
        tx,
        scope.tenant_id,
        scope.time_zone,
        row["metric"],
        row["currency"],
        row["period_start"],
        end,
        row["scope_type"],
        row["territory_id"],
        row["membership_id"],
    )
    return to_struct(
        TargetRead,
        row,
        period_end=end,
        actual=actual,
        attainment=ratio(actual, row["value"]) if actual is not None else None,
    )


# --- reading ------------------------------------------------------------------------------------


async def list_targets(
    scope: TenantScope,
    *,
    metric: str | None = None,
    scope_type: str | None = None,
    territory_id: UUID | None = None,
    membership_id: UUID | None = None,
    period: str | None = None,
    on: date | None = None,
    parent_id: UUID | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[TargetRead]:
    """Targets the caller sees, latest period first; ``on`` keeps the periods containing that day."""
    check_limit(limit)
    at, after_id = decode_date_id_cursor(cursor) or (None, None)
    async with scope.tx() as tx:
        p = Params(
            scope.tenant_id,
            metric,
            scope_type,
            territory_id,
            membership_id,
            period,
            on,
            parent_id,
            at,
            after_id,
            limit + 1,
        )
        visible = await target_visible_sql(tx, scope, p)
        rows = await tx.fetch(
            f"SELECT {_COLUMNS} FROM targets g WHERE g.tenant = $1 AND ($2::text IS NULL OR g.metric = $2)"
            " AND ($3::text IS NULL OR g.scope_type = $3) AND ($4::uuid IS NULL OR g.territory_id = $4)"
            " AND ($5::uuid IS NULL OR g.membership_id = $5) AND ($6::text IS NULL OR g.period = $6)"
            " AND ($7::date IS NULL OR (g.period_start <= $7 AND $7 < g.period_start + CASE g.period"
            "  WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months'"
            "  ELSE interval '1 year' END))"
            " AND ($8::uuid IS NULL OR g.parent_id = $8)"
            " AND ($9::date IS NULL OR (g.period_start, g.id) < ($9, $10::uuid))"
            f" AND {visible} ORDER BY g.period_start DESC, g.id DESC LIMIT $11",
            *p.values,
        )
        items = [await read_target(tx, scope, r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(
        items=items, next_cursor=encode_cursor(items[-1].period_start, items[-1].id) if more else None
    )


async def get_target(scope: TenantScope, target_id: UUID) -> TargetRead:
    async with scope.tx() as tx:
        return await read_target(tx, scope, await load_target(tx, scope, target_id))


# --- writing ------------------------------------------------------------------------------------


def _currency(scope: TenantScope, metric: str, currency: str | None, field: str = "currency") -> str | None:
    if metric in MONEY_METRICS:
        return currency or scope.currency
    if currency is not None:
        raise ValidationFailed.field(field, "A count target has no currency")
    return None


async def insert_target(
    tx: Tx,
    scope: TenantScope,
    metric: str,
    currency: str | None,
    scope_type: str,
    territory_id: UUID | None,
    membership_id: UUID | None,
    period: str,
    start: date,
    value: Decimal,
    parent_id: UUID | None,
) -> UUID:
    try:
        new_id: UUID = await tx.fetchval(
            "INSERT INTO targets (tenant, metric, scope_type, territory_id, membership_id, period,"
            " period_start, value, currency, parent_id, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            scope.tenant_id,
            metric,
            scope_type,
            territory_id,
            membership_id,
            period,
            start,
            value,
            currency,
            parent_id,
            scope.membership_id,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict("A target for this metric, scope and period exists already") from None
    return new_id


async def create_target(scope: TenantScope, data: TargetCreate) -> TargetRead:
    scope.require("manager")
    check_period(data.period, data.period_start)
    value = check_value(data.metric, data.value)
    currency = _currency(scope, data.metric, data.currency)
    async with scope.tx() as tx:
        await check_scope(tx, scope, data.scope_type, data.territory_id, data.membership_id)
        new_id = await insert_target(
            tx,
            scope,
            data.metric,
            currency,
            data.scope_type,
            data.territory_id,
            data.membership_id,
            data.period,
            data.period_start,
            value,
            None,
        )
        await audit.record(
            tx,
            scope.user_id,
            "target.created",
            "target",
            new_id,
            data={"metric": data.metric, "value": str(value)},
        )
        return await read_target(tx, scope, await load_target(tx, scope, new_id))


async def _children_sum(tx: Tx, scope: TenantScope, parent_id: UUID) -> tuple[int, Decimal]:
    row = await tx.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(value), 0) AS total FROM targets WHERE tenant = $1 AND"
        " parent_id = $2",
        scope.tenant_id,
        parent_id,
    )
    assert row is not None
    return int(row["n"]), Decimal(row["total"])


async def update_target(scope: TenantScope, target_id: UUID, data: TargetUpdate) -> TargetRead:
    scope.require("manager")
    async with scope.tx() as tx:
        row = await load_target(tx, scope, target_id, lock=True)
        await check_scope(tx, scope, row["scope_type"], row["territory_id"], row["membership_id"])
        if isinstance(data.value, Decimal):
            value = check_value(row["metric"], data.value)
            count, total = await _children_sum(tx, scope, target_id)
            if count and total != value:
                raise ValidationFailed.field(
                    "value",
                    "The children of this target add up to {total}; decompose it again to change it",
                    total=str(total),
                )
            if row["parent_id"] is not None:
                parent = await tx.fetchrow(
                    "SELECT value FROM targets WHERE tenant = $1 AND id = $2 FOR UPDATE",
                    scope.tenant_id,
                    row["parent_id"],
                )
                assert parent is not None
                _, siblings = await _children_sum(tx, scope, row["parent_id"])
                if siblings - row["value"] + value != parent["value"]:
                    raise ValidationFailed.field(
                        "value",
                        "The children of the parent target must add up to {total}",
                        total=str(parent["value"]),
                    )
            await tx.execute(
                "UPDATE targets SET value = $3, updated_at = now() WHERE tenant = $1 AND id = $2",
                scope.tenant_id,
                target_id,
                value,
            )
            await audit.record(
                tx,
                scope.user_id,
                "target.updated",
                "target",
                target_id,
                data={"from": str(row["value"]), "to": str(value)},
            )
        return await read_target(tx, scope, await load_target(tx, scope, target_id))


async def month_target(
    tx: Tx, tenant_id: UUID, membership_id: UUID, metric: str, currency: str, month_start: date
) -> Decimal | None:
    """A rep's target for the month of ``month_start``: their month target, else their quarter's or
    year's spread evenly over its months (None when there is none)."""
    row = await tx.fetchrow(
        "SELECT value, period FROM targets WHERE tenant = $1 AND scope_type = 'rep' AND membership_id = $2"
        " AND metric = $3 AND currency = $4 AND period_start <= $5 AND $5 < period_start + CASE period"
        " WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months' ELSE interval"
        " '1 year' END"
        " ORDER BY CASE period WHEN 'month' THEN 0 WHEN 'quarter' THEN 1 ELSE 2 END LIMIT 1",
        tenant_id,
        membership_id,
        metric,
        currency,
        month_start,
    )
    if row is None:
        return None
    return (Decimal(row["value"]) / MONTHS[row["period"]]).quantize(Decimal("0.01"))
