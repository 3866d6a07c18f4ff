"""The pool page and claims in the largest tenant of the generated dataset, against the bare route in
the same server and run.

1. ``GET /api/v1/pool`` — 50 rows, a prefecture's subtree + one grade, oldest follow-up first, as that
   prefecture's manager — vs ``/bench/bare`` serving the same bytes from memory (wrk, 32 connections),
   and ``/api/v1/me`` (session resolution only) to show what authentication alone costs.
2. Claims (``POST …/claim``) through one asyncio HTTP client: uncontended (32 reps, each claiming
   its own county's pool customers) and the race (50 reps of one county claiming the same customer,
   round after round: exactly one winner each round), vs the bare route through the same client.

    uv run python tests/bench/bench_pool.py [--scale 1.0] [--seconds 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import Dataset, generate, session_token
from tests.bench.harness import bench_database, load, server


async def _index_scans(admin_url: str) -> int:
    conn = await asyncpg.connect(admin_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes"
                " WHERE indexrelname IN ('customers_pool', 'customers_pool_order')"
            )
        )
    finally:
        await conn.close()


async def _claim_setup(
    admin_url: str, data: Dataset
) -> tuple[list[tuple[str, list[str]]], list[str], list[str]]:
    """Tokens and targets: 32 reps of distinct counties with their county's pool customers; 50 reps of
    county 0 and pool customers of county 0 kept apart for the race."""
    t = data.largest
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "INSERT INTO pool_rules (tenant, rules) VALUES ($1, '{\"owned_cap\": 100000}')", t.id
        )
        pools: dict[uuid.UUID, list[str]] = {}
        for row in await conn.fetch(
            "SELECT territory_id, id FROM customers WHERE tenant = $1 AND owner_membership_id IS NULL"
            " AND status IN ('prospect', 'lost') ORDER BY id",
            t.id,
        ):
            pools.setdefault(row["territory_id"], []).append(str(row["id"]))
    finally:
        await conn.close()
    county0 = t.counties[0]
    race_targets, pools[county0] = pools[county0][:200], pools[county0][200:]
    solo = []
    for i, county in enumerate(t.counties[:32]):
        rep = t.reps[i]  # reps are assigned to counties round-robin: rep i works county i
        solo.append((await session_token(admin_url, t.id, rep), pools.get(county, [])))
    race_reps = [t.reps[i] for i in range(0, len(t.reps), len(t.counties))][:50]
    race = [await session_token(admin_url, t.id, rep) for rep in race_reps]
    return solo, race, race_targets


async def _solo_claims(url: str, solo: list[tuple[str, list[str]]], seconds: float) -> dict[str, Any]:
    codes: Counter[int] = Counter()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=len(solo), max_keepalive_connections=len(solo))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker(token: str, targets: list[str]) -> None:
            for cid in targets:
                if time.perf_counter() >= deadline:
                    return
                start = time.perf_counter()
                r = await client.post(
                    f"/api/v1/customers/{cid}/claim", headers={"Authorization": f"Bearer {token}"}
                )
                latencies.append(time.perf_counter() - start)
                codes[r.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(token, targets) for token, targets in solo))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "claims_per_s": round(codes[200] / elapsed, 1),
        "codes": dict(codes),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


async def _race(url: str, race: list[str], targets: list[str], rounds: int) -> dict[str, Any]:
    winners: list[int] = []
    answered = 0
    limits = httpx.Limits(max_connections=len(race), max_keepalive_connections=len(race))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        for cid in targets[:rounds]:
            responses = await asyncio.gather(
                *(
                    client.post(f"/api/v1/customers/{cid}/claim", headers={"Authorization": f"Bearer {t}"})
                    for t in race
                )
            )
            codes = Counter(r.status_code for r in responses)
            assert set(codes) <= {200, 409}, codes
            winners.append(codes[200])
            answered += len(responses)
        elapsed = time.perf_counter() - started
    return {
        "rounds": len(winners),
        "racers": len(race),
        "exactly_one_winner_every_round": set(winners) == {1},
        "answers_per_s": round(answered / elapsed, 1),
        "won_claims_per_s": round(sum(winners) / elapsed, 1),
    }


async def _bare_python(url: str, seconds: float, connections: int) -> float:
    count = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                await client.get("/bench/bare")
                count += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--race-rounds", type=int, default=40)
    args = parser.parse_args()
    with bench_database() as bench, tempfile.TemporaryDirectory() as tmp:
        data = asyncio.run(generate(bench.admin_url, scale=args.scale))
        t = data.largest
        manager_token = asyncio.run(session_token(bench.admin_url, t.id, t.managers[0]))
        body_file = Path(tmp) / "pool.json"
        body_file.write_bytes(b"{}")
        with server({"ACRE_BENCH_BARE_BODY_FILE": str(body_file)}) as url:
            auth = {"Authorization": f"Bearer {manager_token}"}
            pool_url = f"{url}/api/v1/pool?territory_id={t.prefectures[0]}&grade=C&limit=50"
            page = httpx.get(pool_url, headers=auth, timeout=30)
            assert page.status_code == 200 and len(page.json()["items"]) == 50, page.text[:500]
            body_file.write_bytes(page.content)
            assert httpx.get(f"{url}/bench/bare").content == page.content
            scans = asyncio.run(_index_scans(bench.admin_url))
            bare = load(f"{url}/bench/bare", seconds=args.seconds, connections=args.connections)
            listing = load(pool_url, auth, seconds=args.seconds, connections=args.connections)
            me = load(f"{url}/api/v1/me", auth, seconds=args.seconds, connections=args.connections)
            scans = asyncio.run(_index_scans(bench.admin_url)) - scans
            solo, race, race_targets = asyncio.run(_claim_setup(bench.admin_url, data))
            bare_py = asyncio.run(_bare_python(url, args.seconds, args.connections))
            claims = asyncio.run(_solo_claims(url, solo, args.seconds))
            raced = asyncio.run(_race(url, race, race_targets, args.race_rounds))
    print(
        json.dumps(
            {
                "bench": "pool",
                "scale": args.scale,
                "customers": data.customers,
                "largest_tenant_customers": t.customers,
                "connections": args.connections,
                "seconds": args.seconds,
                "bare": vars(bare),
                "pool": vars(listing),
                "ratio_pool_vs_bare": round(listing.rps / bare.rps, 3),
                "me_auth_only": vars(me),
                "ratio_pool_vs_me": round(listing.rps / me.rps, 3),
                "pool_partial_index_scans_per_request": round(scans / max(listing.requests, 1), 2),
                "claims": {
                    **claims,
                    "bare_same_client_rps": round(bare_py, 1),
                    "ratio_claims_vs_bare_same_client": round(claims["claims_per_s"] / bare_py, 3),
                },
                "race": raced,
            }
        )
    )


if __name__ == "__main__":
    main()
