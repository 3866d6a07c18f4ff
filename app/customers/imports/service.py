"""Customer imports, the API side: accept a file, report on an import.

Upload: the file is checked (size, CSV or XLSX by content, a full-name column, at least one data row,
a CSV's row count) and stored in object storage under a key fixed by the import id *before* the import row and
its job are written (one transaction, the outbox). The ``run_customer_import`` job
(``job.py``) then reads it. An import is seen by the member who started it and by
owners/admins; for anyone else, and for another tenant's id, it is 404.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from app import i18n, outbox
from app.customers import tabular
from app.customers.imports import columns as import_columns
from app.customers.imports.schemas import ImportRead, ImportRowError
from app.customers.pool.pools import POOL_SELECT
from app.errors import Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.pagination import Page, check_limit, decode_cursor, encode_cursor
from app.rows import to_struct
from app.storage import Storage
from tenants.access import customer_access
from tenants.scope import TenantScope

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
MODES = ("all_or_nothing", "valid_rows")
OWNERS = ("me", "pool")
JOB = "run_customer_import"

NO_FULL_NAME = N_("The file has no full name column (e.g. 客户全称 or full_name)")
NO_DATA = N_("The file has no data rows")
TOO_MANY_ROWS = N_("The file has more than {max} rows")
NOT_SPREADSHEET = N_("Upload a CSV or XLSX file")
BAD_TEXT = N_("The text of this file is neither UTF-8 nor GBK/GB18030")


def source_key(tenant_id: UUID, import_id: UUID) -> str:
    return f"tenants/{tenant_id}/customer-imports/{import_id}/source"


def report_key(tenant_id: UUID, import_id: UUID) -> str:
    return f"tenants/{tenant_id}/customer-imports/{import_id}/report.csv"


class FileProblem(Exception):
    """The whole file is unusable: a message id and its parameters."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def check_file(
    fmt: tabular.Format, data: bytes, max_rows: int = MAX_ROWS, mapping: dict[str, str] | None = None
) -> import_columns.HeaderMap:
    """The header (the first row with text), checked: a full-name column, at least one data row after
    it, and no more rows than the limit (a workbook whose ``<dimension>`` already says it is within
    the limit is not counted). ``mapping``: the columns as chosen (see ``map_headers``). Raises
    :class:`FileProblem`."""
    header: import_columns.HeaderMap | None = None
    count = 0
    bound = tabular.xlsx_max_row(data) if fmt == "xlsx" else None
    small = bound is not None and bound <= max_rows + 1
    try:
        for cells in tabular.read_rows(fmt, io.BytesIO(data)):
            if not any(cells):
                continue
            if header is None:
                header = import_columns.map_headers(cells, mapping)
                if "full_name" not in header.names:
                    raise FileProblem(NO_FULL_NAME)
                continue
            count += 1
            if small:
                break
            if count > max_rows:
                raise FileProblem(TOO_MANY_ROWS, max=max_rows)
    except tabular.UnreadableText:
        raise FileProblem(BAD_TEXT) from None
    except tabular.NotSpreadsheet:
        raise FileProblem(NOT_SPREADSHEET) from None
    if header is None or not count:
        raise FileProblem(NO_DATA)
    return header


