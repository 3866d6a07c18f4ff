"""The rep's pages against the JSON API routes for the same rows, in the same server and run, at the
generated dataset (1M customers at ``--scale 1``), and the bytes each page ships.

1. ``GET /pool?territory_id=…&grade=C&limit=50`` (the page, full shell: navigation, unread count,
   territory picker, claim counter) vs ``GET /api/v1/pool`` with the same filter and 50 rows, as the
   prefecture's manager; ``GET /customers?limit=50`` (My customers) vs ``GET /api/v1/customers?owner=me
   &limit=50`` as a rep owning more than 50. Each measured twice: sequentially through one keep-alive
   connection, page and API interleaved (the server time of one request, median and p95), and under
   load (wrk, ``--connections``); and the server's CPU time per request of each (psutil, the server's
   processes), which a busy shared machine inflates least. The JSON line ends with the run's load
   average.
   Goal: page ≤ 1.5× the API.
2. Bytes shipped: each page's HTML and the scripts and styles it names, gzipped (goal: JS + CSS ≤ 60 KB
   on every rep page, the first page ≤ 100 KB in all).

    uv run python tests/bench/bench_web_pages.py [--scale 1.0] [--seconds 8] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import TenantData, generate, session_token
from tests.bench.harness import BenchDB, cached_database, load, server

SEQUENTIAL = 200


def _sequential(urls: dict[str, str], headers: dict[str, str]) -> dict[str, dict[str, float]]:
    """Median and p95 of ``SEQUENTIAL`` requests to each of ``urls`` through one connection, the URLs
    interleaved (page, API, page, …) so that a load spike on the shared machine hits both alike."""
    times: dict[str, list[float]] = {k: [] for k in urls}
    with httpx.Client(headers=headers, timeout=30) as client:
        for url in urls.values():  # warm the connection pool and caches
            for _ in range(20):
                client.get(url)
        for _ in range(SEQUENTIAL):
            for key, url in urls.items():
                start = time.perf_counter()
                r = client.get(url)
                times[key].append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, r.text[:300]
    out = {}
    for key, values in times.items():
        values.sort()
        out[key] = {
            "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(values[int(len(values) * 0.95)], 2),
        }
    return out


def _server_cpu_ms() -> float:
    """CPU time used so far by this process's children (the server and its worker), in ms."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += (times.user + times.system) * 1000
    return total


def _cpu_per_request(urls: dict[str, str], headers: dict[str, str]) -> dict[str, float]:
    """The server's CPU time per request of each of ``urls`` (``SEQUENTIAL`` in a row each): what a
    busy shared machine inflates least, so the page-to-API ratio holds when wall times wobble."""
    out = {}
    with httpx.Client(headers=headers, timeout=30) as client:
        for key, url in urls.items():
            before = _server_cpu_ms()
            for _ in range(SEQUENTIAL):
                client.get(url)
            out[key] = round((_server_cpu_ms() - before) / SEQUENTIAL, 3)
    return out


def _shipped(base: str, html: bytes) -> dict[str, int]:
    assets = sorted(set(re.findall(rb'(?:src|href)="(/static/[^"]+)"', html)))
    sizes = {"js": 0, "css": 0}
    for path in assets:
        body = httpx.get(base + path.decode()).content
        sizes["js" if path.endswith(b".js") else "css"] += len(gzip.compress(body, 9))
    html_gz = len(gzip.compress(html, 9))
    return {
        "html_gz": html_gz,
        "js_gz": sizes["js"],
        "css_gz": sizes["css"],
        "js_css_gz": sizes["js"] + sizes["css"],
        "total_gz": html_gz + sizes["js"] + sizes["css"],
    }


async def _busiest_reps(admin_url: str, tenant: Any, reps: list[Any]) -> list[Any]:
    conn = await asyncpg.connect(admin_url)
    try:
        rows = await conn.fetch(
            "SELECT owner_membership_id FROM customers WHERE tenant = $1 AND owner_membership_id = ANY($2)"
            " GROUP BY 1 ORDER BY count(*) DESC LIMIT 10",
            tenant,
            reps,
        )
        return [r[0] for r in rows]
    finally:
        await conn.close()


