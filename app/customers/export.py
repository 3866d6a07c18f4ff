"""Exporting the customers a member may see, with the customer list's filters, as CSV or XLSX.

The columns are the import's (``import_columns.FIELDS``), headed in the member's language, so an
exported file imports again unchanged: the territory as its path of names (``上海市/浦东新区``),
the owner as an email — or ``公海``/``pool`` for the pool, so the importer's default owner does not
apply — and sources, IT status and status as labels in the member's language. CSV is streamed
(UTF-8 with BOM, read from a server-side cursor 1,000 rows at a time); XLSX is built in a thread
(openpyxl ``write_only``) and sent whole. Spreadsheet formula injection is neutralised as
``tabular`` describes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

import asyncpg

from app.customers import tabular
from app.customers.imports import columns as import_columns
from app.customers.masking import masks_for
from app.customers.search import check_filters, list_conditions
from app.db import Tx
from app.errors import ValidationFailed
from app.sql import Params
from tenants.scope import TenantScope

_SQL = (  # {tax_id}, {phone}, {address}: as the exporting member may see them (``masking``)
    "SELECT c.full_name, c.short_name, {tax_id}, {phone}, {address}, c.industry, c.size_revenue_band,"
    " c.headcount, c.it_status, c.current_software, c.source, c.referrer, c.grade, c.status, c.territory_id,"
    " u.email AS owner_email FROM customers c"
    " LEFT JOIN memberships m ON m.tenant = c.tenant AND m.id = c.owner_membership_id"
    " LEFT JOIN users u ON u.id = m.user_id"
)
_FETCH = 1000


@dataclass(frozen=True)
class ExportFilters:
    territory_id: UUID | None = None
    grade: str | None = None
    status: str | None = None
    owner: str | None = None
    q: str | None = None
    source: str | None = None
    followup_before: datetime | None = None
    cross_territory: bool | None = None
    pool_id: UUID | None = None  # the customers in this pool now (its admins export it)


@dataclass(frozen=True)
class ExportFile:
    content_type: str
    disposition: str
    body: bytes | AsyncIterator[bytes]


def _disposition(locale: str, fmt: str) -> str:
    name = ("客户" if locale == "zh-CN" else "customers") + "." + fmt
    return f"attachment; filename=\"customers.{fmt}\"; filename*=UTF-8''{quote(name)}"


def _row(record: asyncpg.Record, paths: dict[UUID, str], locale: str) -> list[Any]:
    pool = "公海" if locale == "zh-CN" else "pool"
    return [
        record["full_name"],
        record["short_name"],
        record["tax_id"],
        record["phone"],
        record["address"],
        record["industry"],
        record["size_revenue_band"],
        record["headcount"],
        import_columns.label("it_status", record["it_status"], locale),
        record["current_software"],
        import_columns.label("source", record["source"], locale),
        record["referrer"],
        record["grade"],
        import_columns.label("status", record["status"], locale),
        paths.get(record["territory_id"], ""),
        record["owner_email"] or pool,
    ]


async def _query(
    tx: Tx, scope: TenantScope, filters: ExportFilters
) -> tuple[str, list[Any], dict[UUID, str]]:
    p = Params(scope.tenant_id)
    where = await list_conditions(
        tx,
        scope,
        p,
        territory_id=filters.territory_id,
        grade=filters.grade,
        status=filters.status,
        owner=filters.owner,
        q=filters.q,
        source=filters.source,
        followup_before=filters.followup_before,
        cross_territory=filters.cross_territory,
    )
    if filters.pool_id is not None:
        where.append(
            f"c.pool_id = {p(filters.pool_id)} AND c.owner_membership_id IS NULL"
            " AND c.status IN ('prospect', 'lost')"
        )
    rows = await tx.fetch("SELECT id, parent_id, name FROM territories WHERE tenant = $1", scope.tenant_id)
    paths = import_columns.TerritoryIndex.build((r["id"], r["parent_id"], r["name"]) for r in rows).paths
    masks = await masks_for(tx, scope)
    shown = {name: masks.column(p, name) for name in ("tax_id", "phone", "address")}
    sql = _SQL.format(**shown) + " WHERE " + " AND ".join(where) + " ORDER BY c.created_at DESC, c.id DESC"
    return sql, p.values, paths


async def _csv(scope: TenantScope, filters: ExportFilters) -> AsyncIterator[bytes]:
    yield tabular.csv_bytes([import_columns.headers(scope.locale)], bom=True)
    async with scope.tx() as tx:
        sql, values, paths = await _query(tx, scope, filters)
        batch: list[list[Any]] = []
        async for record in tx.connection.cursor(sql, *values, prefetch=_FETCH):
            batch.append(_row(record, paths, scope.locale))
            if len(batch) >= _FETCH:
                yield tabular.csv_bytes(batch)
                batch = []
        if batch:
            yield tabular.csv_bytes(batch)


async def export_customers(scope: TenantScope, fmt: str, filters: ExportFilters) -> ExportFile:
    """The file; 422 for an unknown format or a bad filter (checked before anything is sent)."""
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed.field("format", "Use csv or xlsx")
    check_filters(grade=filters.grade, status=filters.status)
    async with scope.tx() as tx:
        sql, values, paths = await _query(tx, scope, filters)  # also raises for a bad owner filter
        if fmt == "xlsx":
            rows = [_row(r, paths, scope.locale) for r in await tx.fetch(sql, *values)]
    disposition = _disposition(scope.locale, fmt)
    if fmt == "csv":
        return ExportFile(tabular.CONTENT_TYPES["csv"], disposition, _csv(scope, filters))
    title = "客户" if scope.locale == "zh-CN" else "Customers"
    body = await asyncio.to_thread(tabular.xlsx_bytes, import_columns.headers(scope.locale), rows, title)
    return ExportFile(tabular.CONTENT_TYPES["xlsx"], disposition, body)
