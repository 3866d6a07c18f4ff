"""The sales funnel over the largest tenant of the generated dataset (``bench_datagen``: 1,000,000
customers × scale, the largest tenant 20%), with ~5,000,000 × scale extra follow-ups for that
tenant's customers (kinds and results spread like a call centre's: mostly calls, most unanswered or
a short conversation, few orders) over the last year, and ~2% of its customers with a signed deal.

The service (``app.sales.growth.funnel.get_funnel``: the app's role under RLS, access rules, the one
set-based query, the Python rows and rates) is timed against one hand-written SQL aggregate of the
same numbers, as the superuser, in the same run, for: the whole tenant over a year and over a month
(owner), and one prefecture manager's subtree over a year. Every figure is the best of ``--rounds``
after a warm-up; the totals of both are checked equal. A supplementary figure: the daily cadence
job (``app.sales.growth.jobs.cadence_tenant``) for that tenant, first run and idempotent second run.

    uv run python tests/bench/bench_sales.py [--scale 1.0] [--rounds 3]

Prints one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import Dataset, generate
from tests.bench.harness import bench_database

KINDS = (
    ("call", 0.60),
    ("visit", 0.20),
    ("message", 0.10),
    ("meeting", 0.05),
    ("demo", 0.03),
    ("other", 0.02),
)
RESULTS = {
    "call": (
        ("no_answer", 0.40),
        ("conversation", 0.35),
        ("appointment", 0.12),
        ("presentation", 0.06),
        ("order", 0.02),
        (None, 0.05),
    ),
    "visit": (
        ("conversation", 0.40),
        ("appointment", 0.20),
        ("presentation", 0.20),
        ("order", 0.10),
        ("other", 0.05),
        (None, 0.05),
    ),
}
COLUMNS = ("tenant", "customer_id", "author_membership_id", "kind", "happened_at", "summary", "result")


def _followups(
    tenant: uuid.UUID, customers: list[asyncpg.Record], reps: list[uuid.UUID], total: int, seed: int
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    kinds, kind_w = zip(*KINDS, strict=True)
    results = {k: tuple(zip(*v, strict=True)) for k, v in RESULTS.items()}
    year = 365 * 86400
    n = len(customers)
    for _ in range(total):
        c = customers[rng.randrange(n)]
        kind = rng.choices(kinds, kind_w)[0]
        if kind in results:
            values, weights = results[kind]
            result = rng.choices(values, weights)[0]
        else:
            result = None
        author = c["owner_membership_id"] or reps[rng.randrange(len(reps))]
        yield (tenant, c["id"], author, kind, now - timedelta(seconds=rng.random() * year), "跟进", result)


async def load(admin_url: str, data: Dataset, per_scale: int, scale: float) -> dict[str, Any]:
    """COPY the extra follow-ups (indexes dropped and rebuilt) and the signed deals of the largest tenant."""
    t = data.largest
    conn = await asyncpg.connect(admin_url)
    started = time.perf_counter()
    try:
        customers = await conn.fetch("SELECT id, owner_membership_id FROM customers WHERE tenant = $1", t.id)
        total = round(per_scale * scale)
        await conn.execute("SET synchronous_commit = off")
        rows = await conn.fetch(
            "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = 'customer_followups'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint) AND indexdef NOT LIKE 'CREATE UNIQUE%'"
        )
        await conn.execute("ALTER TABLE customer_followups DISABLE TRIGGER ALL")
        for r in rows:
            await conn.execute(f'DROP INDEX "{r["indexname"]}"')
        await conn.copy_records_to_table(
            "customer_followups", records=_followups(t.id, customers, t.reps, total, 11), columns=COLUMNS
        )
        copied = time.perf_counter() - started
        await conn.execute("SET maintenance_work_mem = '1GB'")
        for r in rows:
            await conn.execute(r["indexdef"])
        await conn.execute("ALTER TABLE customer_followups ENABLE TRIGGER ALL")
        # ~2% of the customers with a deal signed in the last year (owner: the customer's, else a rep)
        await conn.execute(
            "INSERT INTO deals (tenant, customer_id, owner_membership_id, title, amount, currency, stage,"
            " probability, created_at, updated_at)"
            " SELECT c.tenant, c.id, COALESCE(c.owner_membership_id, $2), '基准项目', 50000, 'CNY', 'signed',"
            "  100, now() - random() * interval '365 days', now() FROM customers c"
            " WHERE c.tenant = $1 AND random() < 0.02",
            t.id,
            t.reps[0],
        )
        await conn.execute(
            "INSERT INTO deal_stage_changes (tenant, deal_id, from_stage, to_stage, at)"
            " SELECT tenant, id, 'negotiation', 'signed', created_at FROM deals WHERE tenant = $1",
            t.id,
        )
        deals = await conn.fetchval("SELECT count(*) FROM deals WHERE tenant = $1", t.id)
        await conn.execute("VACUUM ANALYZE customer_followups")
        await conn.execute("VACUUM ANALYZE deals")
        await conn.execute("VACUUM ANALYZE deal_stage_changes")
        followups = await conn.fetchval("SELECT count(*) FROM customer_followups WHERE tenant = $1", t.id)
    finally:
        await conn.close()
    return {
        "followups_added": total,
        "largest_tenant_followups": followups,
        "largest_tenant_signed_deals": deals,
        "load_copy_s": round(copied, 1),
        "load_total_s": round(time.perf_counter() - started, 1),
    }


# The same numbers, written by hand: one pass over the period's follow-ups and signed deals,
# conditional sums per rep, no RLS, no access rules.
FLOOR = """
SELECT rep, sum(calls) AS calls, sum(conversations) AS conversations, sum(appointments) AS appointments,
       sum(presentations) AS presentations, count(DISTINCT sold) AS sales
