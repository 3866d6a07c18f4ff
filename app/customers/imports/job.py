"""The ``run_customer_import`` job: read the stored file, stage and check its rows, write the
customers set-based in batches, record ownership, report.

States: queued → validating → importing → done, or → failed. At-least-once safe: a session-level
advisory lock per import (on a connection held for the run) lets one runner work at a time; a
finished import is left alone; a run that died while *validating* starts the validation over
(the staged rows are thrown away first); one that died while *importing* carries on with the valid
rows still staged — every batch writes its customers, their grade history, its ownership entries
and the progress and takes its rows out of the staging table in one transaction, so no row is
written twice. A batch is one statement (``sql.WRITE_BATCH``), then the ledger append.

- Validating (reading, checking, staging the rows; duplicates) is ``stage.py``. A duplicate
  of a company owned by another member also leaves a conflict item for the managers of its
  territory, as entering it by hand does.
- ``all_or_nothing``: any bad row fails the import before anything is written, and the writes run
  in *one* transaction (progress is saved from a separate one), so a late surprise — a company
  entered by someone else meanwhile — rolls everything back. ``valid_rows``: one transaction per
  batch; rows that lost such a race are rejected with the duplicate message.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import tempfile
from typing import Any
from uuid import UUID

from app import audit, db, i18n
from app.customers import duplicates, tabular
from app.customers.imports.service import FileProblem, report_key, row_errors
from app.customers.imports.sql import (
    ALREADY_EXISTS,
    BATCH_KEYS,
    DB_DUPLICATE_MESSAGES,
    DB_DUPLICATES,
    REJECT_ROWS,
    WRITE_BATCH,
)
from app.customers.imports.stage import BATCH, stage_and_check
from app.customers.ledger import OwnershipChange
from app.customers.owner_changes import Moves, change_owners
from app.i18n import N_
from app.outbound.events import emit
from app.settings import get_settings
from app.storage import Storage, create_storage
from tenants.scope import MEMBER_SQL, TenantScope

# 100,000 rows take about a minute (a few on a busy machine); all_or_nothing is one transaction, so a
# timeout would only start it over: the worker gives this job far more than its default 300 s.
IMPORT_TIMEOUT_SECONDS = 1800
ROWS_HAVE_ERRORS = N_("{count} rows have errors; nothing was imported")
IMPORTER_GONE = N_("The member who started this import is no longer active")
_storage: Storage | None = None


def job_storage() -> Storage:
    global _storage
    if _storage is None:
        _storage = create_storage(get_settings())
    return _storage


async def run_customer_import(ctx: dict[str, Any], tenant_id: str, import_id: str) -> str:
    """Run (or resume) one import; returns its status, or ``busy`` when another run holds it."""
    tenant, iid = UUID(tenant_id), UUID(import_id)
    lock_key = f"customer-import:{iid}"
    pool = db.DB.pool
    if pool is None:
        raise RuntimeError("the database pool is not started")
    async with pool.acquire() as holder:
        if not await holder.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", lock_key):
            return "busy"
        try:
            return await _run(tenant, iid, job_storage())
        finally:
            await holder.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", lock_key)


async def _run(tenant: UUID, iid: UUID, storage: Storage) -> str:
    async with db.transaction(tenant) as tx:
        imp = await tx.fetchrow("SELECT * FROM customer_imports WHERE tenant = $1 AND id = $2", tenant, iid)
        importer = await tx.fetchrow(
            MEMBER_SQL + " WHERE m.tenant = $1 AND m.id = $2",
            tenant,
            imp["created_by"] if imp else None,
        )
    if imp is None or imp["status"] in ("done", "failed"):
        return imp["status"] if imp else "missing"
    if importer is None or not importer["active"]:
        await _fail(tenant, iid, IMPORTER_GONE, {}, keep_rejected=False)
        return "failed"
    # The job acts for the member who started the import, with their role as it is now.
    scope = TenantScope.for_member(importer, locale=imp["locale"])
    try:
        if imp["status"] in ("queued", "validating"):
            rejected = await stage_and_check(scope, imp, storage)
        else:  # importing: validated by an earlier run
            rejected = imp["rows_rejected"]
        if rejected and imp["mode"] == "all_or_nothing":
            await _write_report(scope, iid, storage)
            await _fail(tenant, iid, ROWS_HAVE_ERRORS, {"count": rejected}, keep_rejected=True)
            return "failed"
        if imp["mode"] == "all_or_nothing":
            lost = await _import_at_once(scope, iid, imp["filename"], imp["pool_id"])
            if lost:
                await _reject_lost(scope, iid, lost)
                await _write_report(scope, iid, storage)
                await _fail(tenant, iid, ROWS_HAVE_ERRORS, {"count": len(lost)}, keep_rejected=True)
                return "failed"
        else:
            await _import_in_batches(scope, iid, imp["filename"], imp["written_through"], imp["pool_id"])
    except FileProblem as problem:
        await _fail(tenant, iid, problem.message, problem.params, keep_rejected=False)
        return "failed"
    await _write_report(scope, iid, storage)
    await _done(scope, iid)
    return "done"


# --- importing -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Written:
    last_row: int | None  # None: no row was left
    lost: list[int]  # valid rows whose company appeared in the database since the check
    owned: list[OwnershipChange]  # the written customers that got an owner, in row order
    imported: int


async def _insert_batch(
    tx: db.Tx, scope: TenantScope, iid: UUID, after: int, pool_id: UUID | None
) -> _Written:
    """Write the next batch of valid rows after row ``after`` (customers, grade entries), one
    statement."""
    tenant = scope.tenant_id
    row = await tx.fetchrow(WRITE_BATCH, tenant, iid, after, BATCH, scope.membership_id, pool_id)
    assert row is not None
    if row["last_row"] is None:
        return _Written(None, [], [], 0)
    ids, owners = row["ids"], row["owners"]
    lost: list[int] = []
    if len(ids) < row["taken"]:
        keys = set(row["keys"])
        staged = await tx.fetch(BATCH_KEYS, tenant, iid, after, row["last_row"])
        lost = [r["row_no"] for r in staged if r["identity_key"] not in keys]
    owned = [OwnershipChange(c, None, o) for c, o in zip(ids, owners, strict=True) if o is not None]
    into_pool = [  # their webhook events (owned ones get theirs with the ledger entries)
        {
            "customer_id": c,
            "from_owner": None,
            "to_owner": None,
            "cause": "import",
            "actor": scope.membership_id,
        }
        for c, o in zip(ids, owners, strict=True)
        if o is None
    ]
    await emit(tx, "customer.created", into_pool)
    return _Written(row["last_row"], lost, owned, len(ids))


async def _ownership(
    tx: db.Tx, scope: TenantScope, iid: UUID, changes: list[OwnershipChange], filename: str
) -> None:
    """The ledger entries (cause import): the last statement of its transaction (it takes the
    tenant's ledger lock until commit)."""
    reason = f"import {iid}: {filename}"[:500]
    await change_owners(tx, scope, Moves.listed(changes), cause="import", reason=reason, created=True)


async def _progress(tx: db.Tx, scope: TenantScope, iid: UUID, imported: int, through: int) -> None:
    """Count ``imported`` more written rows, written through row ``through`` (in the transaction that
    wrote them)."""
    await tx.execute(
        "UPDATE customer_imports SET rows_imported = rows_imported + $3, written_through = $4,"
        " rows_done = rows_rejected + rows_imported + $3, updated_at = now() WHERE tenant = $1 AND id = $2",
        scope.tenant_id,
        iid,
        imported,
        through,
    )


async def _import_in_batches(
    scope: TenantScope, iid: UUID, filename: str, after: int, pool_id: UUID | None
) -> None:
    """``valid_rows``: one transaction per batch, from the row after ``after`` (where an earlier run
    got); a row that lost a race is rejected in it."""
    while True:
        async with scope.tx() as tx:
            batch = await _insert_batch(tx, scope, iid, after, pool_id)
            if batch.last_row is None:
                return
            if batch.lost:
                await _mark_lost(tx, scope, iid, batch.lost)
            await _progress(tx, scope, iid, batch.imported, batch.last_row)
            await _ownership(tx, scope, iid, batch.owned, filename)
        after = batch.last_row


async def _import_at_once(scope: TenantScope, iid: UUID, filename: str, pool_id: UUID | None) -> list[int]:
    """``all_or_nothing``: every batch in one transaction; returns the rows that lost a race (then
    nothing was written)."""
    after, imported = 0, 0
    owned: list[OwnershipChange] = []
    try:
        async with scope.tx() as tx:
            while True:
                batch = await _insert_batch(tx, scope, iid, after, pool_id)
                if batch.last_row is None:
                    break
                if batch.lost:
                    raise _Lost(batch.lost)
                after, imported = batch.last_row, imported + batch.imported
                owned += batch.owned
                await _aside(_save_done(scope.tenant_id, iid, imported))
            await _progress(tx, scope, iid, imported, after)
            await _ownership(tx, scope, iid, owned, filename)
    except _Lost as lost:
        return lost.rows
    return []


class _Lost(Exception):
    def __init__(self, rows: list[int]) -> None:
        super().__init__(f"{len(rows)} rows lost a race")
        self.rows = rows


async def _aside(coro: Any) -> None:
    """Run ``coro`` in a fresh context: its ``db.transaction`` is its own, not the one open here."""
    await asyncio.create_task(coro, context=contextvars.Context())


async def _save_done(tenant: UUID, iid: UUID, imported: int) -> None:
    async with db.transaction(tenant) as tx:
        await tx.execute(
            "UPDATE customer_imports SET rows_done = rows_rejected + $3, updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            tenant,
            iid,
            imported,
        )


async def _mark_lost(tx: db.Tx, scope: TenantScope, iid: UUID, rows: list[int]) -> None:
    """Reject rows whose company was entered by someone else after the check."""
    found = await tx.fetch(
        DB_DUPLICATES, scope.tenant_id, iid, scope.membership_id, rows, *DB_DUPLICATE_MESSAGES
    )
    await duplicates.tell_import_conflicts(tx, scope, iid, [r["territory_id"] for r in found])
    left = await tx.fetch(
        "SELECT row_no FROM customer_import_rows WHERE tenant = $1 AND import_id = $2 AND ok"
        " AND row_no = ANY($3::int[])",
        scope.tenant_id,
        iid,
        rows,
    )
    leftover = [r["row_no"] for r in left]
    await tx.execute(
        REJECT_ROWS, scope.tenant_id, iid, leftover, ["{}"] * len(leftover), "full_name", ALREADY_EXISTS
    )
    await tx.execute(
        "UPDATE customer_imports i SET rows_rejected = s.rejected, updated_at = now()"
        " FROM (SELECT count(*) AS rejected FROM customer_import_rows WHERE tenant = $1 AND import_id = $2"
        " AND NOT ok) s WHERE i.tenant = $1 AND i.id = $2",
        scope.tenant_id,
        iid,
    )


async def _reject_lost(scope: TenantScope, iid: UUID, rows: list[int]) -> None:
    async with scope.tx() as tx:
        await _mark_lost(tx, scope, iid, rows)


# --- finishing ---------------------------------------------------------------------------------------


async def _write_report(scope: TenantScope, iid: UUID, storage: Storage) -> None:
    """The row report as CSV in the importer's language (fixed key: a rerun overwrites it), written
    a page of refused rows at a time to a temporary file, then stored from it."""
    async with scope.tx() as tx:
        imp = await tx.fetchrow(
            "SELECT columns FROM customer_imports WHERE tenant = $1 AND id = $2", scope.tenant_id, iid
        )
    if imp is None:
        return
    columns = imp["columns"] if isinstance(imp["columns"], dict) else json.loads(imp["columns"])
    header = [i18n.translate(scope.locale, m) for m in (N_("Row"), N_("Column"), N_("Problem"))]
    after = 0
    with tempfile.TemporaryFile() as out:
        while True:
            async with scope.tx() as tx:
                rows = await tx.fetch(
                    "SELECT row_no, errors FROM customer_import_rows WHERE tenant = $1 AND import_id = $2"
                    " AND NOT ok AND row_no > $3 ORDER BY row_no LIMIT $4",
                    scope.tenant_id,
                    iid,
                    after,
                    BATCH,
                )
            if not rows:
                break
            lines = ([e.row, e.column, e.message] for e in row_errors(rows, columns, scope.locale))
            out.write(tabular.csv_bytes([header, *lines] if after == 0 else lines, bom=after == 0))
            after = rows[-1]["row_no"]
        if after == 0:
            return
        out.seek(0)
        key = report_key(scope.tenant_id, iid)
        await storage.upload(key, out, tabular.CONTENT_TYPES["csv"])
    async with scope.tx() as tx:
        await tx.execute(
            "UPDATE customer_imports SET report_key = $3 WHERE tenant = $1 AND id = $2",
            scope.tenant_id,
            iid,
            key,
        )


async def _done(scope: TenantScope, iid: UUID) -> None:
    async with scope.tx() as tx:
        row = await tx.fetchrow(
            "UPDATE customer_imports SET status = 'done', rows_done = coalesce(rows_total, rows_done),"
            " finished_at = now(), updated_at = now() WHERE tenant = $1 AND id = $2"
            " RETURNING rows_imported, rows_rejected, filename",
            scope.tenant_id,
            iid,
        )
        await tx.execute(
            "DELETE FROM customer_import_rows WHERE tenant = $1 AND import_id = $2 AND ok",
            scope.tenant_id,
            iid,
        )
        assert row is not None
        await audit.record(tx, scope.user_id, "customers.imported", "customer_import", iid, data=dict(row))


async def _fail(
    tenant: UUID, iid: UUID, message: str, params: dict[str, Any], *, keep_rejected: bool
) -> None:
    async with db.transaction(tenant) as tx:
        await tx.execute(
            "DELETE FROM customer_import_rows WHERE tenant = $1 AND import_id = $2"
            + (" AND ok" if keep_rejected else ""),
            tenant,
            iid,
        )
        await tx.execute(
            "UPDATE customer_imports SET status = 'failed', error = $3, error_params = $4::jsonb,"
            " rows_imported = 0, rows_done = coalesce(rows_total, rows_done), finished_at = now(),"
            " updated_at = now()"
            " WHERE tenant = $1 AND id = $2",
            tenant,
            iid,
            message,
            json.dumps(params),
        )
