"""The deal page (``GET /deals/{id}``, rendered HTML) with a 30-line quote, against its API reads in
the same server and run: the same reads through the JSON routes, one after another as a client
would make them (the deal, its stage history, quotes, contract terms, collections, the price list,
the members, the customer's contacts and the deal's documents — nine requests; the page also reads
the move choices and the shell's unread count, which have no JSON route of their own).

    uv run python tests/bench/bench_deal_page.py [--seconds 8] [--connections 8]

Prints one JSON line: the page's p50 and views/s, the API reads' p50 (all nine) and sets/s, and the
ratio page ÷ API reads (the goal: at most 1.5)."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import bench_deals
from tests.bench.harness import bench_database, server

LINES = 30


async def setup(url: str) -> tuple[dict[str, str], str, str]:
    """bench_deals' tenant, customer and 30-product price list (mixed units), plus a contact and a
    deal with an approved 30-line quote (round 1): the page then shows the rounds, a builder
    prefilled with 30 lines, the terms and milestones."""
    auth, customer_id, lines = await bench_deals.setup(
        url, ("seat", "module", "service_day", "maintenance_year")
    )
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=auth) as c:
        await c.post(f"/api/v1/customers/{customer_id}/contacts", json={"name": "李总", "title": "总经理"})
        d = (
            await c.post(
                "/api/v1/deals",
                json={"customer_id": customer_id, "title": "恒泰项目", "stage": "formal_quote"},
            )
        ).json()
        valid = (date.today() + timedelta(days=30)).isoformat()
        q = await c.post(f"/api/v1/deals/{d['id']}/quotes", json={"lines": lines, "valid_until": valid})
        assert q.status_code == 201, q.text
        assert (await c.post(f"/api/v1/quotes/{q.json()['id']}/submit")).status_code == 202
        r = await c.post(f"/api/v1/quotes/{q.json()['id']}/approve", json={})
        assert r.status_code == 200, r.text
    return auth, d["id"], customer_id


def api_reads(deal_id: str, customer_id: str) -> list[str]:
    return [
        f"/api/v1/deals/{deal_id}",
        f"/api/v1/deals/{deal_id}/stage-history",
        f"/api/v1/deals/{deal_id}/quotes",
        f"/api/v1/deals/{deal_id}/contract-terms",
        f"/api/v1/deals/{deal_id}/collections",
        "/api/v1/products?active=true&limit=200",
        "/api/v1/members?limit=200",
        f"/api/v1/customers/{customer_id}/contacts?limit=100",
        f"/api/v1/documents?subject_type=deal&subject_id={deal_id}&limit=20",
    ]


async def drive(
    url: str, auth: dict[str, str], paths: list[str], seconds: int, connections: int
) -> dict[str, Any]:
    """``paths`` one after another per worker, ``connections`` workers, for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, headers=auth, limits=limits, timeout=10) as c:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                for path in paths:
                    r = await c.get(path)
                    errors += r.status_code != 200
                latencies.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return {
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "count": len(latencies),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with bench_database(), server({}) as url:
        auth, deal_id, customer_id = asyncio.run(setup(url))
        page_path = [f"/deals/{deal_id}"]
        reads = api_reads(deal_id, customer_id)
        html = httpx.get(url + page_path[0], headers=auth, timeout=10)
        assert html.status_code == 200 and html.text.count('name="line-') >= 4 * LINES, html.status_code
        asyncio.run(drive(url, auth, page_path, 1, 2))  # warm-up
        asyncio.run(drive(url, auth, reads, 1, 2))
        page = asyncio.run(drive(url, auth, page_path, args.seconds, args.connections))
        api = asyncio.run(drive(url, auth, reads, args.seconds, args.connections))
    assert page["errors"] == 0 and api["errors"] == 0, (page, api)
    print(
        json.dumps(
            {
                "bench": "deal_page",
                "quote_lines": LINES,
                "page_bytes": len(html.content),
                "page_p50_ms": page["p50_ms"],
                "page_views_per_s": page["per_s"],
                "api_reads": len(reads),
                "api_reads_p50_ms": api["p50_ms"],
                "api_read_sets_per_s": api["per_s"],
                "ratio_page_to_api_reads": round(page["p50_ms"] / api["p50_ms"], 2),
                "goal": 1.5,
                "connections": args.connections,
                "seconds": args.seconds,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
