"""Lead intake: 10,000 leads sent to ``POST /api/v1/leads`` in batches of 100 (an API key, over HTTP to a
granian server, each batch with its Idempotency-Key) against the customer import of the same rows (the
import job of ``bench_import``: the same CSV, upload check and job), in the same run, on one generated
dataset; each into a tenant of its own, into the same kind of territory.

    uv run python tests/bench/bench_leads.py [--rows 10000] [--batch 100] [--scale 0.02]

Prints one JSON line: both times, rows/s, the ratio intake / import (goal ≤ 1.5) and the load average."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_datagen import TenantData, generate
from tests.bench.bench_import import _csv, _import, _scope
from tests.bench.harness import bench_database, server

_SOURCES = {"转介绍": "referral", "扫街": "cold_visit", "来电": "inbound", "展会": "trade_show"}


def _leads(content: bytes, territory_id: str) -> list[dict[str, Any]]:
    """The import's CSV rows as leads (the same companies, tax ids, phones, addresses, grades)."""
    reader = csv.reader(io.StringIO(content.decode("utf-8")))
    next(reader)
    return [
        {
            "full_name": name,
            "tax_id": tax_id,
            "phone": phone,
            "address": address,
            "industry": industry,
            "grade": grade,
            "source": _SOURCES[source],
            "territory_id": territory_id,
        }
        for name, tax_id, phone, address, industry, grade, source in reader
    ]


async def _key(tenant: TenantData) -> str:
    from tenants import api_keys
    from tenants.schemas import ApiKeyCreate

    made = await api_keys.create_key(await _scope(tenant), ApiKeyCreate(name="bench", scopes=["leads:write"]))
    return made.secret


def _send(url: str, secret: str, leads: list[dict[str, Any]], batch: int) -> tuple[float, int]:
    created = 0
    with httpx.Client(base_url=url, timeout=120) as client:
        started = time.perf_counter()
        for i in range(0, len(leads), batch):
            r = client.post(
                "/api/v1/leads",
                json=leads[i : i + batch],
                headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": f"bench-{i}"},
            )
            assert r.status_code == 201, r.text
            created += r.json()["created"]
        return time.perf_counter() - started, created


async def _prepare(admin_url: str, app_url: str, rows: int, scale: float) -> dict[str, Any]:
    from app import db
    from app.settings import get_settings

    data = await generate(admin_url, scale=scale, tenants=4)
    content = _csv(rows)
    await db.start(app_url, get_settings().database_pool_size)
    try:
        upload, job, result = await _import(data.tenants[1], content, "valid_rows")
        secret = await _key(data.tenants[2])
    finally:
        await db.stop()
    return {
        "existing_customers": data.customers,
        "import_upload_s": upload,
        "import_job_s": job,
        "rows_imported": result["rows_imported"],
        "secret": secret,
        "leads": _leads(content, str(data.tenants[2].counties[0])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--scale", type=float, default=0.02)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as files:
        os.environ.update(
            {"ACRE_STORAGE_BACKEND": "local", "ACRE_STORAGE_DIR": files, "ACRE_LOG_LEVEL": "WARNING"}
        )
        with bench_database() as bench:
            prepared = asyncio.run(_prepare(bench.admin_url, bench.app_url, args.rows, args.scale))
            env = {"ACRE_STORAGE_DIR": files, "ACRE_API_KEY_RATE_LIMIT_PER_MINUTE": "100000"}
            with server(env) as url:
                intake, created = _send(url, prepared["secret"], prepared["leads"], args.batch)
    importing = prepared["import_upload_s"] + prepared["import_job_s"]
    assert created == args.rows == prepared["rows_imported"], (created, prepared["rows_imported"])
    print(
        json.dumps(
            {
                "bench": "lead_intake",
                "rows": args.rows,
                "batch": args.batch,
                "existing_customers": prepared["existing_customers"],
                "intake_s": round(intake, 2),
                "intake_rows_per_s": round(args.rows / intake),
                "import_s": round(importing, 2),
                "import_upload_check_s": round(prepared["import_upload_s"], 2),
                "import_job_s": round(prepared["import_job_s"], 2),
                "import_rows_per_s": round(args.rows / importing),
                "ratio_intake_vs_import": round(intake / importing, 2),
                "ratio_intake_vs_import_job": round(intake / prepared["import_job_s"], 2),
                "goal": "ratio_intake_vs_import <= 1.5",
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
