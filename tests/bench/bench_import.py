"""The customer import of a 100,000-row CSV (Chinese names, tax ids, phones, addresses; every row owned
by the importer, so every row also gets an ownership-ledger entry) on a generated dataset, against the
floor: a raw ``COPY`` of the same 100,000 final rows into the same ``customers`` table (all its indexes
and foreign keys, as the superuser, no checks, no staging, no ledger, no grade history).

    uv run python tests/bench/bench_import.py [--rows 100000] [--scale 0.1]

Prints one JSON line: the upload check, the job in both modes, rows/s, the COPY floor measured in the
same run and each mode's ratio to it, and the load average."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import TenantData, generate
from tests.bench.harness import bench_database

_CODE = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_FLOOR_COLUMNS = (
    "full_name", "tax_id", "phone", "phone_digits", "address", "industry", "grade", "source", "territory_id",
    "owner_membership_id", "identity_key", "name_key", "search_text", "it_status", "status", "created_by",
)  # fmt: skip


def _csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["客户全称", "统一社会信用代码", "电话", "地址", "行业", "客户等级", "名单来源"])
    tag = secrets.token_hex(3)
    for i in range(rows):
        code = "9131" + f"{i:06d}"[-4:] + "".join(_CODE[(i // 31**k) % 31] for k in range(10))
        writer.writerow([f"上海{tag}{i}号信息技术有限公司", code[:18], f"021-5{i % 10000:04d} {i % 97:02d}",
                         f"上海市浦东新区张江路{i % 999 + 1}号", "制造业", "ABCD"[i % 4],
                         ("转介绍", "扫街", "来电", "展会")[i % 4]])  # fmt: skip
    return out.getvalue().encode("utf-8")


async def _scope(tenant: TenantData) -> Any:
    from app import db
    from tenants.scope import MEMBER_SQL, TenantScope

    async with db.transaction(tenant.id) as tx:
        owner = await tx.fetchrow(MEMBER_SQL + " WHERE m.tenant = $1 AND m.id = $2", tenant.id, tenant.owner)
    return TenantScope.for_member(owner, locale="zh-CN")


async def _import(tenant: TenantData, content: bytes, mode: str) -> tuple[float, float, dict[str, Any]]:
    from app.customers.imports import service as imports
    from app.customers.imports.job import job_storage, run_customer_import

    scope = await _scope(tenant)
    started = time.perf_counter()
    accepted = await imports.create_import(
        scope,
        job_storage(),
        filename="bench.csv",
        data=content,
        mode=mode,
        default_territory_id=tenant.counties[0],
    )
    upload = time.perf_counter() - started
    started = time.perf_counter()
    status = await run_customer_import({}, str(tenant.id), str(accepted.id))
    job = time.perf_counter() - started
    done = await imports.get_import(scope, job_storage(), accepted.id)
    assert status == "done" and done.rows_imported == done.rows_total, (status, done)
    return upload, job, {"rows_imported": done.rows_imported}


async def _floor(admin_url: str, source: TenantData, target: TenantData) -> float:
    """COPY the rows the import wrote for ``source`` as new customers of ``target``."""
    conn = await asyncpg.connect(admin_url)
    try:
        rows = await conn.fetch(f"SELECT {', '.join(_FLOOR_COLUMNS)} FROM customers WHERE tenant = $1 AND "
                                "created_by = $2", source.id, source.owner)  # fmt: skip
        index = {c: i for i, c in enumerate(_FLOOR_COLUMNS)}
        records = []
        for r in rows:
            values = list(r)
            values[index["territory_id"]] = target.counties[0]
            values[index["owner_membership_id"]] = values[index["created_by"]] = target.owner
            records.append((target.id, uuid.uuid4(), *values))
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "customers", records=records, columns=("tenant", "id", *_FLOOR_COLUMNS)
        )
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _run(admin_url: str, app_url: str, rows: int, scale: float) -> dict[str, Any]:
    from app import db
    from app.settings import get_settings

    data = await generate(admin_url, scale=scale, tenants=10)
    content = _csv(rows)
    await db.start(app_url, get_settings().database_pool_size)
    try:
        upload, valid_rows, result = await _import(data.tenants[1], content, "valid_rows")
        _, all_or_nothing, _ = await _import(data.tenants[2], content, "all_or_nothing")
    finally:
        await db.stop()
    floor = await _floor(admin_url, data.tenants[1], data.tenants[3])
    return {
        "bench": "customer_import",
        "rows": rows,
        "existing_customers": data.customers,
        "file_mb": round(len(content) / 1e6, 1),
        "upload_check_s": round(upload, 2),
        "job_valid_rows_s": round(valid_rows, 2),
        "job_all_or_nothing_s": round(all_or_nothing, 2),
        "rows_per_s": round(rows / valid_rows),
        "copy_floor_s": round(floor, 2),
        "copy_rows_per_s": round(rows / floor),
        "ratio_vs_copy": round(valid_rows / floor, 2),
        "ratio_all_or_nothing_vs_copy": round(all_or_nothing / floor, 2),
        "loadavg": os.getloadavg()[0],
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as files:
        os.environ.update(
            {"ACRE_STORAGE_BACKEND": "local", "ACRE_STORAGE_DIR": files, "ACRE_LOG_LEVEL": "WARNING"}
        )
        with bench_database() as bench:
            print(json.dumps(asyncio.run(_run(bench.admin_url, bench.app_url, args.rows, args.scale))))


if __name__ == "__main__":
    main()
