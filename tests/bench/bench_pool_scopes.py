"""The pool page's query with named pools' scopes vs the same query without them, in the largest
tenant of the generated dataset (the web pages' cached one), same database and run.

A rep of the largest tenant gets what named pools add: three pools of the tenant's own — one whose
scope names them, one scoped to a prefecture above their county, one they administer — each holding
a share of the tenant's pool customers. Then, alternating, the first page (50 rows, oldest follow-up
first) of

- **scoped**: the condition the shipped code puts on it (``tenants.access.pools_sql``: the pools the
  rep may claim from, ``POOL_IDS``, or a granted customer), as ``list_pool`` runs it;
- **baseline**: the condition before named pools (the customer's territory among those the rep works
  or was granted), with the same ordering, limit and join.

Both run as the application role under RLS in a read-only transaction; the figure is the median
time of the scoped query, the baseline the median of the unscoped one, the ratio scoped/baseline.
(Masking per pool is helper poolview's part of this benchmark.)

    uv run python tests/bench/bench_pool_scopes.py [--scale 1.0] [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.sql import Params
from tenants.access import in_subtree_sql, pools_sql
from tests.bench.bench_web_pages import _fill, _tenant
from tests.bench.harness import cached_database


@dataclass
class _Rep:
    """What ``pools_sql`` reads of a scope."""

    membership_id: UUID
    tenant_id: UUID

    def at_least(self, role: str) -> bool:
        return False


ORDER = "ORDER BY c.last_followup_at ASC NULLS FIRST, c.id"
COLUMNS = (
    "c.id, c.full_name, c.short_name, c.industry, c.source, c.grade, c.status, c.territory_id,"
    " c.last_followup_at, c.created_at"
)
# The pools a rep worked before named pools: their territories, and granted ones with the subtree.
BEFORE = (
    "(c.territory_id IN (SELECT tm.territory_id FROM territory_members tm WHERE tm.tenant = $1"
    " AND tm.membership_id = $2"
    " UNION ALL SELECT t.id FROM cross_territory_grants g JOIN territories a ON a.tenant = g.tenant"
    " AND a.id = g.territory_id JOIN territories t ON t.tenant = a.tenant"
    f" AND {in_subtree_sql('t.path', of='a.path')}"
    " WHERE g.tenant = $1 AND g.membership_id = $2 AND g.revoked_at IS NULL"
    " AND g.until > now())"
    " OR c.id IN (SELECT g.customer_id FROM cross_territory_grants g WHERE g.tenant = $1"
    " AND g.membership_id = $2 AND g.revoked_at IS NULL AND g.until > now()))"
)


def _page(condition: str) -> str:
    where = (
        "c.tenant = $1 AND c.owner_membership_id IS NULL AND c.status IN ('prospect', 'lost')"
        f" AND {condition}"
    )
    return (
        f"SELECT c.*, t.name AS territory_name FROM (SELECT c.tenant, {COLUMNS} FROM customers c"
        f" WHERE {where} {ORDER} LIMIT 51) c"
        f" JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id {ORDER}"
    )


async def _setup(admin_url: str, tenant: UUID, rep: UUID, prefecture: UUID) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("ALTER TABLE customers NO FORCE ROW LEVEL SECURITY")
        mine = await conn.fetchval(
            "INSERT INTO pools (tenant, name, kind) VALUES ($1, 'bench 大客户', 'key_accounts') RETURNING id",
            tenant,
        )
        area = await conn.fetchval(
            "INSERT INTO pools (tenant, name, kind) VALUES ($1, 'bench 来电', 'inbound') RETURNING id", tenant
        )
        admin = await conn.fetchval(
            "INSERT INTO pools (tenant, name, kind) VALUES ($1, 'bench 流失', 'lost') RETURNING id", tenant
        )
        await conn.execute(
            "INSERT INTO pool_scopes (tenant, pool_id, membership_id) VALUES ($1, $2, $3)", tenant, mine, rep
        )
        await conn.execute(
            "INSERT INTO pool_scopes (tenant, pool_id, territory_id) VALUES ($1, $2, $3)",
            tenant,
            area,
            prefecture,
        )
        await conn.execute(
            "INSERT INTO pool_admins (tenant, pool_id, membership_id) VALUES ($1, $2, $3)", tenant, admin, rep
        )
        for i, pool in enumerate((mine, area, admin)):  # a tenth of the pool each
            await conn.execute(
                "UPDATE customers SET pool_id = $2 WHERE tenant = $1 AND owner_membership_id IS NULL"
                " AND status IN ('prospect', 'lost') AND abs(hashtext(id::text)) % 10 = $3",
                tenant,
                pool,
                i,
            )
        await conn.execute("ALTER TABLE customers FORCE ROW LEVEL SECURITY")
        await conn.execute("ANALYZE customers")
        await conn.execute("ANALYZE pools")
    finally:
        await conn.close()


async def _run(app_url: str, tenant: UUID, rep: UUID, rounds: int) -> dict[str, Any]:
    p = Params(tenant)
    scoped_sql = _page(pools_sql(p, _Rep(rep, tenant)))  # type: ignore[arg-type]
    scoped_args = p.values
    base_sql, base_args = _page(BEFORE), [tenant, rep]
    conn = await asyncpg.connect(app_url)
    scoped: list[float] = []
    base: list[float] = []
    try:
        for sql, args in ((scoped_sql, scoped_args), (base_sql, base_args)):  # warm both
            async with conn.transaction(readonly=True):
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
                await conn.fetch(sql, *args)
        n_scoped = n_base = 0
        for _ in range(rounds):
            for sql, args, out in ((scoped_sql, scoped_args, scoped), (base_sql, base_args, base)):
                async with conn.transaction(readonly=True):
                    await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
                    start = time.perf_counter()
                    rows = await conn.fetch(sql, *args)
                    out.append(time.perf_counter() - start)
                if out is scoped:
                    n_scoped = len(rows)
                else:
                    n_base = len(rows)
    finally:
        await conn.close()
    figure, baseline = statistics.median(scoped) * 1000, statistics.median(base) * 1000
    return {
        "figure_ms": round(figure, 3),
        "baseline_ms": round(baseline, 3),
        "ratio": round(figure / baseline, 3),
        "rows": {"scoped": n_scoped, "baseline": n_base},
        "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="generate again instead of the cached copy")
    args = parser.parse_args()
    with cached_database(f"web_s{args.scale:g}", lambda db: _fill(db, args.scale), fresh=args.fresh) as (
        bench,
        info,
    ):
        t = _tenant(info)
        rep, prefecture = t.reps[0], t.prefectures[0]
        asyncio.run(_setup(bench.admin_url, t.id, rep, prefecture))
        result = asyncio.run(_run(bench.app_url, t.id, rep, args.rounds))
    print(
        json.dumps(
            {
                "bench": "pool_scopes",
                "what": "pool page query of a rep: with named pools' scopes vs the condition before them",
                "customers": info["customers"],
                "tenant_customers": t.customers,
                **result,
            }
        )
    )


if __name__ == "__main__":
    main()
