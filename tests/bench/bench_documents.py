"""100 contracts of 30 lines each through the real worker path (service → outbox → ARQ worker →
sandboxed docxtpl in its child process → warm unoserver → S3 on moto), against a same-run baseline:
a raw docxtpl render in-process plus one warm-unoserver conversion of the same document (unoserver's
default call, on the same warm servers). Also cold vs warm conversion. Per-document ``render_ms``
includes waiting for a free render slot (one per CPU).

``rounds`` of, interleaved (the machine is shared: each round runs every side back to back):
contracts one at a time and four at a time through the product (created, committed, relayed, timed
until ready, an idle worker in between), the raw pipeline the same way (four at a time: four lanes
over the same two warm servers), and with ``--carbone`` Carbone 3 on the same contract
(``carbone_side``; installed into a temporary directory by npm). Ratios are of medians over rounds;
``loadavg`` is /proc/loadavg before and after.

    uv run python tests/bench/bench_documents.py [--documents 100] [--rounds 3] [--carbone]

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


def _raw_render(template: bytes, data: dict[str, Any]) -> bytes:
    from docxtpl import DocxTemplate

    doc = DocxTemplate(io.BytesIO(template))
    doc.render(data)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


async def _raw_lanes(
    converter: Any, template: bytes, data: dict[str, Any], n: int, lanes: int
) -> dict[str, Any]:
    """``n`` contracts through raw docxtpl (in a thread) and unoserver's default call on a free warm
    server of the same pool, ``lanes`` at a time."""
    import xmlrpc.client

    from app.documents.unoserver import _proxy

    def convert(port: int, docx: bytes) -> bytes:
        return bytes(_proxy(port, 120).convert(None, xmlrpc.client.Binary(docx), None, "pdf").data)

    times: list[float] = []
    left = list(range(n))

    async def lane() -> None:
        while left:
            left.pop()
            started = time.perf_counter()
            docx = await asyncio.to_thread(_raw_render, template, data)
            server = await converter.idle.get()
            try:
                await asyncio.to_thread(convert, server.port, docx)
            finally:
                converter.idle.put_nowait(server)
            times.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    return {"times": times, "wall_ms": (time.perf_counter() - started) * 1000}


async def _product_lanes(
    scope: Any, tenant: uuid.UUID, redis: Any, tag: str, n: int, lanes: int
) -> dict[str, Any]:
    """``n`` contracts through the product, ``lanes`` at a time: each created, committed and relayed as
    the API does, and timed until it is ready; ``waits`` are those times less the job's own render,
    convert and upload (the wait for a worker to pick the job up, its claim and its data)."""
    from app import db, outbox
    from app.documents.schemas import DocumentCreate
    from app.documents.service import create_document

    times: list[float] = []
    waits: list[float] = []
    left = list(range(n))

    async def lane() -> None:
        while left:
            i = left.pop()
            started = time.perf_counter()
            doc = await create_document(
                scope,
                DocumentCreate(
                    kind="contract",
                    subject_type="sample",
                    subject_id=f"{tag}-{i}",
                    idempotency_key=f"{tag}-{i}",
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
            times.append(total)
            waits.append(total - sum(json.loads(row["timings"] or "{}").values()))

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    return {"times": times, "waits": waits, "wall_ms": (time.perf_counter() - started) * 1000}


def _per_minute(result: dict[str, Any]) -> float:
    return len(result["times"]) / result["wall_ms"] * 60000


async def _rounds(
    scope: Any,
    tenant: uuid.UUID,
    redis: Any,
    converter: Any,
    carbone: Any,
    rounds: int,
    singles: int,
    four: int,
) -> dict[str, Any]:
    """Each round: one at a time then four at a time, raw, product and Carbone back to back, against
    one idle worker with the shipped settings (not burst)."""
    from app.documents import kinds
    from app.documents.rendering import default_template_path
    from workers.settings import worker_settings
    from workers.worker import Worker

    template = default_template_path("contract", "zh-CN").read_bytes()
    data = kinds.sample("contract", "zh-CN")
    options = worker_settings()
    options.update(on_startup=None, on_shutdown=None, cron_jobs=[])
    worker = Worker(**options)
    running = asyncio.create_task(worker.main())
    await asyncio.sleep(0.5)
    sides: dict[str, dict[str, list[float]]] = {}

    def keep(side: str, key: str, value: float) -> None:
        sides.setdefault(side, {}).setdefault(key, []).append(value)

    try:
        await _product_lanes(scope, tenant, redis, "warm", 2, 1)  # the render server and the pool warm
        for r in range(rounds):
            one = await _raw_lanes(converter, template, data, singles, 1)
            keep("raw", "one_ms_p50", statistics.median(one["times"]))
            await asyncio.sleep(0.2)
            one = await _product_lanes(scope, tenant, redis, f"one-{r}", singles, 1)
            keep("product", "one_ms_p50", statistics.median(one["times"]))
            keep("product", "start_wait_ms_p50", statistics.median(one["waits"]))
            keep("product", "start_wait_ms_max", max(one["waits"]))
            if carbone is not None:
                one = await asyncio.to_thread(carbone.run, singles, 1)
                keep("carbone", "one_ms_p50", statistics.median(one["times"]))
            await asyncio.sleep(0.2)
            keep("raw", "four_per_minute", _per_minute(await _raw_lanes(converter, template, data, four, 4)))
            await asyncio.sleep(0.2)
            many = await _product_lanes(scope, tenant, redis, f"four-{r}", four, 4)
            keep("product", "four_per_minute", _per_minute(many))
            if carbone is not None:
                keep("carbone", "four_per_minute", _per_minute(await asyncio.to_thread(carbone.run, four, 4)))
            await asyncio.sleep(0.2)
    finally:
        running.cancel()
        await worker.close()
    medians = {
        side: {key: round(statistics.median(values), 1) for key, values in figures.items()}
        for side, figures in sides.items()
    }
    product, raw = medians["product"], medians["raw"]
    out: dict[str, Any] = {
        "rounds": rounds,
        "one_at_a_time_documents": singles,
        "four_at_a_time_documents": four,
        "sides": medians,
        "per_round": sides,
        "ratio_one_at_a_time_vs_raw": round(product["one_ms_p50"] / raw["one_ms_p50"], 2),
        "ratio_four_at_a_time_vs_raw": round(product["four_per_minute"] / raw["four_per_minute"], 2),
        "goal_one_at_a_time_vs_raw": 1.25,
        "goal_four_at_a_time_vs_raw": 0.95,
    }
    if carbone is not None:
        theirs = medians["carbone"]
        out["ratio_one_at_a_time_vs_carbone"] = round(product["one_ms_p50"] / theirs["one_ms_p50"], 2)
        four_ratio = product["four_per_minute"] / theirs["four_per_minute"]
        out["ratio_four_at_a_time_vs_carbone"] = round(four_ratio, 2)
    return out


async def run(documents: int, singles: int, rounds: int, four: int, with_carbone: bool) -> dict[str, Any]:
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
    carbone = None
    if with_carbone:
        from app.documents import kinds
        from app.documents.rendering import default_template_path
        from tests.bench.carbone_side import Carbone

        carbone = await asyncio.to_thread(
            Carbone,
            default_template_path("contract", "zh-CN").read_bytes(),
            kinds.sample("contract", "zh-CN"),
            settings.unoserver_count,
        )
    try:
        interleaved = await _rounds(scope, tenant, redis, converter, carbone, rounds, singles, four)
    finally:
        if carbone is not None:
            carbone.close()
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
        **interleaved,
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
    parser.add_argument("--singles", type=int, default=10, help="contracts timed one at a time, per round")
    parser.add_argument("--four", type=int, default=24, help="contracts four at a time, per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--carbone", action="store_true", help="also Carbone 3 (npm, into a temp dir)")
    args = parser.parse_args()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
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
            result = asyncio.run(run(args.documents, args.singles, args.rounds, args.four, args.carbone))
    finally:
        moto.stop()
    result["loadavg"] = {"before": load_before, "after": Path("/proc/loadavg").read_text().split()[:3]}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
