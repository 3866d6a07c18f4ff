"""What field work measures, shared by targets, daily and weekly reports: the actual figures of a
period for the tenant, a territory subtree or a rep (who reads whose figures: ``tenants.access.team``).

Definitions (also in the README):

- an **order** is a deal reaching ``signed`` or ``won`` for the first time; it counts on that day,
  with its amount in its currency (once signed, the signed contract's total: ``app.deals.contracts``);
- **collections** are the payments made in the period (partial ones included; an item marked
  paid without payment rows counts its ``paid_amount`` on its ``paid_at`` day), by currency;
- **new customers** are customers created in the period (a rep: the ones they entered, else own);
- a **visit** is a follow-up of kind visit or meeting; an **effective visit** is one whose result is
  appointment, presentation or order;
- **gross margin** needs cost data the product does not hold yet: its actual is ``null``.

Days and periods are the tenant's local days (``time_zone``), as half-open ``[start, end)`` ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.db import Tx
from tenants.access import in_subtree_sql

VISIT_KINDS = ("visit", "meeting")
EFFECTIVE_RESULTS = ("appointment", "presentation", "order")
MONEY_METRICS = ("amount", "gross_margin", "collections")
# The tenant-local bounds of [$lo, $hi) dates as timestamps: parameters named by the caller.
BOUNDS = "(({d})::date::timestamp AT TIME ZONE {tz})"


# Money collected in [start, end): the payments (``collection_payments``, by their local ``paid_on``
# day), and items marked paid without payment rows (by ``paid_at``). Placeholders: the tenant is $1.
PAYMENTS_SQL = (
    "SELECT k.deal_id, p.currency, p.amount FROM collection_payments p"
    " JOIN collections k ON k.tenant = p.tenant AND k.id = p.collection_id"
    " WHERE p.tenant = $1 AND p.paid_on >= {start} AND p.paid_on < {end}"
    " UNION ALL SELECT k.deal_id, k.currency, k.paid_amount FROM collections k"
    " WHERE k.tenant = $1 AND k.paid_at >= {lo} AND k.paid_at < {hi} AND NOT EXISTS"
    " (SELECT 1 FROM collection_payments p WHERE p.tenant = k.tenant AND p.collection_id = k.id)"
)


def money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part / whole`` in percent with two decimals; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


@dataclass(slots=True)
class Actuals:
    orders: int = 0
    amount: dict[str, Decimal] = field(default_factory=dict)
    collections: dict[str, Decimal] = field(default_factory=dict)
    new_customers: int = 0


def _scope_sql(scope_type: str, territory_param: str, member_param: str, owner: str, territory: str) -> str:
    if scope_type == "rep":
        return f"{owner} = {member_param}"
    if scope_type == "territory":
        return (
            f"{territory} IN (SELECT t.id FROM territories a JOIN territories t ON t.tenant = a.tenant"
            f" AND {in_subtree_sql('t.path', of='a.path')} WHERE a.tenant = $1 AND a.id ="
            f" {territory_param})"
        )
    return "TRUE"


async def actuals(
    tx: Tx,
    tenant_id: UUID,
    time_zone: str,
    start: date,
    end: date,
    scope_type: str = "tenant",
    territory_id: UUID | None = None,
    membership_id: UUID | None = None,
) -> Actuals:
    """Orders, order amounts, collections and new customers of ``[start, end)`` in one scope."""
    lo, hi = BOUNDS.format(d="$2", tz="$4"), BOUNDS.format(d="$3", tz="$4")
    deal_scope = _scope_sql(scope_type, "$5", "$6", "d.owner_membership_id", "c.territory_id")
    customer_scope = _scope_sql(
        scope_type, "$5", "$6", "coalesce(c.created_by, c.owner_membership_id)", "c.territory_id"
    )
    sql = f"""
WITH args AS (SELECT $5::uuid AS territory_id, $6::uuid AS membership_id),  -- typed even when unused
firsts AS (
    SELECT s.deal_id FROM deal_stage_changes s
    WHERE s.tenant = $1 AND s.to_stage IN ('signed', 'won') AND s.at >= {lo} AND s.at < {hi}
    GROUP BY s.deal_id
    HAVING NOT EXISTS (SELECT 1 FROM deal_stage_changes e WHERE e.tenant = $1 AND e.deal_id = s.deal_id
        AND e.to_stage IN ('signed', 'won') AND e.at < {lo})
),
orders AS (
    SELECT d.currency, count(*) AS n, sum(d.amount) AS total FROM firsts f
    JOIN deals d ON d.tenant = $1 AND d.id = f.deal_id
    JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
    WHERE {deal_scope} GROUP BY d.currency
),
paid AS (
    SELECT x.currency, sum(x.amount) AS total
    FROM ({PAYMENTS_SQL.format(start="$2", end="$3", lo=lo, hi=hi)}) x
    JOIN deals d ON d.tenant = $1 AND d.id = x.deal_id
    JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
    WHERE {deal_scope} GROUP BY x.currency
)
SELECT
    (SELECT coalesce(sum(n), 0) FROM orders) AS orders,
    (SELECT coalesce(jsonb_object_agg(currency, total), '{{}}') FROM orders) AS amount,
    (SELECT coalesce(jsonb_object_agg(currency, total), '{{}}') FROM paid) AS collections,
    (SELECT count(*) FROM customers c WHERE c.tenant = $1 AND c.created_at >= {lo} AND c.created_at < {hi}
        AND {customer_scope}) AS new_customers
"""
    row = await tx.fetchrow(sql, tenant_id, start, end, time_zone, territory_id, membership_id)
    assert row is not None
    return Actuals(
        orders=int(row["orders"]),
        amount={k: money(v) for k, v in _json(row["amount"]).items()},
        collections={k: money(v) for k, v in _json(row["collections"]).items()},
        new_customers=int(row["new_customers"]),
    )


async def target_actual(
    tx: Tx,
    tenant_id: UUID,
    time_zone: str,
    metric: str,
    currency: str | None,
    start: date,
    end: date,
    scope_type: str,
    territory_id: UUID | None = None,
    membership_id: UUID | None = None,
) -> Decimal | None:
    """The actual of a target's ``metric`` over ``[start, end)`` in one scope: new customers as a count,
    amount and collections in the target's ``currency`` (0.00 when none); None for gross margin,
    without a query (there is no cost data)."""
    if metric == "gross_margin":
        return None
    got = await actuals(tx, tenant_id, time_zone, start, end, scope_type, territory_id, membership_id)
    if metric == "new_customers":
        return Decimal(got.new_customers)
    figures = got.amount if metric == "amount" else got.collections
    return figures.get(currency or "", Decimal("0.00"))


def _json(value: Any) -> dict[str, Any]:
    import json

    return json.loads(value) if isinstance(value, str) else dict(value or {})
