"""The validating step of a customer import: read the stored file, check each row, stage the rows,
then find duplicates set-based.

Reading streams the file (copied from storage to a temporary file, then read row by row; XLSX
through openpyxl ``read_only``) in a worker thread, 5,000 rows at a time, the next batch read while
the database takes the last: memory stays flat whatever the file's size. Each batch is COPYed into a
temporary table and moved into ``customer_import_rows`` (COPY FROM is refused on tables under
row-level security), with the progress, in one transaction. The checks
of one row are pure Python (``import_columns.clean_row``); duplicates — within the file, and against
the database (撞单, naming the existing owner and territory) — are two statements over all rows.
Rerunnable: it starts by throwing away what an interrupted earlier run staged.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from typing import IO, Any
from uuid import UUID

import asyncpg

from app.customers import duplicates, tabular
from app.customers.imports import columns as import_columns
from app.customers.imports.service import (
    BAD_TEXT,
    MAX_ROWS,
    NO_DATA,
    NO_FULL_NAME,
    NOT_SPREADSHEET,
    TOO_MANY_ROWS,
    FileProblem,
    stored_mapping,
)
from app.customers.imports.sql import (
    DB_DUPLICATE_MESSAGES,
    DB_DUPLICATES,
    FILE_DUPLICATES,
    REJECT_ROWS,
    SAME_AS_ROW,
    STAGE_COLUMNS,
)
from app.storage import Storage
from app.territories import division_map
from tenants.access import customer_access
from tenants.scope import TenantScope

BATCH = 5000


async def _rules(scope: TenantScope, imp: asyncpg.Record) -> import_columns.RowRules:
    async with scope.tx() as tx:
        access = await customer_access(tx, scope)
        territories = await tx.fetch(
            "SELECT id, parent_id, name FROM territories WHERE tenant = $1", scope.tenant_id
        )
        members = await tx.fetch(
            "SELECT m.id, u.email, u.name, m.active FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant = $1",
            scope.tenant_id,
        )
        divisions = await division_map.load_prefixes(tx, scope)
    return import_columns.RowRules(
        access=access,
        importer=scope.membership_id,
        may_assign=scope.at_least("manager"),
        territories=import_columns.TerritoryIndex.build(
            (r["id"], r["parent_id"], r["name"]) for r in territories
        ),
        members=import_columns.MemberIndex.build(
            (r["id"], r["email"], r["name"], r["active"]) for r in members
        ),
        default_territory=imp["default_territory_id"],
        divisions=divisions,
        default_owner_is_me=imp["default_owner"] == "me",
        strip_apostrophes=imp["file_format"] == "csv",
    )


def _staged(row_no: int, values: dict[str, Any], errors: list[import_columns.RowError]) -> tuple[Any, ...]:
    errors_json = json.dumps(
        [{"field": f, "message": m, "params": p} for f, m, p in errors], ensure_ascii=False
    )
    return (row_no, not errors, errors_json, *(values.get(c) for c in STAGE_COLUMNS[3:]))


class _Reader:
    """The file's data rows, checked, a batch at a time (run in a thread: parsing is CPU work)."""

    def __init__(
        self, fmt: tabular.Format, source: IO[bytes], rules: import_columns.RowRules, mapping: dict[str, str]
    ) -> None:
        self.rules = rules
        self.mapping = mapping
        self.rows: Iterator[list[str | None]] = tabular.read_rows(fmt, source)
        self.number = 0
        self.count = 0
        self.header: import_columns.HeaderMap | None = None

    def take(self, size: int) -> list[tuple[Any, ...]]:
        batch: list[tuple[Any, ...]] = []
        try:
            for cells in self.rows:
                self.number += 1
                if not any(cells):
                    continue
                if self.header is None:
                    self.header = import_columns.map_headers(cells, self.mapping)
                    if "full_name" not in self.header.names:
                        raise FileProblem(NO_FULL_NAME)
                    continue
                self.count += 1
                if self.count > MAX_ROWS:
                    raise FileProblem(TOO_MANY_ROWS, max=MAX_ROWS)
                fields = {f: cells[i] if i < len(cells) else None for i, f in self.header.columns.items()}
                batch.append(_staged(self.number, *import_columns.clean_row(fields, self.rules)))
                if len(batch) >= size:
                    break
        except tabular.UnreadableText:
            raise FileProblem(BAD_TEXT) from None
        except tabular.NotSpreadsheet:
            raise FileProblem(NOT_SPREADSHEET) from None
        return batch


