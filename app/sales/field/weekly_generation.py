"""Generating the weekly territory reports: the worker makes them for the previous ISO week
(Monday–Sunday in the tenant's time zone) for every territory that has a manager, over the
territory's whole subtree:

- ``new_customers``: customers created in the week;
- ``collections``: payments made in the week, by currency (see ``measures``);
- ``visits`` / ``effective_visits`` / ``effective_visit_rate``: visit and meeting follow-ups, and
  those whose result is appointment, presentation or order (rate = effective / visits, percent);
- ``orders`` / ``order_amount``: deals first reaching signed or won in the week (by currency);
  ``lost``: deals moved to lost in the week;
- ``deal_rate``: orders / (orders + lost) — the share of the deals closed in the week that were won
  (percent; null when none closed);
- ``reps`` and ``average_sales_per_rep``: order amount / reps of the subtree, by currency;
- ``targets``: the territory's targets whose period contains the week, with the period-to-date
  actual (through the week's end) and attainment;
- ``competitor_notes``: the competitor news of the week's daily reports of the subtree's members.

All territories' figures come from one set-based statement per tenant and week (the follow-ups are
read through the ``(tenant, happened_at)`` index). Generating is idempotent: one report per territory
and week (``ON CONFLICT DO NOTHING``), and each manager of the territory gets one email (keyed by
report and manager).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from app import db, mail, pages
from app.localtime import local_today
from app.sales.field.measures import (
    BOUNDS,
    EFFECTIVE_RESULTS,
    PAYMENTS_SQL,
    VISIT_KINDS,
    money,
    ratio,
    target_actual,
)
from app.sales.field.targets import METRIC_LABELS, period_end
from app.sales.field.weekly_reports import week_of
from tenants.access import in_subtree_sql
from tenants.scope import TenantScope

log = structlog.get_logger(__name__)
_LO, _HI = BOUNDS.format(d="$2", tz="$3"), BOUNDS.format(d="$2::date + 7", tz="$3")
_VISITS = ", ".join(f"'{k}'" for k in VISIT_KINDS)
_EFFECTIVE = ", ".join(f"'{k}'" for k in EFFECTIVE_RESULTS)

# One row per managed territory: the week's figures over its subtree. ``sub`` maps every territory
# to each managed root above it (or itself); each fact table is read once for the week.
AGGREGATE_SQL = f"""
WITH roots AS (
    SELECT DISTINCT a.id, a.path FROM territories a
    JOIN territory_members tm ON tm.tenant = a.tenant AND tm.territory_id = a.id AND tm.role = 'manager'
    WHERE a.tenant = $1
),
sub AS (
    SELECT r.id AS root_id, t.id AS territory_id FROM roots r
    JOIN territories t ON t.tenant = $1 AND {in_subtree_sql("t.path", of="r.path")}
),
fu AS (
    SELECT s.root_id, count(*) AS visits, count(*) FILTER (WHERE f.result IN ({_EFFECTIVE})) AS effective
    FROM customer_followups f
    JOIN customers c ON c.tenant = f.tenant AND c.id = f.customer_id
    JOIN sub s ON s.territory_id = c.territory_id
    WHERE f.tenant = $1 AND f.happened_at >= {_LO} AND f.happened_at < {_HI} AND f.kind IN ({_VISITS})
    GROUP BY s.root_id
),
newc AS (
    SELECT s.root_id, count(*) AS n FROM customers c JOIN sub s ON s.territory_id = c.territory_id
    WHERE c.tenant = $1 AND c.created_at >= {_LO} AND c.created_at < {_HI}
    GROUP BY s.root_id
),
closing AS (
    SELECT x.deal_id, x.to_stage FROM deal_stage_changes x
    WHERE x.tenant = $1 AND x.to_stage IN ('signed', 'won', 'lost') AND x.at >= {_LO} AND x.at < {_HI}
),
firsts AS (
    SELECT DISTINCT k.deal_id FROM closing k WHERE k.to_stage IN ('signed', 'won')
    AND NOT EXISTS (SELECT 1 FROM deal_stage_changes e WHERE e.tenant = $1 AND e.deal_id = k.deal_id
        AND e.to_stage IN ('signed', 'won') AND e.at < {_LO})
),
won AS (
    SELECT s.root_id, d.currency, count(*) AS n, sum(d.amount) AS total FROM firsts f
    JOIN deals d ON d.tenant = $1 AND d.id = f.deal_id
    JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
    JOIN sub s ON s.territory_id = c.territory_id
    GROUP BY s.root_id, d.currency
),
lost AS (
    SELECT s.root_id, count(DISTINCT k.deal_id) AS n FROM closing k
    JOIN deals d ON d.tenant = $1 AND d.id = k.deal_id
    JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
    JOIN sub s ON s.territory_id = c.territory_id
    WHERE k.to_stage = 'lost' GROUP BY s.root_id
),
-- MATERIALIZED: computed once for all territories (inlined, it ran once per territory)
paid AS MATERIALIZED (
    SELECT s.root_id, x.currency, sum(x.amount) AS total
    FROM ({PAYMENTS_SQL.format(start="$2", end="$2::date + 7", lo=_LO, hi=_HI)}) x
    JOIN deals d ON d.tenant = $1 AND d.id = x.deal_id
    JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
    JOIN sub s ON s.territory_id = c.territory_id
    GROUP BY s.root_id, x.currency
),
reps AS (
    SELECT s.root_id, count(DISTINCT m.membership_id) AS n FROM territory_members m
    JOIN sub s ON s.territory_id = m.territory_id WHERE m.tenant = $1 AND m.role = 'rep'
    GROUP BY s.root_id
),
notes AS (
    SELECT s.root_id, string_agg(coalesce(u.name, '?') || ' (' || r.report_date || '): ' || r.competitor_news,
        E'\\n' ORDER BY r.report_date, u.name) AS text
    FROM daily_reports r
    JOIN memberships mm ON mm.tenant = r.tenant AND mm.id = r.membership_id
    LEFT JOIN users u ON u.id = mm.user_id
    JOIN (SELECT DISTINCT s.root_id, m.membership_id FROM territory_members m
          JOIN sub s ON s.territory_id = m.territory_id WHERE m.tenant = $1) s ON s.membership_id =
              r.membership_id
    WHERE r.tenant = $1 AND r.report_date >= $2 AND r.report_date < $2 + 7 AND r.competitor_news IS NOT NULL
    GROUP BY s.root_id
)
SELECT r.id AS territory_id,
    coalesce(fu.visits, 0) AS visits, coalesce(fu.effective, 0) AS effective,
    coalesce(newc.n, 0) AS new_customers, coalesce(lost.n, 0) AS lost, coalesce(reps.n, 0) AS reps,
    (SELECT coalesce(sum(w.n), 0) FROM won w WHERE w.root_id = r.id) AS orders,
    (SELECT coalesce(jsonb_object_agg(w.currency, w.total), '{{}}') FROM won w WHERE w.root_id =
        r.id) AS amount,
    (SELECT coalesce(jsonb_object_agg(p.currency, p.total), '{{}}') FROM paid p WHERE p.root_id = r.id)
        AS collections,
    notes.text AS competitor_notes
