"""The refused rows of a finished import as a file to fix and upload again: the file's own header and
cells of every refused row, as uploaded, with one more column saying what is wrong with it.

Read from the stored upload (rows are numbered as ``stage`` numbers them: every row of the file counts,
blank ones included) and the staged rows the import kept for its report. Seen by whoever may see the
import (``service._load``): another member's or tenant's import is 404.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from typing import IO
from uuid import UUID

from app import i18n
from app.customers import tabular
from app.customers.imports import service
from app.errors import Conflict
from app.i18n import N_
from app.storage import Storage
from tenants.scope import TenantScope

PROBLEM = N_("What to fix")
NOT_FINISHED = N_("The import has not finished yet")


def _pick(fmt: tabular.Format, source: IO[bytes], problems: dict[int, str], problem_header: str) -> bytes:
    out: list[list[object]] = []
    number = 0
    header_done = False
    for cells in tabular.read_rows(fmt, source):
        number += 1
        if not header_done:
            if any(cells):
                out.append([*(c or "" for c in cells), problem_header])
                header_done = True
            continue
        if number in problems:
            out.append([*(tabular.unneutralize(c) if c else "" for c in cells), problems[number]])
    return tabular.csv_bytes([[str(v) for v in row] for row in out], bom=True)


async def refused_rows(scope: TenantScope, storage: Storage, import_id: UUID) -> tuple[str, bytes]:
    """``(file name, CSV bytes)`` of the refused rows; 409 while the import runs."""
    async with scope.tx() as tx:
        imp = await service._load(tx, scope, import_id)
        if imp["status"] not in ("done", "failed"):
            raise Conflict(NOT_FINISHED)
        rows = await tx.fetch(
            "SELECT row_no, errors FROM customer_import_rows WHERE tenant = $1 AND import_id = $2 AND NOT ok"
            " ORDER BY row_no",
            scope.tenant_id,
            import_id,
        )
    columns = imp["columns"] if isinstance(imp["columns"], dict) else json.loads(imp["columns"])
    problems: dict[int, list[str]] = {}
    for error in service.row_errors(rows, columns, scope.locale):
        problems.setdefault(error.row, []).append(f"{error.column}: {error.message}")
    with tempfile.TemporaryFile() as source:  # the upload is read from disk, row by row
        await storage.download(imp["storage_key"], source)
        source.seek(0)
        body = await asyncio.to_thread(
            _pick,
            imp["file_format"],
            source,
            {row: "; ".join(texts) for row, texts in problems.items()},
            i18n.translate(scope.locale, PROBLEM),
        )
    stem = (imp["filename"] or "import").rsplit(".", 1)[0]
    return f"{stem}-{i18n.translate(scope.locale, N_('to fix'))}.csv", body
