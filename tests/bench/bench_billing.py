"""Stripe webhook ingest: distinct signed events per second through POST /webhooks/stripe (verify, store
in the inbox, queue the job, answer) against a bare route that only verifies the signature, same
server and run; then a storm of 1,000 copies of one event, of which exactly one must be handled.

    uv run python tests/bench/bench_billing.py [--seconds 8] [--connections 32]

Prints one JSON line. The load client is a raw asyncio HTTP/1.1 keep-alive client (each event needs
its own body and signature), bounded in time and in requests."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import Load, bench_database, server
from tests.billing_fake import StripeFake, signed

WEBHOOK_SECRET = "whsec_bench"
STORM = 1000


def _request(path: str, body: bytes, secret: str = WEBHOOK_SECRET) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Stripe-Signature: {signed(body, secret)}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _event(event_id: str, sub: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.subscription.updated",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": sub},
        },
        separators=(",", ":"),
    ).encode()


async def post_load(
    url: str, requests: list[bytes], seconds: float, connections: int, cycle: bool
) -> tuple[Load, Counter[int]]:
    """Send ``requests`` (in order; round and round when ``cycle``) for at most ``seconds``."""
    parts = urlsplit(url)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    next_index = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline and (cycle or next_index < len(requests)):
                request = requests[next_index % len(requests)]
                next_index += 1
                start = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[int(head[9:12])] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    errors = sum(n for code, n in statuses.items() if code >= 300)
    load = Load(
        round(len(latencies) / elapsed, 1),
        round(statistics.median(latencies), 3),
        round(latencies[max(int(len(latencies) * 0.99) - 1, 0)], 3),
        len(latencies),
        errors,
    )
    return load, statuses


async def seed(fake: StripeFake) -> tuple[uuid.UUID, dict[str, Any]]:
    """One tenant on the Team plan, in the database and in the fake."""
    from app import db
    from app.settings import get_settings

    tenant = uuid.uuid4()
    _, session = fake.dispatch(
        "POST",
        "/v1/checkout/sessions",
        {
            "mode": "subscription",
            "customer": "cus_bench",
            "client_reference_id": str(tenant),
            "line_items": [{"price": "price_acre_team", "quantity": "1"}],
            "subscription_data": {"metadata": {"tenant_id": str(tenant), "plan": "team"}},
        },
        None,
    )
    sub_id = fake.complete_checkout(session["id"])
    fake.take_events()
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    async with db.transaction(tenant) as tx:
        await tx.execute(
            "INSERT INTO tenants (id, name, slug, locale, time_zone, currency, billing_plan, billing_status,"
            " stripe_customer_id, stripe_subscription_id, seats_paid)"
            " VALUES ($1, '基准测试软件有限公司', 'bench', 'zh-CN', 'Asia/Shanghai', 'CNY', 'team', 'active',"
            " 'cus_bench', $2, 1)",
            tenant,
            sub_id,
        )
    await db.stop()
    return tenant, fake.subscriptions[sub_id]


async def drain_and_clear_queue(queue: str) -> int:
    """Wait until the API relayed every outbox row, then drop the queued ingest jobs (the benchmark
    measures ingest; handling them all is not its subject). Returns how many were dropped."""
    from arq.connections import RedisSettings, create_pool

    from app import db
    from app.settings import get_settings

    await db.start(get_settings().database_url, get_settings().database_pool_size)
    try:
        for _ in range(600):
            async with db.transaction(None) as tx:
                if not await tx.fetchval("SELECT count(*) FROM outbox WHERE enqueued_at IS NULL"):
                    break
            await asyncio.sleep(0.1)
    finally:
        await db.stop()
    redis = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    try:
        ids = await redis.zrange(queue, 0, -1)
        for start in range(0, len(ids), 1000):
            chunk = [b"arq:job:" + i for i in ids[start : start + 1000]]
            await redis.delete(*chunk)
        await redis.delete(queue)
    finally:
        await redis.aclose()
    return len(ids)


async def handle_storm(event_id: str, tenant: uuid.UUID, fake: StripeFake, sub_id: str) -> dict[str, int]:
    """Run a burst worker over what the storm queued; count what was stored and handled."""
    from arq.connections import RedisSettings, create_pool

    from app import db, outbox
    from app.settings import get_settings
    from workers.settings import worker_settings
    from workers.worker import Worker

    reads_before = len(fake.reads_of(f"/v1/subscriptions/{sub_id}"))
    await db.start(get_settings().database_url, get_settings().database_pool_size)
    pool = await create_pool(
        RedisSettings.from_dsn(get_settings().redis_url), default_queue_name=get_settings().queue_name
    )
    try:
        await outbox.relay(pool)
        settings = worker_settings()
        settings.update(on_startup=None, on_shutdown=None, burst=True, cron_jobs=[], redis_pool=pool)
        worker = Worker(**settings)
        try:
            await worker.main()
        finally:
            await worker.close()
        async with db.transaction(tenant) as tx:
            stored = await tx.fetchval("SELECT count(*) FROM stripe_events WHERE id = $1", event_id)
            handled = await tx.fetchval(
                "SELECT count(*) FROM stripe_events WHERE id = $1 AND handled_at IS NOT NULL", event_id
            )
            audits = await tx.fetchval(
                "SELECT count(*) FROM audit_log WHERE tenant = $1"
                " AND action = 'billing.stripe_event' AND data->>'event' = $2",
                tenant,
                event_id,
            )
            jobs = await tx.fetchval(
                "SELECT count(*) FROM outbox WHERE job_id = $1", f"handle_stripe_event:{event_id}"
            )
    finally:
        await pool.aclose()
        await db.stop()
    return {
        "stored": stored,
        "handled": handled,
        "handled_audit_rows": audits,
        "outbox_jobs": jobs,
        "stripe_reads": len(fake.reads_of(f"/v1/subscriptions/{sub_id}")) - reads_before,
    }


def main() -> None:
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--events", type=int, default=40_000, help="distinct events prepared for ingest")
    args = parser.parse_args()
    run = secrets.token_hex(4)
    fake = StripeFake(WEBHOOK_SECRET).start()
    with bench_database() as database, tempfile.TemporaryDirectory() as tmp:
        env = {
            "ACRE_STRIPE_SECRET_KEY": "sk_test_bench",
            "ACRE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ACRE_STRIPE_API_BASE": fake.url,
            "ACRE_QUEUE_NAME": f"acre-bench:{database.name}",
            "ACRE_BENCH_BARE_BODY_FILE": str(Path(tmp) / "bare.json"),
        }
        (Path(tmp) / "bare.json").write_bytes(b"{}")
        os.environ.update(env)
        from app.settings import get_settings

        get_settings.cache_clear()
        tenant, sub = asyncio.run(seed(fake))
        bodies = [_event(f"evt_bench_{run}_{i}", sub) for i in range(args.events)]
        ingest_requests = [_request("/webhooks/stripe", b) for b in bodies]
        verify_requests = [_request("/bench/stripe-verify", b) for b in bodies[:5000]]
        storm_body = _event(f"evt_storm_{run}", sub)
        with server(env) as url:
            bad = asyncio.run(
                post_load(url, [_request("/webhooks/stripe", bodies[0], "whsec_wrong")], 1, 1, False)
            )
            assert bad[1] == Counter({400: 1}), bad
            verify, _ = asyncio.run(
                post_load(url, verify_requests, args.seconds, args.connections, cycle=True)
            )
            ingest, ingest_codes = asyncio.run(
                post_load(url, ingest_requests, args.seconds, args.connections, cycle=False)
            )
            dropped = asyncio.run(drain_and_clear_queue(env["ACRE_QUEUE_NAME"]))
            storm, storm_codes = asyncio.run(
                post_load(
                    url, [_request("/webhooks/stripe", storm_body)] * STORM, 60, args.connections, cycle=False
                )
            )
        counts = asyncio.run(handle_storm(f"evt_storm_{run}", tenant, fake, sub["id"]))
    fake.stop()
    assert counts["stored"] == 1 and counts["handled"] == 1 and counts["handled_audit_rows"] == 1, counts
    assert counts["stripe_reads"] == 1 and storm_codes == Counter({200: STORM}), (counts, storm_codes)
    print(
        json.dumps(
            {
                "bench": "billing_webhooks",
                "connections": args.connections,
                "seconds": args.seconds,
                "verify_only": vars(verify),
                "ingest": vars(ingest),
                "ratio_ingest_vs_verify": round(ingest.rps / verify.rps, 3),
                "ingest_events_stored": ingest_codes.get(200, 0),
                "ingest_jobs_queued": dropped,
                "storm": {
                    "copies": STORM,
                    "answered_200": storm_codes.get(200, 0),
                    "rps": storm.rps,
                    **counts,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