async def create_import(
    scope: TenantScope,
    storage: Storage,
    *,
    filename: str,
    data: bytes,
    mode: str = "all_or_nothing",
    default_owner: str = "me",
    default_territory_id: UUID | None = None,
    mapping: dict[str, str] | None = None,
    pool_id: UUID | None = None,
) -> ImportRead:
    """Check the file and the options, store the file, queue the job; 422 for a bad file or option,
    403 for a default territory the member may not add customers in. ``mapping`` (header as written
    → field, ``""``: ignore the column) overrides the headers' usual names; the job reads the file
    with the columns stored here. ``pool_id``: the pool the customers go into (a pool the member
    administers; 422 for an unknown one, 403 for another), else each row's territory's pool."""
    if mode not in MODES:
        raise ValidationFailed.field("mode", "Use all_or_nothing or valid_rows")
    if default_owner not in OWNERS:
        raise ValidationFailed.field("default_owner", "Use me or pool")
    if not data:
        raise ValidationFailed.field("file", "The file is empty")
    if len(data) > MAX_BYTES:
        raise ValidationFailed.field(
            "file", "The file is larger than {max} MB", max=MAX_BYTES // 1024 // 1024
        )
    try:
        fmt = tabular.sniff_format(data)
    except tabular.NotSpreadsheet:
        raise ValidationFailed.field("file", NOT_SPREADSHEET) from None
    try:
        header = await asyncio.to_thread(check_file, fmt, data, MAX_ROWS, mapping)
    except FileProblem as problem:
        raise ValidationFailed(
            extra={"errors": [{"field": "file", "message": problem.message, "params": problem.params}]}
        ) from None
    if scope.membership_id is None:
        raise Forbidden("Only members can import customers")
    if default_territory_id is not None:
        async with scope.tx() as tx:
            if not await tx.fetchval(
                "SELECT 1 FROM territories WHERE tenant = $1 AND id = $2",
                scope.tenant_id,
                default_territory_id,
            ):
                raise ValidationFailed.field("default_territory_id", "No territory with this id")
            if not (await customer_access(tx, scope)).may_add_in(default_territory_id):
                raise Forbidden("You can enter customers only in your own territories")
    if pool_id is not None:
        async with scope.tx() as tx:
            if not await tx.fetchval(
                "SELECT 1 FROM pools WHERE tenant = $1 AND id = $2", scope.tenant_id, pool_id
            ):
                raise ValidationFailed.field("pool_id", "No pool with this id")
            if not (await customer_access(tx, scope)).administers(pool_id):
                raise Forbidden("Only an admin of this pool can import into it")
    import_id = uuid4()
    key = source_key(scope.tenant_id, import_id)
    await storage.put(key, data, tabular.CONTENT_TYPES[fmt])
    async with scope.tx() as tx:
        await tx.execute(
            "INSERT INTO customer_imports (tenant, id, created_by, locale, filename, file_format, size_bytes,"
            " storage_key, mode, default_owner, default_territory_id, columns, ignored_columns, pool_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14)",
            scope.tenant_id,
            import_id,
            scope.membership_id,
            scope.locale,
            (filename or "import")[:255],
            fmt,
            len(data),
            key,
            mode,
            default_owner,
            default_territory_id,
            json.dumps(header.names),
            json.dumps(header.ignored),
            pool_id,
        )
        await outbox.add_job(tx, JOB, scope.tenant_id, import_id, key=str(import_id))
        row = await _load(tx, scope, import_id)
    return await _read(scope, storage, row, [], None)


async def import_pools(scope: TenantScope) -> list[tuple[UUID, str]]:
    """The pools the member may import into (those they administer), as ``(id, name)``."""
    async with scope.tx() as tx:
        access = await customer_access(tx, scope)
        rows = await tx.fetch(
            POOL_SELECT
            + " WHERE p.tenant = $1 ORDER BY p.territory_id IS NULL, coalesce(p.name, t.name), p.id",
            scope.tenant_id,
        )
    return [(r["id"], r["name"]) for r in rows if access.administers(r["id"])]


def stored_mapping(imp: asyncpg.Record) -> dict[str, str]:
    """The columns an import was started with, as a mapping for ``map_headers``."""
    columns = imp["columns"] if isinstance(imp["columns"], dict) else json.loads(imp["columns"])
    ignored = imp["ignored_columns"]
    ignored = ignored if isinstance(ignored, list) else json.loads(ignored)
    return {**dict.fromkeys(ignored, ""), **{header: field for field, header in columns.items()}}


def read_header(data: bytes) -> list[str]:
    """The headers of a file (its first row with text), for choosing the columns. 422 for a file
    that is not a spreadsheet or has no header."""
    try:
        fmt = tabular.sniff_format(data)
        for cells in tabular.read_rows(fmt, io.BytesIO(data)):
            if any(cells):
                return [(c or "").strip() for c in cells]
    except tabular.UnreadableText:
        raise ValidationFailed.field("file", BAD_TEXT) from None
    except tabular.NotSpreadsheet:
        raise ValidationFailed.field("file", NOT_SPREADSHEET) from None
    raise ValidationFailed.field("file", NO_DATA)


