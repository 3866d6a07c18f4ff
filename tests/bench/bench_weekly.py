"""The weekly territory report's aggregate over the largest tenant of the generated dataset
(``bench_datagen``: 1,000,000 customers × scale, the largest tenant 20%, a manager per prefecture),
with the extra follow-ups and signed deals of ``bench_sales.load`` (~5,000,000 × scale follow-ups
over the last year) and ~1% of those deals lost.

The service (``app.sales.field.weekly_generation.aggregate``: the app's role under RLS, the one set-based
statement for every managed territory's subtree) is timed against one hand-written SQL aggregate of
the same numbers (visits, effective visits, new customers, orders, lost deals per managed subtree), as
the superuser, in the same run, for last week and for a week half a year ago. Every figure is the best
of ``--rounds`` after a warm-up; the per-territory figures of both are checked equal.

    uv run python tests/bench/bench_weekly.py [--scale 1.0] [--rounds 3]

Prints one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import Dataset, generate
from tests.bench.bench_sales import _best, load
from tests.bench.harness import bench_database

ZONE = "Asia/Shanghai"

# The same numbers by hand: managed roots, their subtrees, and one UNION ALL pass over the week's
# follow-ups, new customers and closing stage changes, summed per root.
FLOOR = """
WITH roots AS (
    SELECT DISTINCT a.id, a.path FROM territories a JOIN territory_members m
        ON m.tenant = a.tenant AND m.territory_id = a.id AND m.role = 'manager' WHERE a.tenant = $1
), sub AS (
    SELECT r.id AS root, t.id AS territory FROM roots r JOIN territories t
        ON t.tenant = $1 AND t.path >= r.path AND t.path < r.path || '~'
), facts AS (
    SELECT c.territory_id, 1 AS visits, (f.result IN ('appointment', 'presentation', 'order'))::int
        AS effective,
        0 AS new_customers, NULL::uuid AS won, NULL::uuid AS lost
    FROM customer_followups f JOIN customers c ON c.id = f.customer_id
    WHERE f.tenant = $1 AND f.happened_at >= $2 AND f.happened_at < $3 AND f.kind IN ('visit', 'meeting')
    UNION ALL
    SELECT c.territory_id, 0, 0, 1, NULL, NULL FROM customers c
    WHERE c.tenant = $1 AND c.created_at >= $2 AND c.created_at < $3
    UNION ALL
    SELECT c.territory_id, 0, 0, 0, CASE WHEN s.to_stage <> 'lost' THEN d.id END,
        CASE WHEN s.to_stage = 'lost' THEN d.id END
    FROM deal_stage_changes s JOIN deals d ON d.id = s.deal_id JOIN customers c ON c.id = d.customer_id
    WHERE s.tenant = $1 AND s.to_stage IN ('signed', 'won', 'lost') AND s.at >= $2 AND s.at < $3
        AND NOT (s.to_stage <> 'lost' AND EXISTS (SELECT 1 FROM deal_stage_changes e WHERE
            e.deal_id = s.deal_id
            AND e.to_stage IN ('signed', 'won') AND e.at < $2))
)
SELECT s.root, sum(x.visits) AS visits, sum(x.effective) AS effective, sum(x.new_customers) AS new_customers,
    count(DISTINCT x.won) AS orders, count(DISTINCT x.lost) AS lost
FROM facts x JOIN sub s ON s.territory = x.territory_id GROUP BY s.root
"""


async def lose_some(admin_url: str, tenant: Any) -> int:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "INSERT INTO deals (tenant, customer_id, owner_membership_id, title, amount, currency, stage,"
            " probability, lost_reason, created_at, updated_at)"
            " SELECT c.tenant, c.id, COALESCE(c.owner_membership_id, $2), '丢单', 20000, 'CNY',"
            " 'lost', 0, '预算',"
            "  now() - random() * interval '365 days', now() FROM customers c WHERE c.tenant = $1"
            " AND random() < 0.01",
            tenant.id,
            tenant.reps[0],
        )
        await conn.execute(
            "INSERT INTO deal_stage_changes (tenant, deal_id, from_stage, to_stage, at)"
            " SELECT tenant, id, 'negotiation', 'lost', created_at FROM deals WHERE tenant = $1 AND"
            " stage = 'lost'",
            tenant.id,
        )
        await conn.execute("VACUUM ANALYZE deals")
        await conn.execute("VACUUM ANALYZE deal_stage_changes")
        return int(
            await conn.fetchval("SELECT count(*) FROM deals WHERE tenant = $1 AND stage = 'lost'", tenant.id)
        )
    finally:
        await conn.close()


async def run(admin_url: str, data: Dataset, rounds: int) -> dict[str, Any]:
    from app import db
    from app.sales.field.weekly_generation import aggregate
    from app.sales.field.weekly_reports import week_of
    from app.settings import get_settings

    t = data.largest
    last = week_of(datetime.now(UTC).date()) - timedelta(days=7)
    weeks = {"last_week": last, "week_26_ago": last - timedelta(weeks=26)}
    conn = await asyncpg.connect(admin_url)
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    figures: dict[str, Any] = {}
    try:
        for name, week in weeks.items():

            async def service(week: date = week) -> Any:
                async with db.transaction(t.id) as tx:
                    return await aggregate(tx, t.id, week, ZONE)

            lo = await conn.fetchval("SELECT $1::date::timestamp AT TIME ZONE $2", week, ZONE)
            hi = await conn.fetchval("SELECT ($1::date + 7)::timestamp AT TIME ZONE $2", week, ZONE)

            async def floor(lo: datetime = lo, hi: datetime = hi) -> Any:
                return await conn.fetch(FLOOR, t.id, lo, hi)

            service_s, got = await _best(rounds, service)
            floor_s, rows = await _best(rounds, floor)
            keys = ("visits", "effective", "new_customers", "orders", "lost")
            mine = {
                r["territory_id"]: tuple(int(r[k]) for k in keys)
                for r in got
                if int(r["visits"]) or int(r["orders"])
            }
            theirs = {
                r["root"]: tuple(int(r[k]) for k in keys)
                for r in rows
                if int(r["visits"]) or int(r["orders"])
            }
            assert mine == theirs, (name, mine, theirs)
            figures[name] = {
                "service_s": round(service_s, 3),
                "floor_s": round(floor_s, 3),
                "ratio": round(service_s / floor_s, 2),
                "territories": len(got),
                "visits": sum(v[0] for v in mine.values()),
                "orders": sum(v[3] for v in mine.values()),
                "lost": sum(v[4] for v in mine.values()),
            }
    finally:
        await db.stop()
        await conn.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M customers, 5M extra follow-ups")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    with bench_database() as bench:
        data = asyncio.run(generate(bench.admin_url, scale=args.scale))
        loaded = asyncio.run(load(bench.admin_url, data, 5_000_000, args.scale))
        lost = asyncio.run(lose_some(bench.admin_url, data.largest))
        figures = asyncio.run(run(bench.admin_url, data, args.rounds))
    print(
        json.dumps(
            {
                "bench": "weekly_report",
                "scale": args.scale,
                "customers": data.customers,
                "largest_tenant_customers": data.largest.customers,
                "datagen_s": data.seconds.get("total"),
                **loaded,
                "largest_tenant_lost_deals": lost,
                "weekly": figures,
                "goal_ratio": 1.5,
                "wall_s": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
