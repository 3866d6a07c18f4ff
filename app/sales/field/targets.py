"""Sales targets (销售目标): amount, gross margin, new customers and collections, for the tenant, a
territory (its subtree) or a rep, per month, quarter or year; attainment is computed when read.

Who sets what: owner/admin anything; a manager territory targets inside their managed subtrees and
rep targets of the reps there; a rep reads only their own. A target outside what the caller sees is
404, like another tenant's id.

Decomposition (``decompose``): a parent is split either by scope over the same period (tenant →
territories/reps, territory → sub-territories/reps of its subtree) or over sub-periods for the same
scope (year → quarters or months, quarter → months, covering the whole period). The children must
add up to the parent exactly; they are written together or not at all, replacing earlier children.
Changing a value that would break a sum (a parent's, or a child's against its siblings) is refused.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal, InvalidOperation
from uuid import UUID

import asyncpg

from app import audit
from app.customers.access import Params
from app.db import Tx
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.pagination import Page, check_limit, decode_date_id_cursor, encode_cursor
from app.sales.field.measures import MONEY_METRICS, actuals, manages_member, ratio, team_member_ids
from app.sales.field.schemas import TargetChild, TargetCreate, TargetDecompose, TargetRead, TargetUpdate
from app.territories.service import fetch_territory, managed_territory_ids, manages, sees_all
from tenants.scope import TenantScope

MAX_VALUE = Decimal("99999999999999.99")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_COLUMNS = (
    "id, metric, scope_type, territory_id, membership_id, period, period_start, value, currency,"
    " parent_id, created_at, updated_at"
)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_end(period: str, start: date) -> date:
    return add_months(start, _MONTHS[period])


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
    aligned = start.day == 1 and (start.month - 1) % _MONTHS[period] == 0
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


async def _visible_sql(tx: Tx, scope: TenantScope, p: Params) -> str:
    if sees_all(scope):
        return "TRUE"
    own = f"(g.scope_type = 'rep' AND g.membership_id = {p(scope.membership_id)}::uuid)"
    if scope.role != "manager":
        return own
    managed = await managed_territory_ids(tx, scope)
    team = await team_member_ids(tx, scope) or []
    return (
        f"({own} OR g.scope_type = 'tenant' OR g.territory_id = ANY({p(managed)}::uuid[])"
        f" OR (g.scope_type = 'rep' AND g.membership_id = ANY({p(team)}::uuid[])))"
    )


async def _check_scope(
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
        if not sees_all(scope):
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


async def _load(tx: Tx, scope: TenantScope, target_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    p = Params(scope.tenant_id, target_id)
    visible = await _visible_sql(tx, scope, p)
    row = await tx.fetchrow(
        f"SELECT {_COLUMNS} FROM targets g WHERE g.tenant = $1 AND g.id = $2 AND {visible}"
        + (" FOR UPDATE" if lock else ""),
        *p.values,
    )
    if row is None:
        raise NotFound("No target with this id")
    return row


async def _read(tx: Tx, scope: TenantScope, row: asyncpg.Record) -> TargetRead:
    end = period_end(row["period"], row["period_start"])
    actual: Decimal | None
    if row["metric"] == "gross_margin":
        actual = None
    else:
        got = await actuals(
            tx,
            scope.tenant_id,
            scope.time_zone,
            row["period_start"],
            end,
            row["scope_type"],
            row["territory_id"],
            row["membership_id"],
        )
        if row["metric"] == "new_customers":
            actual = Decimal(got.new_customers)
        else:
            figures = got.amount if row["metric"] == "amount" else got.collections
            actual = figures.get(row["currency"], Decimal("0.00"))
    return TargetRead(
        **{
            k: row[k]
            for k in (
                "id",
                "metric",
                "scope_type",
                "territory_id",
                "membership_id",
                "period",
                "period_start",
                "value",
                "currency",
                "parent_id",
                "created_at",
                "updated_at",
            )
        },
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
        visible = await _visible_sql(tx, scope, p)
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
        items = [await _read(tx, scope, r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(
        items=items, next_cursor=encode_cursor(items[-1].period_start, items[-1].id) if more else None
    )


async def get_target(scope: TenantScope, target_id: UUID) -> TargetRead:
    async with scope.tx() as tx:
        return await _read(tx, scope, await _load(tx, scope, target_id))


# --- writing ------------------------------------------------------------------------------------


def _currency(scope: TenantScope, metric: str, currency: str | None, field: str = "currency") -> str | None:
    if metric in MONEY_METRICS:
        return currency or scope.currency
    if currency is not None:
        raise ValidationFailed.field(field, "A count target has no currency")
    return None


async def _insert(
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
        await _check_scope(tx, scope, data.scope_type, data.territory_id, data.membership_id)
        new_id = await _insert(
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
        return await _read(tx, scope, await _load(tx, scope, new_id))


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
        row = await _load(tx, scope, target_id, lock=True)
        await _check_scope(tx, scope, row["scope_type"], row["territory_id"], row["membership_id"])
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
        return await _read(tx, scope, await _load(tx, scope, target_id))


def _sub_periods(parent: asyncpg.Record, period: str) -> set[date]:
    start, end = parent["period_start"], period_end(parent["period"], parent["period_start"])
    found, at = set(), start
    while at < end:
        found.add(at)
        at = add_months(at, _MONTHS[period])
    return found


async def _in_subtree(tx: Tx, scope: TenantScope, root: UUID, territory_id: UUID, *, strict: bool) -> bool:
    return bool(
        await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM territories a JOIN territories t ON t.tenant = a.tenant"
            " AND t.path >= a.path AND t.path < a.path || '~' WHERE a.tenant = $1 AND a.id = $2 AND t.id = $3"
            " AND (NOT $4 OR t.id <> a.id))",
            scope.tenant_id,
            root,
            territory_id,
            strict,
        )
    )


async def _works_in_subtree(tx: Tx, scope: TenantScope, root: UUID, membership_id: UUID) -> bool:
    return bool(
        await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM territories a JOIN territories t ON t.tenant = a.tenant"
            " AND t.path >= a.path AND t.path < a.path || '~' JOIN territory_members m ON m.tenant = t.tenant"
            " AND m.territory_id = t.id WHERE a.tenant = $1 AND a.id = $2 AND m.membership_id = $3)",
            scope.tenant_id,
            root,
            membership_id,
        )
    )


async def _check_child(tx: Tx, scope: TenantScope, parent: asyncpg.Record, child: TargetChild, i: int) -> str:
    """Validate one child; returns its mode: ``scope`` (narrower scope, same period) or ``period``."""
    field = f"children[{i}]"
    check_period(child.period, child.period_start, f"{field}.period_start")
    check_value(parent["metric"], child.value, f"{field}.value")
    await _check_scope(tx, scope, child.scope_type, child.territory_id, child.membership_id, f"{field}.")
    same_scope = (child.scope_type, child.territory_id, child.membership_id) == (
        parent["scope_type"],
        parent["territory_id"],
        parent["membership_id"],
    )
    if (child.period, child.period_start) == (parent["period"], parent["period_start"]):
        narrower = False
        if parent["scope_type"] == "tenant":
            narrower = child.scope_type != "tenant"
        elif parent["scope_type"] == "territory" and child.scope_type == "territory":
            assert child.territory_id is not None
            narrower = await _in_subtree(tx, scope, parent["territory_id"], child.territory_id, strict=True)
        elif parent["scope_type"] == "territory" and child.scope_type == "rep":
            assert child.membership_id is not None
            narrower = await _works_in_subtree(tx, scope, parent["territory_id"], child.membership_id)
        if not narrower:
            raise ValidationFailed.field(field, "A child over the same period must have a narrower scope")
        return "scope"
    if (
        not same_scope
        or _MONTHS[child.period] >= _MONTHS[parent["period"]]
        or child.period_start not in (_sub_periods(parent, child.period))
    ):
        raise ValidationFailed.field(
            field,
            "A child must cover the same period with a narrower scope, or a part of the period with"
            " the same scope",
        )
    return "period"


async def decompose(scope: TenantScope, data: TargetDecompose) -> list[TargetRead]:
    """Split a parent target into children that add up to it; replaces its earlier children."""
    scope.require("manager")
    async with scope.tx() as tx:
        parent = await _load(tx, scope, data.parent_id, lock=True)
        modes = {await _check_child(tx, scope, parent, c, i) for i, c in enumerate(data.children)}
        if len(modes) > 1:
            raise ValidationFailed.field("children", "Split by scope or by period, not both at once")
        keys = {
            (c.scope_type, c.territory_id, c.membership_id, c.period, c.period_start) for c in data.children
        }
        if len(keys) != len(data.children):
            raise ValidationFailed.field("children", "Two children have the same scope and period")
        if modes == {"period"}:
            kinds = {c.period for c in data.children}
            if len(kinds) > 1 or {c.period_start for c in data.children} != _sub_periods(parent, kinds.pop()):
                raise ValidationFailed.field("children", "The children must cover the whole period")
        total = sum((check_value(parent["metric"], c.value) for c in data.children), Decimal("0.00"))
        if total != parent["value"]:
            raise ValidationFailed.field(
                "children",
                "The children add up to {total}, not to the parent's {value}",
                total=str(total),
                value=str(parent["value"]),
            )
        has_grandchildren = await tx.fetchval(
            "SELECT EXISTS (SELECT 1 FROM targets c JOIN targets g ON g.tenant = c.tenant AND"
            " g.parent_id = c.id"
            " WHERE c.tenant = $1 AND c.parent_id = $2)",
            scope.tenant_id,
            parent["id"],
        )
        if has_grandchildren:
            raise Conflict("The current children are decomposed further; change those first")
        await tx.execute(
            "DELETE FROM targets WHERE tenant = $1 AND parent_id = $2", scope.tenant_id, parent["id"]
        )
        ids = [
            await _insert(
                tx,
                scope,
                parent["metric"],
                parent["currency"],
                c.scope_type,
                c.territory_id,
                c.membership_id,
                c.period,
                c.period_start,
                check_value(parent["metric"], c.value),
                parent["id"],
            )
            for c in data.children
        ]
        await audit.record(
            tx,
            scope.user_id,
            "target.decomposed",
            "target",
            parent["id"],
            data={"children": len(ids), "by": modes.pop()},
        )
        return [await _read(tx, scope, await _load(tx, scope, i)) for i in ids]


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
    return (Decimal(row["value"]) / _MONTHS[row["period"]]).quantize(Decimal("0.01"))
