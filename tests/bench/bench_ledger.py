"""Anchoring and verifying the ownership ledger of the generated dataset (one ``import`` entry per
customer: 1,000,000 entries over 100 tenants at scale 1, the largest tenant 200,000) against a bare
hash-chain recomputation in SQL on the same rows in the same run.

- product: the daily cron ``anchor_ledgers`` (every tenant's head timestamped by a real RFC 3161
  authority on loopback, the tests' own, in a process of its own) and then ``ownership.verify`` for
  every tenant (the chain recomputed under row-level security, and checked against its anchors:
  tokens validated);
- baseline: one hand-written query per tenant as the superuser, no RLS, no anchors: each entry's
  sha256 recomputed and compared with the stored hash and the next entry's ``prev_hash``.

    uv run python tests/bench/bench_ledger.py [--scale 1.0] [--rounds 2] [--fresh]

The dataset (with its ledger) is kept as a template (``harness.cached_database``). Prints one JSON
line: the best times of both, the ratio (goal ≤ 1.5), and the largest tenant's verify alone."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import generate
from tests.bench.harness import BenchDB, cached_database

BATCH = 10_000
BARE = """
SELECT count(*) FILTER (WHERE broken) FROM (
    SELECT h.hash <> sha256(acre_ownership_content(h.tenant, h.seq, h.customer_id, h.from_membership_id,
            h.to_membership_id, h.cause, h.actor, h.reason, h.plan_id, h.at, h.pool_id) || h.prev_hash)
        OR h.prev_hash <> coalesce(lag(h.hash) OVER (ORDER BY h.seq), acre_ownership_genesis()) AS broken
    FROM customer_ownership_history h WHERE h.tenant = $1
) x
"""


async def _fill(bench: BenchDB, scale: float) -> dict[str, object]:
    """The dataset, then its history: every customer's entry (to its owner, or none for the pool),
    appended through ``acre_ownership_append`` in batches of 10,000 as an import does."""
    data = await generate(bench.admin_url, scale=scale)
    conn = await asyncpg.connect(bench.admin_url)
    try:
        tenants = [r["tenant"] for r in await conn.fetch("SELECT DISTINCT tenant FROM customers")]
        for tenant in tenants:
            rows = await conn.fetch(
                "SELECT id, owner_membership_id, pool_id FROM customers WHERE tenant = $1"
                " ORDER BY created_at, id",
                tenant,
            )
            for start in range(0, len(rows), BATCH):
                part = rows[start : start + BATCH]
                async with conn.transaction():
                    await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
                    await conn.execute(
                        "SELECT acre_ownership_append($1::uuid[], $2::uuid[], $3::uuid[], 'import', NULL,"
                        " 'bench', NULL, $4::uuid[])",
                        [r["id"] for r in part],
                        [None] * len(part),
                        [r["owner_membership_id"] for r in part],
                        [r["pool_id"] for r in part],
                    )
        await conn.execute("VACUUM ANALYZE customer_ownership_history")
        entries = await conn.fetchval("SELECT count(*) FROM customer_ownership_history")
        largest = await conn.fetchval(
            "SELECT tenant FROM customer_ownership_history GROUP BY tenant ORDER BY count(*) DESC LIMIT 1"
        )
    finally:
        await conn.close()
    return {"customers": data.customers, "entries": entries, "tenants": len(tenants), "largest": str(largest)}


async def _bare(admin_url: str, tenants: list[Any]) -> float:
    conn = await asyncpg.connect(admin_url)
    try:
        started = time.perf_counter()
        for tenant in tenants:
            assert await conn.fetchval(BARE, tenant) == 0
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _anchor() -> tuple[float, int]:
    from app.customers.anchors import anchor_ledgers

    started = time.perf_counter()
    stored = await anchor_ledgers({})
    return time.perf_counter() - started, stored


async def _verify(tenants: list[Any]) -> tuple[float, int, int]:
    from app.customers import ownership
    from tenants.scope import TenantScope

    scopes = [await TenantScope.for_job(t) for t in tenants]
    entries = anchors = 0
    started = time.perf_counter()
    for scope in scopes:
        result = await ownership.verify(scope)
        assert result.ok, result
        entries += result.checked
        anchors += result.anchors_checked
    return time.perf_counter() - started, entries, anchors


async def _run(admin_url: str, rounds: int, largest: str) -> dict[str, object]:
    from app import db
    from app.customers import ownership
    from app.settings import get_settings
    from tenants.scope import TenantScope

    conn = await asyncpg.connect(admin_url)
    try:
        tenants = [
            r["tenant"] for r in await conn.fetch("SELECT DISTINCT tenant FROM customer_ownership_history")
        ]
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    bares, anchors, verifies = [], [], []
    try:
        for round_ in range(rounds):
            bares.append(await _bare(admin_url, tenants))
            seconds, stored = await _anchor()
            assert stored == (len(tenants) if round_ == 0 else 0), stored  # later rounds: nothing new
            anchors.append(seconds)
            seconds, entries, anchored = await _verify(tenants)
            assert anchored == len(tenants)
            verifies.append(seconds)
        scope = await TenantScope.for_job(largest)
        started = time.perf_counter()
        result = await ownership.verify(scope)
        largest_s = time.perf_counter() - started
        assert result.ok
    finally:
        await db.stop()
    product = anchors[0] + min(verifies)  # the first round's anchoring is the one that stamps
    return {
        "entries_verified": entries,
        "bare_s": round(min(bares), 3),
        "anchor_s": round(anchors[0], 3),
        "anchor_nothing_new_s": round(min(anchors[1:]), 3) if rounds > 1 else None,
        "verify_s": round(min(verifies), 3),
        "bare_runs_s": [round(s, 3) for s in bares],
        "verify_runs_s": [round(s, 3) for s in verifies],
        "ratio_anchor_and_verify_vs_bare": round(product / min(bares), 2),
        "ratio_verify_vs_bare": round(min(verifies) / min(bares), 2),
        "goal_ratio": 1.5,
        "largest_entries": result.checked,
        "verify_largest_s": round(largest_s, 3),
    }


def _serve_tsa(urls: Any, stop: Any) -> None:
    """The loopback TSA in a process of its own, as a timestamp authority is another machine: its
    signing does not share this process's interpreter lock with the code measured."""
    from tests.integration.signing.tsa import timestamp_authority

    with timestamp_authority() as tsa:
        urls.put(tsa.url)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="generate again instead of the cached copy")
    args = parser.parse_args()
    from app.settings import get_settings

    spawn = multiprocessing.get_context("spawn")
    urls, stop = spawn.Queue(), spawn.Event()
    tsa = spawn.Process(target=_serve_tsa, args=(urls, stop), daemon=True)
    tsa.start()
    try:
        with cached_database(
            f"ledger_s{args.scale:g}", lambda db: _fill(db, args.scale), fresh=args.fresh
        ) as (bench, info):
            get_settings().timestamp_url = urls.get(timeout=60)
            figures = asyncio.run(_run(bench.admin_url, max(args.rounds, 2), str(info["largest"])))
    finally:
        stop.set()
        tsa.join(timeout=10)
    print(json.dumps({"bench": "ledger", "scale": args.scale, **info, "tsa": "own process", **figures}))


if __name__ == "__main__":
    main()