FROM roots r
LEFT JOIN fu ON fu.root_id = r.id
LEFT JOIN newc ON newc.root_id = r.id
LEFT JOIN lost ON lost.root_id = r.id
LEFT JOIN reps ON reps.root_id = r.id
LEFT JOIN notes ON notes.root_id = r.id
ORDER BY r.id
"""


def previous_week(time_zone: str) -> date:
    return week_of(local_today(time_zone)) - timedelta(days=7)


def _money_map(value: Any) -> dict[str, Decimal]:
    data = json.loads(value) if isinstance(value, str) else dict(value or {})
    return {k: money(v) for k, v in data.items()}


def figures_of(row: asyncpg.Record) -> dict[str, Any]:
    amount, paid = _money_map(row["amount"]), _money_map(row["collections"])
    reps, orders, lost = int(row["reps"]), int(row["orders"]), int(row["lost"])
    return {
        "new_customers": int(row["new_customers"]),
        "collections": {k: str(v) for k, v in sorted(paid.items())},
        "visits": int(row["visits"]),
        "effective_visits": int(row["effective"]),
        "effective_visit_rate": _s(ratio(int(row["effective"]), int(row["visits"]))),
        "orders": orders,
        "order_amount": {k: str(v) for k, v in sorted(amount.items())},
        "lost": lost,
        "deal_rate": _s(ratio(orders, orders + lost)),
        "reps": reps,
        "average_sales_per_rep": {
            k: str((v / reps).quantize(Decimal("0.01"))) for k, v in sorted(amount.items())
        }
        if reps
        else {},
    }


def _s(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


async def _targets(tx: db.Tx, tenant_id: UUID, time_zone: str, territory_id: UUID, week: date) -> list[Any]:
    """The territory's targets whose period contains the week, with the actual up to its end."""
    rows = await tx.fetch(
        "SELECT id, metric, period, period_start, value, currency FROM targets WHERE tenant = $1"
        " AND scope_type = 'territory' AND territory_id = $2 AND period_start <= $3 AND $3 < period_start"
        " + CASE period WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months'"
        " ELSE interval '1 year' END ORDER BY metric, period_start",
        tenant_id,
        territory_id,
        week,
    )
    out: list[dict[str, Any]] = []
    for t in rows:
        end = min(week + timedelta(days=7), period_end(t["period"], t["period_start"]))
        actual = await target_actual(
            tx,
            tenant_id,
            time_zone,
            t["metric"],
            t["currency"],
            t["period_start"],
            end,
            "territory",
            territory_id,
        )
        out.append(
            {
                "target_id": str(t["id"]),
                "metric": t["metric"],
                "period": t["period"],
                "period_start": t["period_start"].isoformat(),
                "value": str(t["value"]),
                "currency": t["currency"],
                "actual": _s(actual),
                "attainment": _s(ratio(actual, t["value"])) if actual is not None else None,
            }
        )
    return out


