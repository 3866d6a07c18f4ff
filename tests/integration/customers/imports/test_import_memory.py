"""The import job's memory is flat in the file's size: the file is read from storage through a
temporary file, row by row, and staged and written a batch at a time, so a file ten times larger
grows the job's peak Python memory no more than a file of a few batches does. Measured with
``tracemalloc`` (every Python allocation, the parsing thread's included) around the job alone; the
batch is made small so the files stay quick to import while spanning many batches."""

from __future__ import annotations

import tracemalloc

import pytest

from app.customers.imports import job, stage
from app.customers.imports.job import run_customer_import
from tests.factories import db_value
from tests.integration.customers.imports.support import csv_file, rows, team, upload

BATCH = 500


async def _peak_growth(client, t, admin_db, count: int) -> tuple[int, int]:
    """(peak bytes the job allocated above its start, the file's size) for a file of ``count`` rows."""
    content = csv_file(rows(count))
    r = await upload(client, t.rep, content, mode="valid_rows")
    assert r.status_code == 202, r.text
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


async def test_the_job_memory_does_not_grow_with_the_file(client, mailbox, app, admin_db, monkeypatch):
    monkeypatch.setattr(stage, "BATCH", BATCH)
    monkeypatch.setattr(job, "BATCH", BATCH)
    t = await team(client, mailbox, app)
    await _peak_growth(client, t, admin_db, 4 * BATCH)  # warm-up: caches, statements, connections
    small, small_size = await _peak_growth(client, t, admin_db, 4 * BATCH)
    large, size = await _peak_growth(client, t, admin_db, 40 * BATCH)
    assert size > 2_500_000 and size > 9 * small_size
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
