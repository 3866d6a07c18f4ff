"""HTTP routes for templates (admins) and documents (members). Thin: parse, call one service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from app.documents import service, templates
from app.documents.schemas import DocumentAccepted, DocumentCreate, DocumentRead, KindRead, TemplateRead
from app.documents.validation import MAX_FILE
from app.pagination import PAGED, Page, PageParams
from app.storage import Storage
from tenants.scope import SCOPED, TenantScope


def _storage(request: Request[Any, Any, Any]) -> Storage:
    store: Storage = request.app.state.storage
    return store


@dataclass
class TemplateUpload:
    kind: str
    locale: str
    file: UploadFile


class TemplateController(Controller):
    path = "/api/v1/templates"
    tags = ("documents",)
    dependencies = SCOPED

    @get("/kinds", summary="Document kinds and the variables their templates may use")
    async def list_kinds(self, tenant_scope: NamedDependency[TenantScope]) -> list[KindRead]:
        return templates.list_kinds()

    # The body limit sits above the 10 MB file limit so an oversized file gets our 422, not a bare 413.
    @post(
        "/",
        status_code=HTTP_201_CREATED,
        request_max_body_size=MAX_FILE + 1024 * 1024,
        summary="Upload a new template version (multipart: kind, locale, file); 422 lists findings",
    )
    async def upload(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        data: Annotated[TemplateUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> TemplateRead:
        content = await data.file.read(MAX_FILE + 1)
        return await templates.upload(
            tenant_scope,
            _storage(request),
            kind=data.kind,
            locale=data.locale,
            filename=data.file.filename or "",
            data=content,
        )

    @get("/", summary="Template versions, newest first", dependencies=PAGED)
    async def list_templates(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        kind: FromQuery[str | None] = None,
        locale: FromQuery[str | None] = None,
    ) -> Page[TemplateRead]:
        return await templates.list_templates(
            tenant_scope, kind=kind, locale=locale, limit=page.limit, cursor=page.cursor
        )

    @get("/{template_id:uuid}")
    async def get_template(
        self, tenant_scope: NamedDependency[TenantScope], template_id: FromPath[UUID]
    ) -> TemplateRead:
        return await templates.get_template(tenant_scope, template_id)

    @post(
        "/{template_id:uuid}/activate",
        status_code=HTTP_200_OK,
        summary="Make this the version used for its kind and locale",
    )
    async def activate(
        self, tenant_scope: NamedDependency[TenantScope], template_id: FromPath[UUID]
    ) -> TemplateRead:
        return await templates.set_active(tenant_scope, template_id, True)

    @post(
        "/{template_id:uuid}/deactivate",
        status_code=HTTP_200_OK,
        summary="Stop using this version (the built-in default applies again)",
    )
    async def deactivate(
        self, tenant_scope: NamedDependency[TenantScope], template_id: FromPath[UUID]
    ) -> TemplateRead:
        return await templates.set_active(tenant_scope, template_id, False)

    @post(
        "/{template_id:uuid}/preview",
        status_code=HTTP_202_ACCEPTED,
        summary="Render this version with sample data; poll the returned document",
    )
    async def preview(
        self, tenant_scope: NamedDependency[TenantScope], template_id: FromPath[UUID]
    ) -> DocumentAccepted:
        return await templates.preview(tenant_scope, template_id)


class DocumentController(Controller):
    path = "/api/v1/documents"
    tags = ("documents",)
    dependencies = SCOPED

    @post("/", status_code=HTTP_202_ACCEPTED, summary="Generate a document (rendered in the background)")
    async def create(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[DocumentCreate]
    ) -> DocumentAccepted:
        return await service.create_document(tenant_scope, data)

    @get("/", summary="Documents, newest first; filter by subject and kind", dependencies=PAGED)
    async def list_documents(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        request: Request[Any, Any, Any],
        subject_type: FromQuery[str | None] = None,
        subject_id: str | None = Parameter(default=None, max_length=100),
        kind: FromQuery[str | None] = None,
    ) -> Page[DocumentRead]:
        return await service.list_documents(
            tenant_scope,
            _storage(request),
            subject_type=subject_type,
            subject_id=subject_id,
            kind=kind,
            limit=page.limit,
            cursor=page.cursor,
        )

    @get("/{document_id:uuid}", summary="Status and short-lived download links")
    async def get_document(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        document_id: FromPath[UUID],
    ) -> DocumentRead:
        return await service.get_document(tenant_scope, _storage(request), document_id)


ROUTES = [TemplateController, DocumentController]