async def aggregate(tx: db.Tx, tenant_id: UUID, week: date, time_zone: str) -> list[asyncpg.Record]:
    """The week's raw figures of every managed territory (one statement; see ``AGGREGATE_SQL``)."""
    return await tx.fetch(AGGREGATE_SQL, tenant_id, week, time_zone)


async def generate(scope: TenantScope, week: date) -> int:
    """Generate the reports of one tenant's week (its system scope; idempotent); returns how many
    were new."""
    if week.isoweekday() != 1:
        raise ValueError("a week starts on a Monday")
    tenant_id = scope.tenant_id
    created = 0
    async with scope.tx() as tx:
        missing = await tx.fetchval(
            "SELECT count(*) FROM (SELECT DISTINCT territory_id FROM territory_members"
            " WHERE tenant = $1 AND role = 'manager') m WHERE NOT EXISTS (SELECT 1 FROM weekly_reports w"
            " WHERE w.tenant = $1 AND w.territory_id = m.territory_id AND w.week_start = $2)",
            tenant_id,
            week,
        )
        if not missing:
            return 0
        rows = await aggregate(tx, tenant_id, week, scope.time_zone)
        for row in rows:
            figures = figures_of(row)
            figures["targets"] = await _targets(tx, tenant_id, scope.time_zone, row["territory_id"], week)
            report_id: UUID | None = await tx.fetchval(
                "INSERT INTO weekly_reports (tenant, territory_id, territory_name, week_start, figures,"
                " competitor_notes) SELECT $1, $2, t.name, $3, $4::jsonb, $5 FROM territories t"
                " WHERE t.tenant = $1 AND t.id = $2 ON CONFLICT (tenant, territory_id, week_start)"
                " DO NOTHING"
                " RETURNING id",
                tenant_id,
                row["territory_id"],
                week,
                json.dumps(figures),
                row["competitor_notes"],
            )
            if report_id is None:
                continue
            created += 1
            name = await tx.fetchval(
                "SELECT name FROM territories WHERE tenant = $1 AND id = $2", tenant_id, row["territory_id"]
            )
            managers = await tx.fetch(
                "SELECT m.id, u.email, coalesce(u.locale, $3) AS locale FROM territory_members tm"
                " JOIN memberships m ON m.tenant = tm.tenant AND m.id = tm.membership_id AND m.active"
                " JOIN users u ON u.id = m.user_id"
                " WHERE tm.tenant = $1 AND tm.territory_id = $2 AND tm.role = 'manager' ORDER BY m.id",
                tenant_id,
                row["territory_id"],
                scope.tenant_locale,
            )
            for manager in managers:
                await mail.queue_email(
                    tx,
                    to=manager["email"],
                    template="weekly_report",
                    locale=manager["locale"],
                    key=f"weekly_report:{report_id}:{manager['id']}",
                    territory=name,
                    week_start=week.isoformat(),
                    week_end=(week + timedelta(days=6)).isoformat(),
                    figures=figures,
                    metric_labels=METRIC_LABELS,
                    link=pages.url(pages.WEEKLY_REPORT, report_id=report_id),
                )
    return created
