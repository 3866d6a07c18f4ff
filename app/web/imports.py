"""Importing customers (``/customers/import``): upload a CSV (UTF-8 or GBK) or XLSX, map its columns
(each header preset from the member's earlier choices, else from its usual names), start the import;
a progress bar follows the job (htmx polls ``/customers/imports/{id}`` every second until it is done),
then the row report: rows imported, each refused row with its reason, the refused rows as a file to
fix and upload again. Export links download the visible customers.

The import is the API's (``create_import`` with the chosen columns, ``get_import``,
``list_import_errors``) and runs in the worker; ``refused_rows`` writes the file to fix. Another
member's or tenant's import is their 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers.imports import columns as import_columns
from app.customers.imports import service as imports
from app.customers.imports.refused import refused_rows
from app.errors import ValidationFailed
from app.i18n import N_
from app.storage import Storage
from app.territories.service import list_territories
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

FIELDS = {
    "full_name": N_("Full name"),
    "short_name": N_("Short name"),
    "tax_id": N_("Unified social credit code"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "industry": N_("Industry"),
    "size_revenue_band": N_("Revenue band"),
    "headcount": N_("Headcount"),
    "it_status": N_("IT status"),
    "current_software": N_("Current software"),
    "source": N_("Source"),
    "referrer": N_("Referrer"),
    "grade": N_("Grade"),
    "status": N_("Status"),
    "territory": N_("Territory"),
    "owner": N_("Owner"),
}
STATUSES = {
    "queued": N_("Waiting for the worker…"),
    "validating": N_("Checking the rows…"),
    "importing": N_("Importing…"),
    "done": N_("Done"),
    "failed": N_("Failed"),
}
ERRORS_PAGE = 50


def _storage(request: Request[Any, Any, Any]) -> Storage:
    store: Storage = request.app.state.storage
    return store


async def _upload(form: Any) -> tuple[str, bytes]:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise ValidationFailed.field("file", "Choose a CSV or XLSX file")
    return file.filename, await file.read(imports.MAX_BYTES + 1)


@get("/customers/import")
async def import_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    territories = (await list_territories(tenant_scope, limit=200)).items
    pools = await imports.import_pools(tenant_scope)
    return await render(request, tenant_scope, "app/import.html", territories=territories, pools=pools)


@post("/customers/import/columns", request_max_body_size=imports.MAX_BYTES + 1024 * 1024)
async def map_columns(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The chosen file's headers, each with its field preset (the member's earlier choice for that
    header, else its usual name): the mapping step of the form."""
    _, data = await _upload(await request.form())
    headers = imports.read_header(data)
    remembered = await imports.remembered_mapping(tenant_scope)
    rows = []
    for position, header in enumerate(headers):
        if not header:
            continue
        guess = import_columns.guess_field(header)
        chosen = remembered.get(header, guess or "")
        rows.append(
            {"position": position, "header": header, "field": chosen, "remembered": header in remembered}
        )
    return await render(request, tenant_scope, "app/_import_columns.html", rows=rows, fields=FIELDS)


def _mapping(form: Any) -> dict[str, str] | None:
    """``header:<n>`` / ``field:<n>`` pairs of the mapping step (none: the usual names)."""
    mapping: dict[str, str] = {}
    for key in form:
        if key.startswith("header:"):
            header = str(form.get(key) or "").strip()
            field = str(form.get("field:" + key.split(":", 1)[1]) or "")
            if field and field not in FIELDS:
                raise ValidationFailed.field("mapping", "Unknown field")
            if header:
                mapping[header] = field
    chosen = [f for f in mapping.values() if f]
    if len(chosen) != len(set(chosen)):
        raise ValidationFailed.field("mapping", "Each field can come from one column only")
    return mapping or None


def _form_id(form: Any, name: str) -> UUID | None:
    value = str(form.get(name) or "").strip()
    try:
        return UUID(value) if value else None
    except ValueError:
        raise ValidationFailed.field(name, "This is not a valid id") from None


@post("/customers/import", request_max_body_size=imports.MAX_BYTES + 1024 * 1024)
async def start(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    form = await request.form()
    filename, data = await _upload(form)
    default_territory = _form_id(form, "default_territory_id")
    pool_id = _form_id(form, "pool_id")
    started = await imports.create_import(
        tenant_scope,
        _storage(request),
        filename=filename,
        data=data,
        mode=str(form.get("mode") or "valid_rows"),
        default_owner=str(form.get("default_owner") or "me"),
        default_territory_id=default_territory,
        mapping=_mapping(form),
        pool_id=pool_id,
    )
    return await render(
        request, tenant_scope, "app/_import_progress.html", job=started, statuses=STATUSES, oob=True
    )


@get("/customers/imports/{import_id:uuid}")
async def progress(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], import_id: FromPath[UUID]
) -> Template:
    """The import's state: the progress (htmx polls it while it runs), then the row report."""
    job = await imports.get_import(tenant_scope, _storage(request), import_id, ERRORS_PAGE)
    template = "app/_import_progress.html" if is_htmx(request) else "app/import_job.html"
    return await render(request, tenant_scope, template, job=job, statuses=STATUSES)


@get("/customers/imports/{import_id:uuid}/errors")
async def more_errors(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], import_id: FromPath[UUID]
) -> Template:
    page = await imports.list_import_errors(
        tenant_scope, import_id, limit=ERRORS_PAGE, cursor=request.query_params.get("cursor") or None
    )
    return await render(
        request,
        tenant_scope,
        "app/_import_errors.html",
        errors=page.items,
        more=page.next_cursor,
        import_id=import_id,
    )


@get("/customers/imports/{import_id:uuid}/refused.csv")
async def refused(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], import_id: FromPath[UUID]
) -> Response[bytes]:
    """The refused rows as uploaded, with what to fix: correct them and upload the file again."""
    name, body = await refused_rows(tenant_scope, _storage(request), import_id)
    return Response(
        body,
        media_type="text/csv",
        headers={
            "content-disposition": f"attachment; filename=\"refused.csv\"; filename*=UTF-8''{quote(name)}"
        },
    )


ROUTER = Router(
    path="/",
    route_handlers=[import_page, map_columns, start, progress, more_errors, refused],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
