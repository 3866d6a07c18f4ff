"""Webhook fan-out benchmark: 1,000 events to 3 endpoints (3,000 signed deliveries) through the real
path — each event written by ``emit`` in its own committed transaction, relayed from the outbox by the
API's relay loop, delivered by an ARQ worker with the production settings (``worker_settings()``: its
job slots and poll delay) to three aiohttp receivers on loopback that check every signature.

Figures: deliveries per second (first commit to last receipt) and the outbox's lag, p50/p99 from an
event's commit to its receipt at each endpoint. Same-run baseline: a bare httpx client posting the
same 3,000 signed bodies to the same receivers with the same concurrency as the worker's job slots
(no database, no queue) — ``ratio`` is Acre's throughput over the baseline's.

    uv run python tests/bench/bench_webhooks.py [--events 1000] [--endpoints 3]

Needs PostgreSQL and Redis on 127.0.0.1 (as the tests). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import bench_database


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


class Receivers:
    """``count`` aiohttp receivers on loopback; each checks the signature and records arrivals."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.secrets: list[str] = [f"whsec_{secrets.token_urlsafe(32)}" for _ in range(count)]
        self.arrivals: dict[tuple[int, int], float] = {}  # (receiver, seq) -> time of receipt
        self.bad = 0
        self.done = asyncio.Event()
        self.expected = 0
        self.runners: list[Any] = []
        self.urls: list[str] = []

    async def start(self) -> None:
        from aiohttp import web

        from app.outbound import signature

        for index, secret in enumerate(self.secrets):

            async def handle(request: web.Request, index: int = index, secret: str = secret) -> web.Response:
                body = await request.read()
                try:
                    signature.verify(secret, request.headers.get(signature.HEADER), body)
                except signature.SignatureError:
                    self.bad += 1
                    return web.Response(status=400)
                seq = int(json.loads(body)["data"]["seq"])
                self.arrivals.setdefault((index, seq), time.time())
                if len(self.arrivals) >= self.expected:
                    self.done.set()
                return web.Response(text="ok")

            app = web.Application()
            app.router.add_post("/hook", handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.runners.append(runner)
            self.urls.append(f"http://127.0.0.1:{port}/hook")

    def reset(self, expected: int) -> None:
        self.arrivals.clear()
        self.expected = expected
        self.done.clear()

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.cleanup()


async def acre_run(receivers: Receivers, tenant: uuid.UUID, events: int) -> dict[str, Any]:
    from app import db, outbox, redis_conn
    from app.outbound.events import emit
    from app.settings import get_settings
    from workers.settings import worker_settings
    from workers.worker import Worker

    settings = get_settings()
    arq = redis_conn.arq_client(settings, socket_connect_timeout=2)
    relay = outbox.RelayLoop(arq)
    relay.start()
    ws = worker_settings()
    ws.update(on_startup=None, on_shutdown=None, cron_jobs=[])
    worker = Worker(**ws)
    running = asyncio.create_task(worker.async_run())
    receivers.reset(events * receivers.count)
    committed: dict[int, float] = {}
    started = time.time()
    for seq in range(events):
        async with db.transaction(tenant) as tx:
            await emit(tx, "deal.won", [{"seq": seq, "deal_id": uuid.uuid4(), "title": f"基准 {seq}"}])
        committed[seq] = time.time()
        if seq % 50 == 49:
            await asyncio.sleep(0)  # the relay and the worker share this loop, as in one process each
    await asyncio.wait_for(receivers.done.wait(), timeout=600)
    finished = max(receivers.arrivals.values())
    running.cancel()
    try:
        await running
    except asyncio.CancelledError:
        pass
    await worker.close()
    await relay.stop()
    await arq.aclose(close_connection_pool=True)
    lags = [(at - committed[seq]) * 1000 for (_, seq), at in receivers.arrivals.items()]
    return {
        "deliveries": len(receivers.arrivals),
        "seconds": round(finished - started, 2),
        "deliveries_per_second": round(len(receivers.arrivals) / (finished - started), 1),
        "lag_ms_p50": pct(lags, 0.5),
        "lag_ms_p99": pct(lags, 0.99),
        "lag_ms_mean": round(statistics.fmean(lags), 1),
        "worker_job_slots": ws["max_jobs"],
        "emit_ms_per_event": round((max(committed.values()) - started) * 1000 / events, 2),
    }


async def baseline_run(receivers: Receivers, events: int, concurrency: int) -> dict[str, Any]:
    """The same signed bodies posted by a bare httpx client, ``concurrency`` at a time."""
    import httpx

    from app.outbound import signature

    receivers.reset(events * receivers.count)
    bodies = [
        (i, json.dumps({"id": str(uuid.uuid4()), "type": "deal.won", "data": {"seq": s}}).encode())
        for s in range(events)
        for i in range(receivers.count)
    ]
    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    started = time.time()
    async with httpx.AsyncClient(timeout=10) as http:

        async def worker() -> None:
            while not queue.empty():
                index, body = queue.get_nowait()
                headers = {signature.HEADER: signature.header(receivers.secrets[index], body)}
                await http.post(receivers.urls[index], content=body, headers=headers)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finished = time.time()
    return {
        "deliveries": len(receivers.arrivals),
        "seconds": round(finished - started, 2),
        "deliveries_per_second": round(len(receivers.arrivals) / (finished - started), 1),
        "concurrency": concurrency,
    }


async def run(events: int, endpoints: int) -> dict[str, Any]:
    import asyncpg

    from app import db
    from app.settings import get_settings

    settings = get_settings()
    receivers = Receivers(endpoints)
    await receivers.start()
    admin = await asyncpg.connect(settings.database_admin_url)
    tenant = uuid.uuid4()
    now = datetime.now(UTC)
    await admin.execute(
        "INSERT INTO tenants (id, name, slug, locale, time_zone, currency, created_at, trial_ends_at)"
        " VALUES ($1, '基准软件有限公司', $2, 'zh-CN', 'Asia/Shanghai', 'CNY', $3, $4)",
        tenant,
        f"bench-{secrets.token_hex(3)}",
        now,
        now + timedelta(days=30),
    )
    for url, secret in zip(receivers.urls, receivers.secrets, strict=True):
        await admin.execute(
            "INSERT INTO webhook_endpoints (tenant, url, event_types, secret)"
            " VALUES ($1, $2, '{deal.won}', $3)",
            tenant,
            url,
            secret,
        )
    await admin.close()
    await db.start(settings.database_url, settings.database_pool_size)
    try:
        acre = await acre_run(receivers, tenant, events)
        baseline = await baseline_run(receivers, events, acre["worker_job_slots"])
    finally:
        await db.stop()
        await receivers.stop()
    assert receivers.bad == 0
    load = os.getloadavg()
    return {
        "events": events,
        "endpoints": endpoints,
        "acre": acre,
        "baseline_httpx": baseline,
        "ratio_acre_vs_baseline": round(acre["deliveries_per_second"] / baseline["deliveries_per_second"], 3),
        "loadavg": [round(x, 2) for x in load],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    os.environ.setdefault("ACRE_REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["ACRE_QUEUE_NAME"] = f"acre-bench:{secrets.token_hex(4)}"
    os.environ["ACRE_WEBHOOK_ALLOW_LOOPBACK"] = "true"
    os.environ["ACRE_ENVIRONMENT"] = "test"
    os.environ.setdefault("ACRE_LOG_LEVEL", "WARNING")
    with bench_database():
        figures = asyncio.run(run(args.events, args.endpoints))
    print(json.dumps({"bench": "webhooks", **figures}))


if __name__ == "__main__":
    main()
