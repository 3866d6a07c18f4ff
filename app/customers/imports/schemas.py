"""Schemas of customer imports (the import itself, its row report)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

ImportMode = Literal["all_or_nothing", "valid_rows"]
DefaultOwner = Literal["me", "pool"]
ImportStatus = Literal["queued", "validating", "importing", "done", "failed"]


class ImportRowError(msgspec.Struct):
    """One problem of one row: ``row`` is the row number as a spreadsheet shows it (the header is
    row 1 when it is the first line), ``column`` the header as written in the file (or the field's
    usual name when the file has no such column), ``field`` the customer field."""

    row: int
    column: str
    field: str
    message: str


class ImportRead(msgspec.Struct):
    """An import and its progress. ``rows_total`` is null until the file has been read through; while
    ``validating``, ``rows_done`` counts rows read and checked; while ``importing`` it counts rows
    written or rejected, up to ``rows_total``. ``errors`` is the first page of the row report
    (more with ``errors_next_cursor`` on ``/imports/{id}/errors``); ``report_url`` downloads the
    whole report as CSV once the import has finished with rejected rows; ``error`` is a file-level
    problem (the import failed). ``pool_id``: the pool the customers go into (null: each one's
    territory's pool)."""

    id: UUID
    filename: str
    format: str
    mode: str
    default_owner: str
    default_territory_id: UUID | None
    pool_id: UUID | None
    status: str
    rows_total: int | None
    rows_done: int
    rows_imported: int
    rows_rejected: int
    ignored_columns: list[str]
    error: str | None
    errors: list[ImportRowError]
    errors_next_cursor: str | None
    report_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
