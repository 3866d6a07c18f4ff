"""The request path against its floor: ``GET /api/v1/pool`` (50 rows, a prefecture's subtree + one
grade, as its manager, 1M-customer dataset) vs ``tests/bench/floor_app.py`` — a bare Litestar app doing
the same session lookup and the same pool SQL (captured from the product in this run) in an RLS
transaction, four round trips — and vs the product itself with ``ACRE_DATABASE_SESSION_SCOPED_READS``
off (its reads in transactions, the round trips it made before), all under granian with one worker,
driven by wrk with the same connections, in interleaved rounds (a load spike on the shared machine
hits all alike). Reports
requests/s and p99 of each (median over rounds), their ratios, the CPU per request of each (its app
processes and its PostgreSQL backends, requests one after another) and the load average.

    uv run python tests/bench/bench_request_path.py [--scale 1] [--seconds 8] [--connections 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.dev import free_port
from tests.bench.bench_datagen import session_token
from tests.bench.bench_web_pages import _fill, _tenant
from tests.bench.harness import ROOT, cached_database, load, server

SEQUENTIAL = 300


async def _capture(app_url: str, token: str, territory: UUID) -> dict[str, Any]:
    """The SQL and arguments the product's pool listing sends, recorded from one real call."""
    from app import db
    from app.customers.pool import service
    from tenants.scope import resolve_session

    seen: list[tuple[str, tuple[Any, ...]]] = []
    fetch = db.Tx.fetch

    async def recording(self: db.Tx, sql: str, *args: Any) -> list[asyncpg.Record]:
        seen.append((sql, args))
        return await fetch(self, sql, *args)

    await db.start(app_url, 2)
    try:
        scope = await resolve_session(token)
        assert scope is not None
        db.Tx.fetch = recording  # type: ignore[method-assign]
        try:
            page = await service.list_pool(scope, territory_id=territory, grade="C", limit=50)
        finally:
            db.Tx.fetch = fetch  # type: ignore[method-assign]
    finally:
        await db.stop()
    sql, args = next((s, a) for s, a in seen if "FROM customers c" in s)

    def kind(value: Any) -> list[Any]:
        if isinstance(value, UUID):
            return ["uuid", str(value)]
        if isinstance(value, datetime):
            return ["datetime", value.isoformat()]
        return ["plain", value]

    return {"sql": sql, "args": [kind(a) for a in args], "limit": 50, "rows": len(page.items)}


