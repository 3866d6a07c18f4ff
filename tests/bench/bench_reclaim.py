"""The reclaim sweep over the generated dataset (10% of all customers due) against the raw-SQL floor
on the same data: one hand-written ``UPDATE … RETURNING`` + ``INSERT`` into a ledger table of the same
shape, as the superuser, all tenants at once, no hash chain, no RLS, no batching. Between runs the
due customers are put back exactly (owner and owner clock) from a snapshot, so every run sees the
same rows.

    uv run python tests/bench/bench_reclaim.py [--scale 1.0] [--rounds 2]

Prints one JSON line: the sweep's and the floor's best times, the ratio, and the sweep's cost when
nothing is due (what the hourly cron costs on a quiet hour)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import generate
from tests.bench.harness import bench_database

_RULES = "(VALUES ('A', 15), ('B', 30), ('C', 60), ('D', 90)) AS r (grade, days)"
_DUE = (
    "SELECT c.tenant, c.id, c.owner_membership_id AS from_owner, c.owner_changed_at FROM customers c"
    f" JOIN {_RULES} ON r.grade = c.grade WHERE c.owner_membership_id IS NOT NULL AND c.status = 'prospect'"
    " AND GREATEST(c.last_followup_at, c.owner_changed_at) <= now() - make_interval(days => r.days)"
)
FLOOR = f"""
WITH due AS ({_DUE} FOR UPDATE OF c),
moved AS (
    UPDATE customers c SET owner_membership_id = NULL, updated_at = now() FROM due WHERE c.id = due.id
    RETURNING c.tenant, c.id, due.from_owner
),
heads AS MATERIALIZED (
    SELECT t.id AS tenant,
        (SELECT coalesce(max(h.seq), 0) FROM bench_floor_ledger h WHERE h.tenant = t.id) AS head
    FROM tenants t
)
INSERT INTO bench_floor_ledger (tenant, seq, customer_id, from_membership_id, to_membership_id, cause,
    reason, prev_hash, hash)
SELECT m.tenant, heads.head + row_number() OVER (PARTITION BY m.tenant ORDER BY m.id),
    m.id, m.from_owner, NULL, 'reclaim', 'floor', '\\x00', sha256(convert_to(m.id::text, 'UTF8'))
FROM moved m JOIN heads ON heads.tenant = m.tenant
"""


async def _snapshot(admin_url: str) -> int:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"CREATE TABLE bench_due AS {_DUE}")
        # The floor writes a ledger of the same shape (columns, defaults, indexes), so the real chain
        # stays intact for the sweep and can be verified at the end.
        await conn.execute(
            "CREATE TABLE bench_floor_ledger"
            " (LIKE customer_ownership_history INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        return int(await conn.fetchval("SELECT count(*) FROM bench_due"))
    finally:
        await conn.close()


async def _restore(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("ALTER TABLE customers DISABLE TRIGGER customers_owner_changed")
        await conn.execute(
            "UPDATE customers c SET owner_membership_id = d.from_owner, owner_changed_at = d.owner_changed_at"
            " FROM bench_due d WHERE c.id = d.id"
        )
        await conn.execute("ALTER TABLE customers ENABLE TRIGGER customers_owner_changed")
        await conn.execute("VACUUM ANALYZE customers")
        await conn.execute("VACUUM ANALYZE customer_ownership_history")
        await conn.execute("VACUUM ANALYZE bench_floor_ledger")
        await conn.execute("CHECKPOINT")  # every timed run starts from the same WAL state
    finally:
        await conn.close()


async def _floor(admin_url: str) -> tuple[float, int]:
    conn = await asyncpg.connect(admin_url)
    try:
        started = time.perf_counter()
        status = await conn.execute(FLOOR)
        return time.perf_counter() - started, int(status.split()[-1])
    finally:
        await conn.close()


async def _sweep() -> tuple[float, int]:
    from app.customers.pool.jobs import reclaim_sweep

    started = time.perf_counter()
    moved = await reclaim_sweep({})
    return time.perf_counter() - started, moved


async def run(admin_url: str, rounds: int) -> dict[str, object]:
    from app import db
    from app.settings import get_settings

    due = await _snapshot(admin_url)
    await _restore(admin_url)  # (a no-op restore: vacuum, analyse and checkpoint before the first run)
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    floors, sweeps = [], []
    try:
        for _ in range(rounds):
            seconds, moved = await _floor(admin_url)
            assert moved == due, (moved, due)
            floors.append(seconds)
            await _restore(admin_url)
            seconds, moved = await _sweep()
            assert moved == due, (moved, due)
            sweeps.append(seconds)
            idle, nothing = await _sweep()
            assert nothing == 0
            await _restore(admin_url)
        from app.customers.ledger import verify_chain

        conn = await asyncpg.connect(admin_url)
        try:
            largest = await conn.fetchval(
                "SELECT tenant FROM customers GROUP BY tenant ORDER BY count(*) DESC LIMIT 1"
            )
        finally:
            await conn.close()
        started = time.perf_counter()
        async with db.transaction(largest) as tx:
            verified = await verify_chain(tx)
        verify_s = time.perf_counter() - started
    finally:
        await db.stop()
    return {
        "due": due,
        "floor_s": round(min(floors), 3),
        "sweep_s": round(min(sweeps), 3),
        "sweep_runs_s": [round(s, 3) for s in sweeps],
        "floor_runs_s": [round(s, 3) for s in floors],
        "sweep_nothing_due_s": round(idle, 3),
        "ratio_sweep_vs_floor": round(min(sweeps) / min(floors), 2),
        "sweep_rows_per_s": round(due / min(sweeps)),
        "largest_chain_ok": verified.ok,
        "largest_chain_entries": verified.checked,
        "verify_largest_s": round(verify_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with bench_database() as bench:
        data = asyncio.run(generate(bench.admin_url, scale=args.scale))
        figures = asyncio.run(run(bench.admin_url, args.rounds))
    print(
        json.dumps(
            {
                "bench": "reclaim",
                "scale": args.scale,
                "customers": data.customers,
                "tenants": len(data.tenants),
                "batch": 10_000,
                **figures,
            }
        )
    )


if __name__ == "__main__":
    main()
