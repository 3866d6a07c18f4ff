"""100 contracts of 30 lines each through the real worker path (service → outbox → ARQ worker →
sandboxed docxtpl in its child process → warm unoserver → S3 on moto), against a same-run baseline:
a raw docxtpl render in-process plus one warm-unoserver conversion of the same document. Also cold vs
warm conversion. Per-document ``render_ms`` includes waiting for a free render slot (one per CPU).

    uv run python tests/bench/bench_documents.py [--documents 100]

Needs PostgreSQL and Redis on 127.0.0.1 (as the tests), LibreOffice and python3-uno. Prints one
JSON line. The worker runs with the shipped poll delay and job concurrency (``workers.settings``,
reported as ``shipped_worker_settings``); per-document ``convert_ms`` includes waiting for a free
converter. ``one_at_a_time``: contracts created one by one against an idle worker, each timed from
its commit to ready."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import bench_database


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


async def seed() -> tuple[Any, uuid.UUID]:
    """A tenant and its owner, written as the application would (RLS on); returns (scope, tenant)."""
    from app import db
    from tenants.scope import TenantScope

    tenant = uuid.uuid4()
    async with db.transaction(tenant) as tx:
        await tx.execute(
            "INSERT INTO tenants (id, name, slug, locale, time_zone, currency) VALUES"
            " ($1, '上海启明软件科技有限公司', 'bench-docs', 'zh-CN', 'Asia/Shanghai', 'CNY')",
            tenant,
        )
        user = await tx.fetchval(
            "INSERT INTO users (email, name, password_hash) VALUES"
            " ('owner@bench.example', '李晓明', 'x') RETURNING id"
        )
        membership = await tx.fetchval(
            "INSERT INTO memberships (tenant, user_id, role) VALUES ($1, $2, 'owner') RETURNING id",
            tenant,
            user,
        )
    scope = TenantScope(
        tenant_id=tenant,
        user_id=user,
        role="owner",
        membership_id=membership,
        locale="zh-CN",
        tenant_locale="zh-CN",
    )
    return scope, tenant


async def baseline(converter: Any) -> dict[str, float]:
    """Raw docxtpl (no sandbox, no storage) and conversions of the same 30-line contract."""
    from docxtpl import DocxTemplate

    from app.documents import kinds
    from app.documents.rendering import default_template_path

    template = default_template_path("contract", "zh-CN").read_bytes()
    data = kinds.sample("contract", "zh-CN")
    renders = []
    docx = b""
    for _ in range(10):
        started = time.perf_counter()
        doc = DocxTemplate(io.BytesIO(template))
        doc.render(data)
        out = io.BytesIO()
        doc.save(out)
        renders.append((time.perf_counter() - started) * 1000)
        docx = out.getvalue()
    started = time.perf_counter()
    await converter.start()
    start_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    await converter.convert(docx)
    cold_ms = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        await converter.convert(docx)
        warm.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    await converter.oneshot(docx)
    oneshot_ms = (time.perf_counter() - started) * 1000
    return {
        "render_ms": statistics.median(renders),
        "converter_start_ms": start_ms,
        "cold_convert_ms": cold_ms,
        "warm_convert_ms": statistics.median(warm),
        "oneshot_soffice_ms": oneshot_ms,
    }


async def _one_at_a_time(scope: Any, tenant: uuid.UUID, redis: Any, count: int) -> dict[str, float]:
    """An idle worker with the shipped settings (not burst): each contract created, committed and
    relayed as the API does, timed until it is ready; ``start_wait_ms`` is that time less the job's
    own render, convert and upload (the wait for the worker to pick the job up, plus its claim)."""
    from app import db, outbox
    from app.documents.schemas import DocumentCreate
    from app.documents.service import create_document
    from workers.settings import worker_settings
    from workers.worker import Worker

    options = worker_settings()
    options.update(on_startup=None, on_shutdown=None, cron_jobs=[])
    worker = Worker(**options)
    running = asyncio.create_task(worker.main())
    await asyncio.sleep(0.5)  # idle now
    totals, waits = [], []
    try:
        for i in range(count):
            started = time.perf_counter()
            doc = await create_document(
                scope,
                DocumentCreate(
                    kind="contract",
                    subject_type="sample",
                    subject_id=f"one-{i}",
                    idempotency_key=f"one-{i}",
                    locale="zh-CN",
                ),
            )
            await outbox.relay(redis)  # the API relays right after commit
            while True:
                async with db.transaction(tenant) as tx:
                    row = await tx.fetchrow("SELECT status, timings FROM documents WHERE id = $1", doc.id)
                if row["status"] in ("ready", "failed"):
                    break
                await asyncio.sleep(0.002)
            total = (time.perf_counter() - started) * 1000
            work = sum(json.loads(row["timings"] or "{}").values())
            totals.append(total)
            waits.append(total - work)
            await asyncio.sleep(0.2)  # idle again
    finally:
        running.cancel()
        await worker.close()
    return {
        "documents": count,
        "total_ms_p50": pct(totals, 0.5),
        "start_wait_ms_p50": pct(waits, 0.5),
        "start_wait_ms_max": round(max(waits), 1),
    }


async def run(documents: int, singles: int) -> dict[str, Any]:
    from arq import create_pool
    from arq.connections import RedisSettings

    from app import db, outbox
    from app.documents import convert, render_process
    from app.documents.schemas import DocumentCreate
    from app.documents.service import create_document
    from app.settings import get_settings
    from workers.settings import worker_settings
    from workers.worker import Worker

    settings = get_settings()
    await db.start(settings.database_url, settings.database_pool_size)
    converter = convert.get_converter()
    render_process.start()  # as the worker's startup does (the bench's worker runs without it)
    base = await baseline(converter)
    scope, tenant = await seed()
    for i in range(documents):
        await create_document(
            scope,
            DocumentCreate(
                kind="contract",
                subject_type="sample",
                subject_id=f"bench-{i}",
                idempotency_key=f"bench-{i}",
                locale="zh-CN",
            ),
        )
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.queue_name
    )
    await outbox.relay(redis, limit=documents + 10)
    options = worker_settings()  # the shipped poll delay and job concurrency, reported below
    shipped = {"poll_delay_s": options["poll_delay"], "max_jobs": options["max_jobs"]}
    options.update(on_startup=None, on_shutdown=None, burst=True, cron_jobs=[])
    worker = Worker(**options)
    started = time.perf_counter()
    await worker.main()
    wall = time.perf_counter() - started
    await worker.close()
    async with db.transaction(tenant) as tx:
        rows = await tx.fetch("SELECT status, timings, converter FROM documents WHERE tenant = $1", tenant)
    one_at_a_time = await _one_at_a_time(scope, tenant, redis, singles)
    await redis.aclose()
    await converter.stop()
    await db.stop()
    timings = [json.loads(r["timings"]) for r in rows if r["status"] == "ready"]
    render = [t["render_ms"] for t in timings]
    conv = [t["convert_ms"] for t in timings]
    upload = [t["upload_ms"] for t in timings]
    per_minute = len(timings) / wall * 60
    serial_baseline_per_minute = 60000 / (base["render_ms"] + base["warm_convert_ms"])
    return {
        "bench": "documents",
        "documents": documents,
        "ready": len(timings),
        "failed": sum(r["status"] != "ready" for r in rows),
        "converters": settings.unoserver_count,
        "via_unoserver": sum(r["converter"] == "unoserver" for r in rows),
        "render_ms_p50": pct(render, 0.5),
        "render_ms_p95": pct(render, 0.95),
        "convert_ms_p50": pct(conv, 0.5),
        "convert_ms_p95": pct(conv, 0.95),
        "upload_ms_p50": pct(upload, 0.5),
        "upload_ms_p95": pct(upload, 0.95),
        "docs_per_minute": round(per_minute, 1),
        "shipped_worker_settings": shipped,
        "one_at_a_time": one_at_a_time,
        "ratio_one_at_a_time_vs_raw": round(
            one_at_a_time["total_ms_p50"] / (base["render_ms"] + base["warm_convert_ms"]), 2
        ),
        "wall_s": round(wall, 2),
        "baseline": {k: round(v, 1) for k, v in base.items()},
        "baseline_docs_per_minute_one_converter": round(serial_baseline_per_minute, 1),
        "ratios": {
            "render_p50_vs_raw_docxtpl": round(pct(render, 0.5) / base["render_ms"], 2),
            "convert_p50_vs_warm_unoserver": round(pct(conv, 0.5) / base["warm_convert_ms"], 2),
            "cold_vs_warm_convert": round(base["cold_convert_ms"] / base["warm_convert_ms"], 2),
            "oneshot_vs_warm_convert": round(base["oneshot_soffice_ms"] / base["warm_convert_ms"], 2),
            "throughput_vs_serial_baseline": round(per_minute / serial_baseline_per_minute, 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--singles", type=int, default=10, help="contracts timed one at a time")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    from moto.server import ThreadedMotoServer

    from app.dev import free_port

    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    os.environ.update(
        {
            "ACRE_ENVIRONMENT": "test",
            "ACRE_LOG_LEVEL": "WARNING",
            "ACRE_STORAGE_BACKEND": "s3",
            "ACRE_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "ACRE_S3_BUCKET": "acre-bench",
            "ACRE_S3_ACCESS_KEY_ID": "bench",
            "ACRE_S3_SECRET_ACCESS_KEY": "bench",
            "ACRE_QUEUE_NAME": f"acre-bench:{secrets.token_hex(4)}",
        }
    )
    try:
        with bench_database():
            from app.settings import get_settings
            from app.storage import S3Storage

            S3Storage(get_settings()).ensure_bucket()
            result = asyncio.run(run(args.documents, args.singles))
    finally:
        moto.stop()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