def _cpu_ms(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += (times.user + times.system) * 1000
    return total


async def _backend_pids(admin_url: str) -> list[int]:
    conn = await asyncpg.connect(admin_url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return [row["pid"] for row in rows]
    finally:
        await conn.close()


def _cpu_per_request(
    url: str, headers: dict[str, str], app_pids: list[int], admin_url: str
) -> dict[str, float]:
    """CPU per request of one side, requests one after another: its app processes' and its PostgreSQL
    backends' (every backend of the bench database; the other side is idle meanwhile). What a busy
    shared machine inflates least."""
    with httpx.Client(headers=headers, timeout=30) as client:
        backends = asyncio.run(_backend_pids(admin_url))
        app0, db0 = _cpu_ms(app_pids), _cpu_ms(backends)
        for _ in range(SEQUENTIAL):
            client.get(url)
        app1, db1 = _cpu_ms(app_pids), _cpu_ms(backends)
    return {"app": round((app1 - app0) / SEQUENTIAL, 3), "db": round((db1 - db0) / SEQUENTIAL, 3)}


def _tree(pid: int) -> list[int]:
    proc = psutil.Process(pid)
    return [proc.pid, *(child.pid for child in proc.children(recursive=True))]


def _floor_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "tests/bench/floor_app.py", str(port)],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(env["ACRE_BENCH_FLOOR_SQL_FILE"] + ".log", "wb"),
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/floor/pool", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(
        "floor app did not start: " + Path(env["ACRE_BENCH_FLOOR_SQL_FILE"] + ".log").read_text()[-4000:]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="generate again instead of the cached copy")
    args = parser.parse_args()
    with (
        cached_database(f"web_s{args.scale:g}", lambda db: _fill(db, args.scale), fresh=args.fresh) as (
            bench,
            info,
        ),
        tempfile.TemporaryDirectory() as tmp,
    ):
        t = _tenant(info)
        token = asyncio.run(session_token(bench.admin_url, t.id, t.managers[0]))
        captured = asyncio.run(_capture(bench.app_url, token, t.prefectures[0]))
        sql_file = Path(tmp) / "floor.json"
        sql_file.write_text(json.dumps(captured))
        auth = {"Authorization": f"Bearer {token}"}
        floor, floor_url = _floor_server({"ACRE_BENCH_FLOOR_SQL_FILE": str(sql_file)})
        try:
            children = {p.pid for p in psutil.Process().children()}
            with (
                server({}) as url,
                server({"ACRE_DATABASE_SESSION_SCOPED_READS": "false"}) as url_tx,
            ):
                started = [p.pid for p in psutil.Process().children() if p.pid not in children]
                query = f"/api/v1/pool?territory_id={t.prefectures[0]}&grade=C&limit=50"
                targets = {
                    "product": url + query,
                    "product_transactions": url_tx + query,
                    "floor": f"{floor_url}/floor/pool",
                }
                pids = {"product": _tree(started[0]), "product_transactions": _tree(started[1])}
                pids["floor"] = _tree(floor.pid)
                answers = {
                    side: httpx.get(target, headers=auth, timeout=30) for side, target in targets.items()
                }
                assert all(r.status_code == 200 for r in answers.values()), (
                    {side: r.text[:300] for side, r in answers.items()},
                    Path(str(sql_file) + ".log").read_text()[-3000:],
                )
                ids = [item["id"] for item in answers["product"].json()["items"]]
                for side, r in answers.items():
                    assert ids and ids == [item["id"] for item in r.json()["items"]], (
                        f"{side}: not the same rows"
                    )
                with httpx.Client(headers=auth, timeout=30) as warm:  # pools open, statements prepared
                    for _ in range(30):
                        for target in targets.values():
                            warm.get(target)
                cpu = {
                    side: _cpu_per_request(target, auth, pids[side], bench.admin_url)
                    for side, target in targets.items()
                }
                runs: dict[str, list[Any]] = {side: [] for side in targets}
                for _ in range(args.rounds):
                    for side, target in targets.items():
                        got = load(target, auth, seconds=args.seconds, connections=args.connections)
                        assert got.errors == 0, (side, got)
                        runs[side].append(got)
        finally:
            floor.terminate()
            floor.wait(timeout=20)

    def median(side: str, field: str) -> float:
        return round(statistics.median(getattr(r, field) for r in runs[side]), 2)

    rps = {side: median(side, "rps") for side in runs}
    p99 = {side: median(side, "p99_ms") for side in runs}
    print(
        json.dumps(
            {
                "bench": "request_path",
                "scale": args.scale,
                "customers": info["customers"],
                "rows": len(ids),
                "connections": args.connections,
                "rounds": [
                    {
                        side: {"rps": round(runs[side][i].rps, 1), "p99_ms": runs[side][i].p99_ms}
                        for side in runs
                    }
                    for i in range(args.rounds)
                ],
                "product_rps": rps["product"],
                "product_transactions_rps": rps["product_transactions"],
                "floor_rps": rps["floor"],
                "ratio_rps_vs_floor": round(rps["product"] / rps["floor"], 3),
                "ratio_rps_transactions_vs_floor": round(rps["product_transactions"] / rps["floor"], 3),
                "product_p99_ms": p99["product"],
                "product_transactions_p99_ms": p99["product_transactions"],
                "floor_p99_ms": p99["floor"],
                "ratio_p99_vs_floor": round(p99["product"] / p99["floor"], 3),
                "cpu_ms_per_request": cpu,
                "ratio_cpu_vs_floor": round(
                    (cpu["product"]["app"] + cpu["product"]["db"])
                    / (cpu["floor"]["app"] + cpu["floor"]["db"]),
                    3,
                ),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
