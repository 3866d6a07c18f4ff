"""Scaling out the API: the same mixed workload against one API process and against two (granian
``--workers 2``: two processes behind one socket, as two pods behind a load balancer), one database.

The workload, per virtual user (a rep of the generated dataset's largest tenant, each working its own
county, through its own keep-alive connection), picked at random with fixed weights:
pool page ``GET /api/v1/pool`` (40 %), customer read ``GET /api/v1/customers/{id}`` (30 %), follow-up
write ``POST …/followups`` (20 %), claim ``POST …/claim`` of a pool customer of its county (10 %).
Each phase claims its own half of the pool customers. Reported per phase: throughput and p99, overall
and per operation, and the ratio two/one; plus the database's CPU-bound limit is read from
``pg_stat_activity`` sampling (active backends) to say where it saturates.

    uv run python tests/bench/bench_scale.py [--scale 0.02] [--seconds 10] [--users 32]

Prints one JSON line. Goal: near-linear (ratio → 2) until the database (or, on a small shared machine,
the cores) saturates. The load generator is Python on the same machine: it takes cores too."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import Dataset, generate, session_token
from tests.bench.harness import bench_database, server

WEIGHTS = {"pool_page": 40, "customer_read": 30, "followup_write": 20, "claim": 10}


class User:
    def __init__(self, token: str, county: uuid.UUID, owned: list[str], pools: list[list[str]]):
        self.headers = {"Authorization": f"Bearer {token}"}
        self.county = county
        self.owned = owned
        self.pools = pools  # one list per phase


async def _users(admin_url: str, data: Dataset, count: int) -> list[User]:
    t = data.largest
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "INSERT INTO pool_rules (tenant, rules) VALUES ($1, '{\"owned_cap\": 100000}')"
            " ON CONFLICT (tenant) DO UPDATE SET rules = excluded.rules",
            t.id,
        )
        users = []
        for i, county in enumerate(t.counties[:count]):
            rep = t.reps[i]  # rep i works county i (round-robin in the generator)
            owned = [
                str(r["id"])
                for r in await conn.fetch(
                    "SELECT id FROM customers WHERE tenant = $1 AND owner_membership_id = $2 LIMIT 200",
                    t.id,
                    rep,
                )
            ]
            pool = [
                str(r["id"])
                for r in await conn.fetch(
                    "SELECT id FROM customers WHERE tenant = $1 AND territory_id = $2"
                    " AND owner_membership_id IS NULL AND status IN ('prospect', 'lost') ORDER BY id",
                    t.id,
                    county,
                )
            ]
            half = len(pool) // 2
            token = await session_token(admin_url, t.id, rep)
            users.append(User(token, county, owned, [pool[:half], pool[half:]]))
    finally:
        await conn.close()
    return [u for u in users if u.owned]


async def _db_activity(admin_url: str, stop: asyncio.Event, samples: list[int]) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        while not stop.is_set():
            samples.append(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'active' AND pid <> pg_backend_pid()"
                )
            )
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def _p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * q) - 1)] * 1000, 2)


async def _phase(url: str, admin_url: str, users: list[User], phase: int, seconds: float) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    codes: dict[str, Counter[int]] = defaultdict(Counter)
    ops, weights = list(WEIGHTS), list(WEIGHTS.values())
    stop, samples = asyncio.Event(), []
    sampler = asyncio.create_task(_db_activity(admin_url, stop, samples))
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=len(users), max_keepalive_connections=len(users))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def run(user: User, rng: random.Random) -> None:
            pool = user.pools[phase]
            while time.perf_counter() < deadline:
                op = rng.choices(ops, weights)[0]
                if op == "claim" and not pool:
                    op = "customer_read"
                start = time.perf_counter()
                if op == "pool_page":
                    r = await client.get(
                        "/api/v1/pool",
                        params={"territory_id": str(user.county), "limit": 50},
                        headers=user.headers,
                    )
                elif op == "customer_read":
                    r = await client.get(f"/api/v1/customers/{rng.choice(user.owned)}", headers=user.headers)
                elif op == "followup_write":
                    r = await client.post(
                        f"/api/v1/customers/{rng.choice(user.owned)}/followups",
                        json={"kind": "call", "summary": "基准测试：电话回访", "result": "conversation"},
                        headers=user.headers,
                    )
                else:
                    cid = pool.pop()
                    r = await client.post(f"/api/v1/customers/{cid}/claim", headers=user.headers)
                    if r.status_code == 200:
                        user.owned.append(cid)
                latencies[op].append(time.perf_counter() - start)
                codes[op][r.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(run(u, random.Random(i)) for i, u in enumerate(users)))
        elapsed = time.perf_counter() - started
    stop.set()
    await sampler
    every = [x for values in latencies.values() for x in values]
    ok = sum(n for op in codes for code, n in codes[op].items() if code < 300)
    return {
        "rps": round(len(every) / elapsed, 1),
        "ok_rps": round(ok / elapsed, 1),
        "p50_ms": _p(every, 0.5),
        "p99_ms": _p(every, 0.99),
        "requests": len(every),
        "errors": sum(n for op in codes for code, n in codes[op].items() if code >= 300 and code != 409),
        "db_active_backends_mean": round(sum(samples) / max(len(samples), 1), 2),
        "by_operation": {
            op: {
                "rps": round(len(latencies[op]) / elapsed, 1),
                "p99_ms": _p(latencies[op], 0.99),
                "codes": dict(codes[op]),
            }
            for op in ops
        },
    }


async def _drop_queue(queue: str) -> None:
    from redis.asyncio import Redis

    from app.settings import get_settings

    redis = Redis.from_url(get_settings().redis_url)
    try:
        await redis.delete(queue)  # its job keys expire by themselves
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=32)
    args = parser.parse_args()
    with bench_database() as bench:
        data = asyncio.run(generate(bench.admin_url, scale=args.scale))
        users = asyncio.run(_users(bench.admin_url, data, args.users))
        results = {}
        queue = f"acre-bench:{uuid.uuid4().hex}"  # jobs relayed here, not to a real queue
        for phase, processes in enumerate((1, 2)):
            with server({"ACRE_QUEUE_NAME": queue}, workers=processes) as url:
                # warm up each process's pool and caches (a few requests each) before measuring
                asyncio.run(_phase(url, bench.admin_url, users[:4], phase, 1))
                results[processes] = asyncio.run(_phase(url, bench.admin_url, users, phase, args.seconds))
        asyncio.run(_drop_queue(queue))
    one, two = results[1], results[2]
    print(
        json.dumps(
            {
                "bench": "scale",
                "scale": args.scale,
                "customers": data.customers,
                "largest_tenant_customers": data.largest.customers,
                "users": len(users),
                "seconds": args.seconds,
                "cores": os.cpu_count(),
                "weights_percent": WEIGHTS,
                "one_process": one,
                "two_processes": two,
                "ratio_rps_two_vs_one": round(two["rps"] / one["rps"], 3) if one["rps"] else None,
                "ratio_p99_two_vs_one": round(two["p99_ms"] / one["p99_ms"], 3) if one["p99_ms"] else None,
            }
        )
    )


if __name__ == "__main__":
    main()
