"""HTTP routes for importing and exporting customers. Thin: parse, call one service, return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED

from app.customers import export, tabular
from app.customers.imports import service as imports
from app.customers.imports.schemas import ImportRead, ImportRowError
from app.errors import ValidationFailed
from app.openapi import file_operation
from app.pagination import PAGED, Page, PageParams, page_name
from app.storage import Storage
from tenants.scope import SCOPED, TenantScope

# The OpenAPI component names of these pages were fixed while the item types lived in
# ``import_schemas``; they are part of the API, so they stay as they were.
_WAS = "app.customers.import_schemas"
ImportErrorPage = Annotated[Page[ImportRowError], page_name(_WAS, ImportRowError)]


@dataclass
class ImportUpload:
    file: UploadFile
    mode: str = "all_or_nothing"
    default_owner: str = "me"
    default_territory_id: str | None = None
    pool_id: str | None = None


def _storage(request: Request[Any, Any, Any]) -> Storage:
    store: Storage = request.app.state.storage
    return store


def _uuid_or_none(name: str, value: str | None) -> UUID | None:
    if value is None or not value.strip():
        return None
    try:
        return UUID(value.strip())
    except ValueError:
        raise ValidationFailed.field(name, "This is not a valid id") from None


class CustomerImportController(Controller):
    path = "/api/v1/customers"
    tags = ("customers",)
    dependencies = SCOPED

    # The body limit sits above the file limit so an oversized file gets our 422, not a bare 413.
    @post(
        "/import",
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=imports.MAX_BYTES + 1024 * 1024,
        summary="Import customers from CSV or XLSX (multipart: file, mode, default_owner,"
        " default_territory_id, pool_id); poll the import",
    )
    async def start_import(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ImportRead:
        content = await data.file.read(imports.MAX_BYTES + 1)
        return await imports.create_import(
            tenant_scope,
            _storage(request),
            filename=data.file.filename or "",
            data=content,
            mode=data.mode,
            default_owner=data.default_owner,
            default_territory_id=_uuid_or_none("default_territory_id", data.default_territory_id),
            pool_id=_uuid_or_none("pool_id", data.pool_id),
        )

    @get("/imports/{import_id:uuid}", summary="An import's status, progress and first page of its row report")
    async def get_import(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        import_id: FromPath[UUID],
        errors_limit: FromQuery[int] = 50,
    ) -> ImportRead:
        return await imports.get_import(tenant_scope, _storage(request), import_id, errors_limit)

    @get(
        "/imports/{import_id:uuid}/errors",
        summary="An import's row report, page by page",
        dependencies=PAGED,
    )
    async def list_import_errors(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        import_id: FromPath[UUID],
    ) -> ImportErrorPage:
        return await imports.list_import_errors(tenant_scope, import_id, limit=page.limit, cursor=page.cursor)

    @get(
        "/export",
        summary="Download the visible customers (the list's filters) as CSV or XLSX",
        operation_class=file_operation("text/csv", tabular.CONTENT_TYPES["xlsx"]),
    )
    async def export_customers(
        self,
        tenant_scope: NamedDependency[TenantScope],
        format: FromQuery[str] = "csv",
        territory_id: FromQuery[UUID | None] = None,
        grade: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        owner: str | None = Parameter(default=None, description="a membership id, 'me' or 'none' (the pool)"),
        q: str | None = Parameter(default=None, max_length=200),
        cross_territory: FromQuery[bool | None] = None,
    ) -> Response[Any]:
        filters = export.ExportFilters(territory_id, grade, status, owner, q, cross_territory=cross_territory)
        result = await export.export_customers(tenant_scope, format, filters)
        headers = {"content-disposition": result.disposition}
        media_type = result.content_type.split(";")[0]  # Litestar adds the charset of a text/ type
        if isinstance(result.body, bytes):
            return Response(result.body, media_type=media_type, headers=headers)
        return Stream(result.body, media_type=media_type, headers=headers)


ROUTES = [CustomerImportController]