async def _stage(scope: TenantScope, iid: UUID, reader: _Reader) -> None:
    """Stage the reader's rows a batch at a time, reading (and checking) the next batch in a thread
    while the database takes this one."""
    tenant = scope.tenant_id
    pending = asyncio.ensure_future(asyncio.to_thread(reader.take, BATCH))
    try:
        while batch := await pending:
            read = reader.count
            pending = asyncio.ensure_future(asyncio.to_thread(reader.take, BATCH))
            async with scope.tx() as tx:
                await tx.execute(
                    "CREATE TEMP TABLE import_batch (LIKE customer_import_rows INCLUDING DEFAULTS)"
                    " ON COMMIT DROP"
                )
                await tx.connection.copy_records_to_table(
                    "import_batch",
                    records=[(tenant, iid, *r) for r in batch],
                    columns=["tenant", "import_id", *STAGE_COLUMNS],
                )
                await tx.execute("INSERT INTO customer_import_rows SELECT * FROM import_batch")
                await tx.execute(
                    "UPDATE customer_imports SET rows_done = $3, updated_at = now()"
                    " WHERE tenant = $1 AND id = $2",
                    tenant,
                    iid,
                    read,
                )
    finally:
        if not pending.done():  # a failed write: let the thread finish before the file closes
            await asyncio.wait([pending])
            if not pending.cancelled():
                pending.exception()  # retrieved: the write's error is the one raised


async def stage_and_check(scope: TenantScope, imp: asyncpg.Record, storage: Storage) -> int:
    """Stage and check every row; returns the number of rejected rows (status then importing)."""
    tenant, iid = scope.tenant_id, imp["id"]
    async with scope.tx() as tx:
        await tx.execute("DELETE FROM customer_import_rows WHERE tenant = $1 AND import_id = $2", tenant, iid)
        await tx.execute(
            "UPDATE customer_imports SET status = 'validating', started_at = coalesce(started_at, now()),"
            " attempts = attempts + 1, rows_done = 0, rows_total = NULL, written_through = 0,"
            " updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            tenant,
            iid,
        )
    rules = await _rules(scope, imp)
    with tempfile.TemporaryFile() as source:  # the upload, on disk: never all of it in memory
        await storage.download(imp["storage_key"], source)
        source.seek(0)
        reader = _Reader(imp["file_format"], source, rules, stored_mapping(imp))
        await _stage(scope, iid, reader)
    if reader.count == 0:
        raise FileProblem(NO_DATA)
    async with scope.tx() as tx:
        left = await tx.fetch(DB_DUPLICATES, tenant, iid, scope.membership_id, None, *DB_DUPLICATE_MESSAGES)
        await duplicates.tell_import_conflicts(tx, scope, iid, [r["territory_id"] for r in left])
        repeats = await tx.fetch(FILE_DUPLICATES, tenant, iid)
        await tx.execute(
            REJECT_ROWS,
            tenant,
            iid,
            [r["row_no"] for r in repeats],
            [json.dumps({"row": r["first_row"]}) for r in repeats],
            "full_name",
            SAME_AS_ROW,
        )
        rejected: int = await tx.fetchval(
            "SELECT count(*) FROM customer_import_rows WHERE tenant = $1 AND import_id = $2 AND NOT ok",
            tenant,
            iid,
        )
        await tx.execute(
            "UPDATE customer_imports SET status = 'importing', rows_total = $3, rows_rejected = $4,"
            " rows_done = $4, updated_at = now() WHERE tenant = $1 AND id = $2",
            tenant,
            iid,
            reader.count,
            rejected,
        )
    return rejected
