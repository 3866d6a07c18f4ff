"""The pipeline summary (GET /api/v1/pipeline): count, amount and weighted amount (amount ×
probability) by stage, by rep and in total, always per currency (different currencies are never
added up), in ONE query with GROUPING SETS.

Filters: a territory subtree (the customer's territory within it, materialised path), the expected
close date between ``from`` and ``to`` or a named period in the tenant's time zone, a currency, and
open deals only unless ``closed`` is asked for. Visibility is the deals' (``tenants.access.deals``): a
rep their own deals, a manager their subtrees (and their own), owner/admin all.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final
from uuid import UUID

from app.deals.schemas import PipelineRead, PipelineRepRow, PipelineStageRow, PipelineTotalRow
from app.deals.stages import OPEN_STAGES, TERMINAL
from app.errors import ValidationFailed
from app.localtime import local_today
from app.sql import Params
from tenants.access import DealAccess, deal_access, territory_in_subtree_sql, territory_path
from tenants.scope import TenantScope

PERIODS: Final = ("this_month", "next_month", "this_quarter", "next_quarter", "this_year")


def period_range(period: str, today: date) -> tuple[date, date]:
    """The first and last day of a named period around ``today``; 422 on ``period`` if unknown."""
    if period in ("this_month", "next_month"):
        start = today.replace(day=1)
        if period == "next_month":
            start = (start + timedelta(days=32)).replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, end
    if period in ("this_quarter", "next_quarter"):
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if period == "next_quarter":
            start = (start + timedelta(days=95)).replace(day=1)
        end = (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
        return start, end
    if period == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    raise ValidationFailed.field("period", "Use one of: {periods}", periods=", ".join(PERIODS))


def pipeline_sql(
    access: DealAccess,
    p: Params,
    *,
    stages: list[str],
    from_date: date | None,
    to_date: date | None,
    territory_id: UUID | None,
    currency: str | None,
) -> str:
    """The one aggregate query; ``p`` holds the tenant as ``$1`` and collects the filters. Rows with
    ``g = 1`` are by stage, ``g = 2`` by rep, ``g = 3`` the currency's total."""
    where = [f"d.tenant = $1 AND d.stage = ANY({p(stages)}::text[])"]
    if from_date is not None:
        where.append(f"d.expected_close_date >= {p(from_date)}")
    if to_date is not None:
        where.append(f"d.expected_close_date <= {p(to_date)}")
    if currency is not None:
        where.append(f"d.currency = {p(currency)}")
    if territory_id is not None:  # the subtree's root path looked up inside the query (one round trip)
        root = f"(SELECT r.path FROM territories r WHERE r.tenant = $1 AND r.id = {p(territory_id)})"
        where.append(territory_in_subtree_sql(root))
    if not access.everything:
        where.append(access.visible_sql(p))
    join = territory_id is not None or not access.everything
    return (
        "SELECT d.currency, d.stage, d.owner_membership_id, GROUPING(d.stage, d.owner_membership_id) AS g,"
        " count(*) AS n, sum(d.amount) AS amount,"
        " round(sum(d.amount * d.probability) / 100, 2) AS weighted FROM deals d"
        + (" JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id" if join else "")
        + " WHERE "
        + " AND ".join(where)
        + " GROUP BY GROUPING SETS ((d.currency, d.stage), (d.currency, d.owner_membership_id), (d.currency))"
    )


async def summary(
    scope: TenantScope,
    *,
    territory_id: UUID | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    period: str | None = None,
    currency: str | None = None,
    closed: bool = False,
) -> PipelineRead:
    """The pipeline the caller sees, grouped by stage, by rep and in total, per currency."""
    if period is not None:
        if from_date is not None or to_date is not None:
            raise ValidationFailed.field("period", "Give either a period or from/to dates, not both")
        from_date, to_date = period_range(period, local_today(scope.time_zone))
    if from_date is not None and to_date is not None and from_date > to_date:
        raise ValidationFailed.field("to", "The end date is before the start date")
    if currency is not None and (len(currency) != 3 or not currency.isalpha() or not currency.isupper()):
        raise ValidationFailed.field("currency", "Use a three-letter currency code")
    stages = [*OPEN_STAGES, *TERMINAL] if closed else list(OPEN_STAGES)
    async with scope.tx() as tx:
        access = await deal_access(tx, scope)
        p = Params(scope.tenant_id)
        sql = pipeline_sql(
            access,
            p,
            stages=stages,
            from_date=from_date,
            to_date=to_date,
            territory_id=territory_id,
            currency=currency,
        )
        rows = await tx.fetch(sql, *p.values)
        if not rows and territory_id is not None:
            await territory_path(tx, scope.tenant_id, territory_id)  # 404 for an unknown territory
    order = {s: i for i, s in enumerate(stages)}
    by_stage = sorted(
        (
            PipelineStageRow(r["stage"], r["currency"], r["n"], r["amount"], r["weighted"])
            for r in rows
            if r["g"] == 1
        ),
        key=lambda x: (x.currency, order[x.stage]),
    )
    by_rep = sorted(
        (
            PipelineRepRow(r["owner_membership_id"], r["currency"], r["n"], r["amount"], r["weighted"])
            for r in rows
            if r["g"] == 2
        ),
        key=lambda x: (x.currency, -x.amount, str(x.owner_membership_id)),
    )
    totals = sorted(
        (PipelineTotalRow(r["currency"], r["n"], r["amount"], r["weighted"]) for r in rows if r["g"] == 3),
        key=lambda x: x.currency,
    )
    return PipelineRead(
        territory_id=territory_id,
        from_date=from_date,
        to_date=to_date,
        closed_included=closed,
        by_stage=by_stage,
        by_rep=by_rep,
        totals=totals,
    )
