"""The pipeline summary over 200,000 deals in one tenant (``--deals``), against the same aggregate
as one hand-written SQL query run directly in the same run, same database, same tenant context.

Data: ``bench_datagen`` builds the tenant (territory tree, owner, managers, reps, customers); the
deals are loaded with ``COPY`` (secondary indexes dropped and rebuilt, then analysed): every stage,
two currencies, expected close dates over two years.

Timed (median of ``--runs``): the service function (``app.deals.pipeline.summary``) as the owner
(every deal) and as a prefecture's manager with a territory and a period filter; the same two over
HTTP; and the hand-written SQL for both cases. Goal: service ≤ 1.5 × SQL.

    uv run python tests/bench/bench_pipeline.py [--deals 200000] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import generate, session_token
from tests.bench.harness import bench_database, server

STAGES = (
    ("prospect_list", 5, 0.2),
    ("first_visit", 10, 0.15),
    ("exchange_research", 20, 0.12),
    ("demo", 35, 0.1),
    ("formal_quote", 50, 0.08),
    ("objections_cleared", 65, 0.06),
    ("negotiation", 80, 0.05),
    ("signed", 100, 0.04),
    ("won", 100, 0.1),
    ("lost", 0, 0.1),
)
DEAL_COLUMNS = (
    "tenant",
    "id",
    "customer_id",
    "owner_membership_id",
    "title",
    "amount",
    "currency",
    "expected_close_date",
    "stage",
    "probability",
    "created_at",
    "updated_at",
    "closed_at",
)
FROM, TO = date(2027, 1, 1), date(2027, 6, 30)

# The hand-written aggregates: the owner's whole open pipeline, and one subtree over a period.
SQL_ALL = """
SELECT currency, stage, owner_membership_id, GROUPING(stage, owner_membership_id) AS g, count(*) AS n,
       sum(amount) AS amount, round(sum(amount * probability) / 100, 2) AS weighted
FROM deals
WHERE tenant = $1 AND stage NOT IN ('won', 'lost')
GROUP BY GROUPING SETS ((currency, stage), (currency, owner_membership_id), (currency))
"""
SQL_SUBTREE = """
SELECT d.currency, d.stage, d.owner_membership_id, GROUPING(d.stage, d.owner_membership_id) AS g,
       count(*) AS n, sum(d.amount) AS amount, round(sum(d.amount * d.probability) / 100, 2) AS weighted
FROM deals d JOIN customers c ON c.tenant = d.tenant AND c.id = d.customer_id
JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id
WHERE d.tenant = $1 AND d.stage NOT IN ('won', 'lost') AND t.path LIKE $2 || '%'
  AND d.expected_close_date BETWEEN $3 AND $4
