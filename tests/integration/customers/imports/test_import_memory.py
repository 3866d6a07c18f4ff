"""The import job's memory is flat in the file's size: the file is read from storage through a
temporary file, row by row, and staged and written a batch at a time, so a file ten times larger
grows the job's peak Python memory no more than a file of a few batches does. Measured with
``tracemalloc`` (every Python allocation, the parsing thread's included) around the job alone; the
batch is made small so the files stay quick to import while spanning many batches."""

from __future__ import annotations

import gc
import tracemalloc
from uuid import UUID

import pytest

from app.customers.imports import job, service, stage
from app.customers.imports.job import run_customer_import
from app.settings import get_settings
from app.storage import LocalStorage
from tests.factories import db_value
from tests.integration.customers.imports.support import csv_file, rows, team, upload

BATCH = 500


async def _peak_growth(client, app, t, admin_db, count: int) -> tuple[int, int]:
    """(peak bytes the job allocated above its start, the file's size) for a file of ``count`` rows.
    The job reads the file from a local directory: the test's S3 (moto) runs in this process, and
    what it allocates to serve the file is not the job's."""
    content = csv_file(rows(count))
    r = await upload(client, t.rep, content, mode="valid_rows")
    assert r.status_code == 202, r.text
    key = service.source_key(UUID(t.rep.tenant_id), UUID(r.json()["id"]))
    await job.job_storage().put(key, await app.state.storage.get(key), "text/csv")
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert await run_customer_import({}, t.rep.tenant_id, r.json()["id"]) == "done"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    done = await db_value(
        admin_db, "SELECT rows_imported FROM customer_imports WHERE id = $1", r.json()["id"]
    )
    assert done == count
    return peak - start, len(content)


async def test_the_job_memory_does_not_grow_with_the_file(
    client, mailbox, app, admin_db, monkeypatch, tmp_path
):
    monkeypatch.setattr(stage, "BATCH", BATCH)
    monkeypatch.setattr(job, "BATCH", BATCH)
    monkeypatch.setattr(
        job, "_storage", LocalStorage(get_settings().model_copy(update={"storage_dir": tmp_path}))
    )
    t = await team(client, mailbox, app)
    await _peak_growth(client, app, t, admin_db, 4 * BATCH)  # warm-up: caches, statements, connections
    # the small file is already past every fixed-size buffer (the encoding check reads 1 MB at a time)
    small, small_size = await _peak_growth(client, app, t, admin_db, 16 * BATCH)
    large, size = await _peak_growth(client, app, t, admin_db, 80 * BATCH)
    assert small_size > 1_100_000 and size > 4.5 * small_size
    # a file held whole (its bytes, or its decoded rows) would add at least the difference in size
    assert large - small < (size - small_size) / 4, (small, large, size)
    assert large < small * 1.5 + 256 * 1024, (small, large)


@pytest.mark.parametrize("count", [3 * BATCH + 7])
async def test_small_batches_import_every_row_once(client, mailbox, app, admin_db, monkeypatch, count):
    """The batch size leaves the result alone: rows across batch edges are each written once, with
    their ledger entry."""
    monkeypatch.setattr(stage, "BATCH", BATCH)
    monkeypatch.setattr(job, "BATCH", BATCH)
    t = await team(client, mailbox, app)
    data = rows(count, owner=t.rep.email)
    data[BATCH][5] = "E"  # one bad row, at a batch edge
    r = await upload(client, t.owner, csv_file(data), mode="valid_rows")
    assert await run_customer_import({}, t.owner.tenant_id, r.json()["id"]) == "done"
    tenant = t.owner.tenant_id
    customers = await db_value(admin_db, "SELECT count(*) FROM customers WHERE tenant = $1", tenant)
    ledger = await db_value(
        admin_db,
        "SELECT count(DISTINCT customer_id) FROM customer_ownership_history WHERE tenant = $1",
        t.owner.tenant_id,
    )
    assert customers == ledger == count - 1