def _rep_seeing(base: str, admin_url: str, tenant: Any, reps: list[Any], rows: int) -> str:
    """A session of a rep whose My customers has at least ``rows`` (the API decides what they see)."""
    for rep_id in asyncio.run(_busiest_reps(admin_url, tenant, reps)):
        token = asyncio.run(session_token(admin_url, tenant, rep_id))
        r = httpx.get(
            f"{base}/api/v1/customers?owner=me&limit={rows}", headers={"Authorization": f"Bearer {token}"}
        )
        if len(r.json()["items"]) == rows:
            return token
    raise SystemExit(f"no rep sees {rows} customers of their own at this scale")


def _pair(
    base: str,
    paths: tuple[str, str],
    headers: dict[str, str],
    rows: int,
    seconds: int,
    connections: int,
    small: bool = False,
) -> dict[str, Any]:
    page_path, api_path = paths
    page = httpx.get(base + page_path, headers=headers, timeout=30)
    api = httpx.get(base + api_path, headers=headers, timeout=30)
    assert page.status_code == 200 and api.status_code == 200, (page.text[:300], api.text[:300])
    items = api.json()["items"]
    assert len(items) == rows or (len(items) >= 20 and small), len(items)  # a small --scale has fewer
    rows = len(items)
    shown = sum(1 for item in items if f"/customers/{item['id']}" in page.text)
    assert shown == rows, (shown, rows)  # the page shows the same rows
    seq = _sequential({"page": base + page_path, "api": base + api_path}, headers)
    page_seq, api_seq = seq["page"], seq["api"]
    cpu = _cpu_per_request({"page": base + page_path, "api": base + api_path}, headers)
    page_load = load(base + page_path, headers, seconds=seconds, connections=connections)
    api_load = load(base + api_path, headers, seconds=seconds, connections=connections)
    assert page_load.errors == 0 and api_load.errors == 0
    return {
        "rows": rows,
        "page_sequential": page_seq,
        "api_sequential": api_seq,
        "ratio_sequential_p50": round(page_seq["p50_ms"] / api_seq["p50_ms"], 3),
        "server_cpu_ms_per_request": cpu,
        "ratio_server_cpu": round(cpu["page"] / cpu["api"], 3),
        "page_load": vars(page_load),
        "api_load": vars(api_load),
        "ratio_load_time_per_request": round(api_load.rps / page_load.rps, 3),
        "bytes": _shipped(base, page.content),
        "api_json_gz": len(gzip.compress(api.content, 9)),
    }


async def _fill(db: BenchDB, scale: float) -> dict[str, object]:
    """The generated dataset (cached as a template by scale): its size and its largest tenant."""
    data = await generate(db.admin_url, scale=scale)
    return {"customers": data.customers, "largest": json.loads(json.dumps(asdict(data.largest), default=str))}


def _tenant(info: dict[str, Any]) -> TenantData:
    t = info["largest"]
    ids = {k: [UUID(v) for v in t[k]] for k in ("managers", "reps", "prefectures", "counties")}
    return TenantData(UUID(t["id"]), int(t["customers"]), UUID(t["owner"]), **ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--fresh", action="store_true", help="generate again instead of the cached copy")
    args = parser.parse_args()
    with cached_database(f"web_s{args.scale:g}", lambda db: _fill(db, args.scale), fresh=args.fresh) as (
        bench,
        info,
    ):
        t = _tenant(info)
        manager = asyncio.run(session_token(bench.admin_url, t.id, t.managers[0]))
        with server({}) as url:
            rep = _rep_seeing(url, bench.admin_url, t.id, t.reps, 50)
            pool_filter = f"territory_id={t.prefectures[0]}&grade=C&limit=50"
            pool = _pair(
                url,
                (f"/pool?{pool_filter}", f"/api/v1/pool?{pool_filter}"),
                {"Cookie": f"acre_session={manager}"},
                50,
                args.seconds,
                args.connections,
                small=args.scale < 0.5,
            )
            mine = _pair(
                url,
                ("/customers?limit=50", "/api/v1/customers?owner=me&limit=50&sort=next_followup"),
                {"Cookie": f"acre_session={rep}"},
                50,
                args.seconds,
                args.connections,
            )
            login = httpx.get(url + "/login")
            first = _shipped(url, login.content)
    print(
        json.dumps(
            {
                "bench": "web_pages",
                "scale": args.scale,
                "customers": info["customers"],
                "largest_tenant_customers": t.customers,
                "connections": args.connections,
                "pool": pool,
                "my_customers": mine,
                "login_page_bytes": first,
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
