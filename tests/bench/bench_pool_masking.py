"""The pool page's query with masking and pool scopes vs the same query without them, at the generated
dataset (1M customers at ``--scale 1``; the template ``bench_web_pages`` caches, reused).

In a copy of the dataset every pool of the largest tenant hides the phone, address, credit code and
contacts, and its pool customers get a phone, an address and a credit code. Measured in the same run,
interleaved, through the same scoped transactions (BEGIN, set_config, the query, COMMIT):

- ``list_pool`` as a rep (the service every pool route and page calls): the claimable-pools condition
  (``claimable_pools_sql``), the masks read for the member (``masking.masks_for``) and the masked
  columns;
- the same SELECT (same columns, filter, order and LIMIT) without the scope condition and with the
  columns in clear, and without the masks read.

Goal: ratio (median of the first / median of the second) ≤ 1.3.

    uv run python tests/bench/bench_pool_masking.py [--scale 1.0] [--rounds 300] [--fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_web_pages import _fill, _tenant
from tests.bench.harness import cached_database

BASELINE = (
    "SELECT c.id, c.full_name, c.short_name, c.industry, c.source, c.grade, c.status, c.territory_id,"
    " t.name AS territory_name, c.last_followup_at, c.created_at, c.phone, c.address, c.tax_id"
    " FROM (SELECT c.tenant, c.id, c.full_name, c.short_name, c.industry, c.source, c.grade, c.status,"
    " c.territory_id, c.last_followup_at, c.created_at, c.phone, c.address, c.tax_id, c.pool_id,"
    " c.owner_membership_id FROM customers c WHERE c.tenant = $1 AND c.owner_membership_id IS NULL"
    " AND c.status IN ('prospect', 'lost') ORDER BY c.last_followup_at ASC NULLS FIRST, c.id LIMIT $2) c"
    " JOIN territories t ON t.tenant = c.tenant AND t.id = c.territory_id"
    " ORDER BY c.last_followup_at ASC NULLS FIRST, c.id"
)


async def _prepare(admin_url: str, tenant: Any) -> None:
    """Every pool of the tenant hides everything; its pool customers get the fields to hide."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "UPDATE pools SET hidden_fields = '{phone,address,tax_id,contacts}' WHERE tenant = $1", tenant
        )
        await conn.execute(
            "UPDATE customers SET phone = '138' || lpad((abs(hashtext(id::text)) % 100000000)::text, 8, '0'),"
            " address = '上海市浦东新区张江路' || (abs(hashtext(id::text)) % 999) || '号'"
            " WHERE tenant = $1 AND owner_membership_id IS NULL",
            tenant,
        )
        await conn.execute("VACUUM ANALYZE customers")
    finally:
        await conn.close()


async def _rep_scope(admin_url: str, tenant: Any, reps: list[Any]) -> Any:
    from tenants.scope import MEMBER_SQL, TenantScope

    conn = await asyncpg.connect(admin_url)
    try:
        row = await conn.fetchrow(MEMBER_SQL + " WHERE m.tenant = $1 AND m.id = $2", tenant, reps[0])
    finally:
        await conn.close()
    assert row is not None
    return TenantScope.for_member(row)


async def _measure(scope: Any, rounds: int) -> dict[str, Any]:
    from app import db
    from app.customers.pool import service as pool_service
    from app.customers.pool.service import list_pool

    masking = pool_service  # list_pool calls the masks_for it imported
    real = pool_service.masks_for
    from app.settings import get_settings

    await db.start(get_settings().database_url, 4)
    try:
        page = await list_pool(scope, limit=50)
        assert page.items and all(i.phone is None or "****" in i.phone for i in page.items), page.items[:2]
        async with scope.tx() as tx:
            plain = await tx.fetch(BASELINE, scope.tenant_id, 51)
        assert len(plain) == 51 and all(r["phone"] and "****" not in r["phone"] for r in plain[:5])
        masked: list[float] = []
        scoped: list[float] = []
        bare: list[float] = []
        for i in range(rounds + 20):
            start = time.perf_counter()
            await list_pool(scope, limit=50)
            middle = time.perf_counter()
            async with scope.tx() as tx:
                await tx.fetch(BASELINE, scope.tenant_id, 51)
            end = time.perf_counter()
            masking.masks_for = _no_masks  # the same service without the masks: what scopes alone cost
            try:
                await list_pool(scope, limit=50)
            finally:
                masking.masks_for = real
            last = time.perf_counter()
            if i >= 20:  # warmed up
                masked.append((middle - start) * 1000)
                bare.append((end - middle) * 1000)
                scoped.append((last - end) * 1000)
    finally:
        await db.stop()
    masked_ms, bare_ms, scoped_ms = (
        statistics.median(masked),
        statistics.median(bare),
        statistics.median(scoped),
    )
    return {
        "rows": len(page.items),
        "masked_scoped_p50_ms": round(masked_ms, 3),
        "scoped_unmasked_p50_ms": round(scoped_ms, 3),
        "bare_p50_ms": round(bare_ms, 3),
        "ratio": round(masked_ms / bare_ms, 3),
        "ratio_scopes_only": round(scoped_ms / bare_ms, 3),
    }


async def _no_masks(tx: Any, scope: Any) -> Any:
    from app.customers.masking import NO_MASKS

    return NO_MASKS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--fresh", action="store_true", help="generate again instead of the cached copy")
    args = parser.parse_args()
    with cached_database(f"web_s{args.scale:g}", lambda db: _fill(db, args.scale), fresh=args.fresh) as (
        bench,
        info,
    ):
        t = _tenant(info)
        asyncio.run(_prepare(bench.admin_url, t.id))
        scope = asyncio.run(_rep_scope(bench.admin_url, t.id, t.reps))
        figures = asyncio.run(_measure(scope, args.rounds))
    print(
        json.dumps(
            {
                "bench": "pool_masking",
                "scale": args.scale,
                "customers": info["customers"],
                "largest_tenant_customers": t.customers,
                **figures,
                "goal_ratio": 1.3,
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