async def remembered_mapping(scope: TenantScope, limit: int = 20) -> dict[str, str]:
    """The columns as the member chose them in their recent imports (header → field, ``""``:
    ignored), the newest choice winning: the next file with the same headers maps the same way."""
    async with scope.tx() as tx:
        rows = await tx.fetch(
            "SELECT columns, ignored_columns FROM customer_imports WHERE tenant = $1 AND created_by = $2"
            " ORDER BY created_at DESC LIMIT $3",
            scope.tenant_id,
            scope.membership_id,
            limit,
        )
    remembered: dict[str, str] = {}
    for row in reversed(rows):
        remembered.update(stored_mapping(row))
    return remembered


# --- reading ------------------------------------------------------------------------------------------


async def _load(tx: Any, scope: TenantScope, import_id: UUID) -> asyncpg.Record:
    """The import if the member may see it (its creator, owners and admins), else 404."""
    row = await tx.fetchrow(
        "SELECT * FROM customer_imports WHERE tenant = $1 AND id = $2 AND ($3 OR created_by = $4)",
        scope.tenant_id,
        import_id,
        scope.at_least("admin"),
        scope.membership_id,
    )
    if row is None:
        raise NotFound("No import with this id")
    return row


def column_name(columns: dict[str, str], field: str, locale: str) -> str:
    """The header the file used for ``field``, else its usual header in ``locale``."""
    if field in columns:
        return columns[field]
    if field in import_columns.FIELDS:
        return import_columns.headers(locale)[import_columns.FIELDS.index(field)]
    return field


def row_errors(rows: list[asyncpg.Record], columns: dict[str, str], locale: str) -> list[ImportRowError]:
    items: list[ImportRowError] = []
    for row in rows:
        errors = row["errors"] if isinstance(row["errors"], list) else json.loads(row["errors"])
        for error in errors:
            items.append(
                ImportRowError(
                    row=row["row_no"],
                    column=column_name(columns, error["field"], locale),
                    field=error["field"],
                    message=i18n.translate(locale, error["message"], **error.get("params", {})),
                )
            )
    return items


async def _error_page(
    tx: Any, scope: TenantScope, row: asyncpg.Record, limit: int, after: int
) -> tuple[list[ImportRowError], str | None]:
    rows = await tx.fetch(
        "SELECT row_no, errors FROM customer_import_rows WHERE tenant = $1 AND import_id = $2 AND NOT ok"
        " AND row_no > $3 ORDER BY row_no LIMIT $4",
        scope.tenant_id,
        row["id"],
        after,
        limit + 1,
    )
    columns = row["columns"] if isinstance(row["columns"], dict) else json.loads(row["columns"])
    page = rows[:limit]
    more = len(rows) > limit
    return row_errors(page, columns, scope.locale), encode_cursor(page[-1]["row_no"]) if more else None


async def _read(
    scope: TenantScope,
    storage: Storage,
    row: asyncpg.Record,
    errors: list[ImportRowError],
    cursor: str | None,
) -> ImportRead:
    error = row["error"]
    params = row["error_params"]
    if isinstance(params, str):
        params = json.loads(params)
    ignored = row["ignored_columns"]
    return to_struct(
        ImportRead,
        row,
        format=row["file_format"],
        ignored_columns=ignored if isinstance(ignored, list) else json.loads(ignored),
        error=i18n.translate(scope.locale, error, **(params or {})) if error else None,
        errors=errors,
        errors_next_cursor=cursor,
        report_url=await storage.presigned_get(row["report_key"], filename="import-report.csv")
        if row["report_key"]
        else None,
    )


async def get_import(
    scope: TenantScope, storage: Storage, import_id: UUID, errors_limit: int = 50
) -> ImportRead:
    check_limit(errors_limit)
    async with scope.tx() as tx:
        row = await _load(tx, scope, import_id)
        errors, cursor = await _error_page(tx, scope, row, errors_limit, 0)
    return await _read(scope, storage, row, errors, cursor)


async def list_import_errors(
    scope: TenantScope, import_id: UUID, *, limit: int = 50, cursor: str | None = None
) -> Page[ImportRowError]:
    """The row report, in row order; a page holds every problem of up to ``limit`` rows."""
    check_limit(limit)
    after = decode_cursor(cursor, 1)
    try:
        after_row = int(after[0]) if after else 0
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None
    async with scope.tx() as tx:
        row = await _load(tx, scope, import_id)
        items, next_cursor = await _error_page(tx, scope, row, limit, after_row)
    return Page(items=items, next_cursor=next_cursor)