FROM (
    SELECT f.author_membership_id AS rep,
        (f.kind = 'call')::int AS calls,
        (f.result IN ('conversation', 'appointment', 'presentation', 'order') IS TRUE)::int AS conversations,
        (f.result IN ('appointment', 'presentation', 'order') IS TRUE)::int AS appointments,
        ((f.result IN ('presentation', 'order') OR f.kind = 'demo') IS TRUE)::int AS presentations,
        CASE WHEN f.result = 'order' THEN f.customer_id END AS sold
    FROM customer_followups f {f_join}
    WHERE f.tenant = $1 AND f.happened_at >= $2 AND f.happened_at < $3 {cond}
    UNION ALL
    SELECT d.owner_membership_id, 0, 0, 0, 0, d.customer_id
    FROM deal_stage_changes sc JOIN deals d ON d.id = sc.deal_id {d_join}
    WHERE sc.tenant = $1 AND sc.to_stage IN ('signed', 'won') AND sc.at >= $2 AND sc.at < $3 {cond}
) x GROUP BY rep
"""


def _floor_sql(subtree: bool) -> str:
    if not subtree:
        return FLOOR.format(f_join="", d_join="", cond="")
    return FLOOR.format(
        f_join="JOIN customers c ON c.id = f.customer_id",
        d_join="JOIN customers c ON c.id = d.customer_id",
        cond="AND c.territory_id IN (SELECT t.id FROM territories t WHERE t.tenant = $1"
        " AND t.path >= $4 AND t.path < $4 || '~')",
    )


async def _best(rounds: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    await call()  # warm-up
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        result = await call()
        best = min(best, time.perf_counter() - started)
    return best, result


async def run(admin_url: str, data: Dataset, rounds: int) -> dict[str, Any]:
    from app import db
    from app.sales.growth.funnel import _bounds, get_funnel
    from app.settings import get_settings
    from tenants.scope import TenantScope

    t = data.largest
    zone = "Asia/Shanghai"
    owner = TenantScope(tenant_id=t.id, user_id=None, role="owner", membership_id=t.owner, time_zone=zone)
    manager = TenantScope(
        tenant_id=t.id, user_id=None, role="manager", membership_id=t.managers[0], time_zone=zone
    )
    today = datetime.now(UTC).date()
    periods = {"year": (today - timedelta(days=364), today), "month": (today - timedelta(days=29), today)}
    conn = await asyncpg.connect(admin_url)
    path = await conn.fetchval("SELECT path FROM territories WHERE id = $1", t.prefectures[0])
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    figures: dict[str, Any] = {}
    try:
        cases: list[tuple[str, TenantScope, tuple[date, date], bool]] = [
            ("owner_year", owner, periods["year"], False),
            ("owner_month", owner, periods["month"], False),
            ("manager_year", manager, periods["year"], True),
        ]
        for name, scope, (start, end), subtree in cases:

            async def service(scope: TenantScope = scope, start: date = start, end: date = end) -> Any:
                return await get_funnel(scope, date_from=start, date_to=end)

            lo, hi = _bounds(start, end, zone)
            sql = _floor_sql(subtree)
            args: list[Any] = [t.id, lo, hi] + ([path] if subtree else [])

            async def floor(sql: str = sql, args: list[Any] = args) -> Any:
                return await conn.fetch(sql, *args)

            service_s, got = await _best(rounds, service)
            floor_s, rows = await _best(rounds, floor)
            expected = {
                k: sum(int(r[k]) for r in rows)
                for k in ("calls", "conversations", "appointments", "presentations", "sales")
            }
            total = got.total
            assert (
                total.calls,
                total.conversations,
                total.appointments,
                total.presentations,
                total.sales,
            ) == (
                expected["calls"],
                expected["conversations"],
                expected["appointments"],
                expected["presentations"],
                expected["sales"],
            ), (name, total, expected)
            figures[name] = {
                "service_s": round(service_s, 3),
                "floor_s": round(floor_s, 3),
                "ratio": round(service_s / floor_s, 2),
                "calls": total.calls,
                "sales": total.sales,
                "reps": len(got.reps),
            }
        # the daily cadence job for the same tenant: the first run makes the due tasks, the second
        # (idempotent) makes none; no baseline, a supplementary figure
        from app.sales.growth.jobs import cadence_tenant

        job = await TenantScope.for_job(t.id)  # its zone is the generated tenants' Asia/Shanghai
        started = time.perf_counter()
        _, made = await cadence_tenant(job)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        _, again = await cadence_tenant(job)
        figures["cadence_job"] = {
            "first_run_s": round(first_s, 2),
            "tasks_made": made,
            "second_run_s": round(time.perf_counter() - started, 2),
            "tasks_made_again": again,
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
        figures = asyncio.run(run(bench.admin_url, data, args.rounds))
    print(
        json.dumps(
            {
                "bench": "sales",
                "scale": args.scale,
                "customers": data.customers,
                "largest_tenant_customers": data.largest.customers,
                "datagen_s": data.seconds.get("total"),
                **loaded,
                "funnel": figures,
                "goal_ratio": 1.5,
                "wall_s": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