GROUP BY GROUPING SETS ((d.currency, d.stage), (d.currency, d.owner_membership_id), (d.currency))
"""


def _deals(tenant: uuid.UUID, customers: list[asyncpg.Record], n: int, rng: random.Random) -> Iterator[Any]:
    names = [s for s, _, _ in STAGES]
    weights = [w for _, _, w in STAGES]
    probability = {s: p for s, p, _ in STAGES}
    now = datetime.now(UTC)
    start = date(2026, 7, 1)
    for i in range(n):
        c = customers[rng.randrange(len(customers))]
        stage = rng.choices(names, weights)[0]
        created = now - timedelta(days=rng.randrange(365))
        yield (
            tenant,
            uuid.uuid4(),
            c["id"],
            c["owner"],
            f"商机 {i}",
            Decimal(rng.randrange(100_000, 50_000_000)) / 100,
            "USD" if rng.random() < 0.05 else "CNY",
            start + timedelta(days=rng.randrange(730)) if rng.random() < 0.9 else None,
            stage,
            probability[stage],
            created,
            created,
            created if stage in ("won", "lost") else None,
        )


async def load(admin_url: str, deals: int) -> dict[str, Any]:
    data = await generate(admin_url, scale=deals / 4 / 0.9 / 1_000_000, tenants=2, largest_share=0.9)
    tenant = data.largest
    conn = await asyncpg.connect(admin_url)
    try:
        customers = await conn.fetch(
            "SELECT c.id, coalesce(c.owner_membership_id, $2) AS owner FROM customers c WHERE c.tenant = $1",
            tenant.id,
            tenant.owner,
        )
        started = time.perf_counter()
        indexes = await conn.fetch(
            "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = 'deals'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint) AND NOT EXISTS (SELECT 1"
            " FROM pg_constraint k WHERE k.conindid = format('%I.%I', schemaname, indexname)::regclass)"
        )
        await conn.execute("ALTER TABLE deals DISABLE TRIGGER ALL")
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        await conn.copy_records_to_table(
            "deals", records=_deals(tenant.id, customers, deals, random.Random(11)), columns=DEAL_COLUMNS
        )
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for row in indexes:
            await conn.execute(row["indexdef"])
        await conn.execute("ALTER TABLE deals ENABLE TRIGGER ALL")
        await conn.execute("VACUUM ANALYZE deals")
        copy_seconds = round(time.perf_counter() - started, 2)
        pref = tenant.prefectures[0]
        path = await conn.fetchval("SELECT path FROM territories WHERE id = $1", pref)
        manager_user = await conn.fetchval(
            "SELECT user_id FROM memberships WHERE id = $1", tenant.managers[0]
        )
        owner_user = await conn.fetchval("SELECT user_id FROM memberships WHERE id = $1", tenant.owner)
    finally:
        await conn.close()
    return {
        "tenant": tenant.id,
        "owner": tenant.owner,
        "owner_user": owner_user,
        "manager": tenant.managers[0],
        "manager_user": manager_user,
        "prefecture": pref,
        "path": path,
        "customers": len(customers),
        "copy_seconds": copy_seconds,
    }


async def _median_ms(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    result = await call()  # warm-up (plans, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2), result


async def in_process(app_url: str, w: dict[str, Any], runs: int) -> dict[str, Any]:
    from app import db
    from app.deals.pipeline import summary
    from app.settings import get_settings
    from tenants.scope import TenantScope

    await db.start(app_url, get_settings().database_pool_size)
    try:
        owner = TenantScope(w["tenant"], w["owner_user"], "owner", w["owner"], time_zone="Asia/Shanghai")
        manager = TenantScope(
            w["tenant"], w["manager_user"], "manager", w["manager"], time_zone="Asia/Shanghai"
        )

        async def sql(query: str, *args: Any) -> list[asyncpg.Record]:
            async with db.transaction(w["tenant"]) as tx:
                return await tx.fetch(query, *args)

        svc_all, got = await _median_ms(runs, lambda: summary(owner))
        sql_all, rows = await _median_ms(runs, lambda: sql(SQL_ALL, w["tenant"]))
        assert sorted((t.currency, t.count, t.amount) for t in got.totals) == sorted(
            (r["currency"], r["n"], r["amount"]) for r in rows if r["g"] == 3
        )
        svc_sub, got = await _median_ms(
            runs, lambda: summary(manager, territory_id=w["prefecture"], from_date=FROM, to_date=TO)
        )
        sql_sub, rows = await _median_ms(runs, lambda: sql(SQL_SUBTREE, w["tenant"], w["path"], FROM, TO))
        assert sorted((t.currency, t.count, t.amount) for t in got.totals) == sorted(
            (r["currency"], r["n"], r["amount"]) for r in rows if r["g"] == 3
        )
        open_deals = sum(t.count for t in (await summary(owner)).totals)
        subtree_deals = sum(t.count for t in got.totals)
    finally:
        await db.stop()
    return {
        "open_deals": open_deals,
        "subtree_period_deals": subtree_deals,
        "all": {"service_ms": svc_all, "sql_ms": sql_all, "ratio": round(svc_all / sql_all, 3)},
        "subtree_period": {"service_ms": svc_sub, "sql_ms": sql_sub, "ratio": round(svc_sub / sql_sub, 3)},
    }


async def over_http(url: str, tokens: dict[str, str], w: dict[str, Any], runs: int) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:

        async def get(who: str, params: dict[str, str]) -> None:
            r = await c.get(
                "/api/v1/pipeline", params=params, headers={"Authorization": f"Bearer {tokens[who]}"}
            )
            assert r.status_code == 200, r.text

        all_ms, _ = await _median_ms(runs, lambda: get("owner", {}))
        sub_ms, _ = await _median_ms(
            runs,
            lambda: get(
                "manager",
                {"territory_id": str(w["prefecture"]), "from": FROM.isoformat(), "to": TO.isoformat()},
            ),
        )
    return {"all_ms": all_ms, "subtree_period_ms": sub_ms}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with bench_database() as bdb:
        w = asyncio.run(load(bdb.admin_url, args.deals))
        measured = asyncio.run(in_process(bdb.app_url, w, args.runs))
        tokens = {
            "owner": asyncio.run(session_token(bdb.admin_url, w["tenant"], w["owner"])),
            "manager": asyncio.run(session_token(bdb.admin_url, w["tenant"], w["manager"])),
        }
        with server({}) as url:
            http = asyncio.run(over_http(url, tokens, w, args.runs))
    print(
        json.dumps(
            {
                "bench": "deals_pipeline",
                "deals": args.deals,
                "customers": w["customers"],
                "load_seconds": w["copy_seconds"],
                "runs": args.runs,
                **measured,
                "http": {
                    **http,
                    "ratio_all_vs_sql": round(http["all_ms"] / measured["all"]["sql_ms"], 3),
                    "ratio_subtree_vs_sql": round(
                        http["subtree_period_ms"] / measured["subtree_period"]["sql_ms"], 3
                    ),
                },
                "goal_ratio": 1.5,
            }
        )
    )


if __name__ == "__main__":
    main()
