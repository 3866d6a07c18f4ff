"""A quote with 30 lines and its approval round trip (create deal → create quote → submit →
approve: four requests), against a bare route returning a quote's JSON from memory, same server,
same run, same Python keep-alive client for both.

    uv run python tests/bench/bench_deals.py [--seconds 8] [--connections 16]

Prints one JSON line: round trips/s, their requests/s, the bare route's requests/s and the ratio;
and quote creation alone (``quote_create``: a 30-line quote POSTed to deals made beforehand)."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import bench_database, server

LINES = 30


UNITS = ("seat",)


async def setup(url: str, units: tuple[str, ...] = UNITS) -> tuple[dict[str, str], str, list[dict[str, Any]]]:
    """A tenant (its owner approves), a territory, a customer and a 30-product price list (units in
    turn from ``units``): the owner's auth, the customer's id and 30 quote lines, one per product."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        r = await c.post(
            "/api/v1/signup",
            json={
                "company_name": "基准测试软件有限公司",
                "slug": f"b-{secrets.token_hex(4)}",
                "name": "Owner",
                "email": f"owner-{secrets.token_hex(4)}@bench.example",
                "password": "Bench-password-2026",
                "locale": "zh-CN",
                "time_zone": "Asia/Shanghai",
                "currency": "CNY",
            },
        )
        assert r.status_code == 201, r.text
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        t = (
            await c.post("/api/v1/territories", json={"name": "江苏省", "level": "province"}, headers=auth)
        ).json()
        cust = (
            await c.post(
                "/api/v1/customers",
                json={"full_name": "苏州恒泰精密机械有限公司", "territory_id": t["id"], "grade": "A"},
                headers=auth,
            )
        ).json()
        lines = []
        for i in range(LINES):
            p = (
                await c.post(
                    "/api/v1/products",
                    headers=auth,
                    json={
                        "sku": f"SKU-{i:03d}",
                        "name": f"模块 {i}",
                        "unit": units[i % len(units)],
                        "list_price": f"{4000 + 100 * i}.00",
                        "floor_price": "3000.00",
                    },
                )
            ).json()
            lines.append({"product_id": p["id"], "quantity": str(1 + i % 7), "discount_percent": "5"})
    return auth, cust["id"], lines


async def drive(
    url: str,
    auth: dict[str, str],
    customer_id: str,
    lines: list[dict[str, Any]],
    seconds: int,
    connections: int,
) -> dict[str, Any]:
    valid = (date.today() + timedelta(days=30)).isoformat()
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, headers=auth, limits=limits, timeout=10) as c:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                d = await c.post(
                    "/api/v1/deals", json={"customer_id": customer_id, "title": "基准", "amount": "1"}
                )
                q = await c.post(
                    f"/api/v1/deals/{d.json()['id']}/quotes", json={"lines": lines, "valid_until": valid}
                )
                s = await c.post(f"/api/v1/quotes/{q.json()['id']}/submit")
                a = await c.post(f"/api/v1/quotes/{q.json()['id']}/approve", json={"comment": "同意"})
                errors += sum(r.status_code >= 300 for r in (d, q, s, a))
                latencies.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {
        "round_trips_per_s": round(len(latencies) / elapsed, 1),
        "requests_per_s": round(4 * len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "round_trips": len(latencies),
        "errors": errors,
    }


async def quotes_only(
    url: str,
    auth: dict[str, str],
    customer_id: str,
    lines: list[dict[str, Any]],
    seconds: int,
    connections: int,
) -> dict[str, Any]:
    """Quote creation alone (POST a 30-line quote): deals made beforehand, three rounds each (the
    same lines: equal totals are allowed), so only the quote requests are timed."""
    valid = (date.today() + timedelta(days=30)).isoformat()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, headers=auth, limits=limits, timeout=10) as c:
        made = await asyncio.gather(
            *(
                c.post("/api/v1/deals", json={"customer_id": customer_id, "title": "基准", "amount": "1"})
                for _ in range(60 * seconds)
            )
        )
        queue: asyncio.Queue[str] = asyncio.Queue()
        for _round in range(3):
            for d in made:
                queue.put_nowait(d.json()["id"])
        latencies: list[float] = []
        errors = 0
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline and not queue.empty():
                deal_id = queue.get_nowait()
                start = time.perf_counter()
                r = await c.post(
                    f"/api/v1/deals/{deal_id}/quotes", json={"lines": lines, "valid_until": valid}
                )
                latencies.append((time.perf_counter() - start) * 1000)
                errors += r.status_code != 201

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "requests": len(latencies),
        "errors": errors,
    }


async def bare(url: str, seconds: int, connections: int) -> dict[str, Any]:
    count = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as c:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                await c.get("/bench/bare")
                count += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return {"requests_per_s": round(count / (time.perf_counter() - started), 1), "requests": count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with bench_database(), tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "quote.json"
        body_file.write_bytes(b"{}")
        with server({"ACRE_BENCH_BARE_BODY_FILE": str(body_file)}) as url:
            auth, customer_id, lines = asyncio.run(setup(url))
            sample = asyncio.run(drive(url, auth, customer_id, lines, 1, 1))  # warm-up, and a body for bare
            assert sample["errors"] == 0, sample
            quote = httpx.get(f"{url}/api/v1/deals?limit=1", headers=auth).json()["items"][0]
            body_file.write_bytes(httpx.get(f"{url}/api/v1/deals/{quote['id']}/quotes", headers=auth).content)
            base = asyncio.run(bare(url, args.seconds, args.connections))
            flow = asyncio.run(drive(url, auth, customer_id, lines, args.seconds, args.connections))
            create = asyncio.run(quotes_only(url, auth, customer_id, lines, args.seconds, args.connections))
    print(
        json.dumps(
            {
                "bench": "deals_quote_approval",
                "lines": LINES,
                "connections": args.connections,
                "seconds": args.seconds,
                "quote_flow": flow,
                "bare": base,
                "ratio_requests_vs_bare": round(flow["requests_per_s"] / base["requests_per_s"], 3),
                "quote_create": create,
                "ratio_quote_create_vs_bare": round(create["requests_per_s"] / base["requests_per_s"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
