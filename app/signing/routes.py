"""HTTP routes: envelopes (members) and the verify API (public). Thin: parse, call one service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from app import rate_limits
from app.errors import ValidationFailed
from app.pagination import PAGED, Page, PageParams
from app.signing import report, service, statements
from app.signing.report import EvidenceReport
from app.signing.schemas import (
    EnvelopeCreate,
    EnvelopeRead,
    EnvelopeVoid,
    EvidenceRead,
    StatementCreate,
    StatementRead,
    VerifyResult,
)
from app.signing.verify import verify_pdf
from app.storage import Storage
from tenants.scope import SCOPED, TenantScope

MAX_VERIFY = 30 * 1024 * 1024


def _storage(request: Request[Any, Any, Any]) -> Storage:
    store: Storage = request.app.state.storage
    return store


class EnvelopeController(Controller):
    path = "/api/v1/envelopes"
    tags = ("signing",)
    dependencies = SCOPED

    @post("/", status_code=HTTP_201_CREATED, summary="Create a draft envelope from a ready document")
    async def create(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[EnvelopeCreate]
    ) -> EnvelopeRead:
        return await service.create_envelope(tenant_scope, data)

    @get("/", summary="Envelopes, newest first; filter by status, customer", dependencies=PAGED)
    async def list_envelopes(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: FromQuery[str | None] = None,
        customer_id: FromQuery[UUID | None] = None,
        mine: FromQuery[bool] = False,
    ) -> Page[EnvelopeRead]:
        created_by = tenant_scope.membership_id if mine else None
        return await service.list_envelopes(
            tenant_scope, status, page.limit, page.cursor, customer_id, created_by=created_by
        )

    @get("/{envelope_id:uuid}")
    async def get_envelope(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        envelope_id: FromPath[UUID],
    ) -> EnvelopeRead:
        return await service.get_envelope(tenant_scope, _storage(request), envelope_id)

    @post("/{envelope_id:uuid}/send", status_code=HTTP_200_OK, summary="Send: emails the first signer(s)")
    async def send(
        self, tenant_scope: NamedDependency[TenantScope], envelope_id: FromPath[UUID]
    ) -> EnvelopeRead:
        return await service.send_envelope(tenant_scope, envelope_id)

    @post(
        "/{envelope_id:uuid}/remind",
        status_code=HTTP_200_OK,
        summary="Remind now: the signers whose turn it is get the reminder (at most one an hour)",
    )
    async def remind(
        self, tenant_scope: NamedDependency[TenantScope], envelope_id: FromPath[UUID]
    ) -> EnvelopeRead:
        return await service.remind_envelope(tenant_scope, envelope_id)

    @post(
        "/{envelope_id:uuid}/void", status_code=HTTP_200_OK, summary="Void: links stop working, signers told"
    )
    async def void(
        self,
        tenant_scope: NamedDependency[TenantScope],
        envelope_id: FromPath[UUID],
        data: JSONBody[EnvelopeVoid],
    ) -> EnvelopeRead:
        return await service.void_envelope(tenant_scope, envelope_id, data.reason)

    @get("/{envelope_id:uuid}/evidence", summary="The audit trail and whether its hash chain verifies")
    async def evidence(
        self, tenant_scope: NamedDependency[TenantScope], envelope_id: FromPath[UUID]
    ) -> EvidenceRead:
        return await service.get_evidence(tenant_scope, envelope_id)

    @get(
        "/{envelope_id:uuid}/evidence-report",
        summary="Template → data → DOCX/PDF → evidence chain → sealed PDF, each link recomputed",
    )
    async def evidence_report(
        self,
        request: Request[Any, Any, Any],
        tenant_scope: NamedDependency[TenantScope],
        envelope_id: FromPath[UUID],
    ) -> EvidenceReport:
        return await report.evidence_report(tenant_scope, _storage(request), envelope_id)


@dataclass
class VerifyUpload:
    file: UploadFile


@post(
    "/api/v1/verify",
    status_code=HTTP_200_OK,
    tags=["signing"],
    middleware=[rate_limits.bucket("verify")],
    summary="Is this PDF sealed by Acre, and unchanged since?",
)
async def verify_api(
    data: Annotated[VerifyUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> VerifyResult:
    content = await data.file.read()
    if len(content) > MAX_VERIFY or not content.startswith(b"%PDF"):
        raise ValidationFailed.field("file", "Upload a PDF file")
    return await verify_pdf(content)


class StatementController(Controller):
    path = "/api/v1/ownership/statements"
    tags = ("ownership",)
    dependencies = SCOPED

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        summary="Ask for a sealed statement of a member's ownership changes",
    )
    async def create(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[StatementCreate]
    ) -> StatementRead:
        return await statements.request_statement(tenant_scope, data)

    @get(
        "/",
        summary="Statements, newest first: your own (a rep), or every member's (manager+)",
        dependencies=PAGED,
    )
    async def list_statements(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        membership_id: FromQuery[UUID | None] = None,
    ) -> Page[StatementRead]:
        return await statements.list_statements(
            tenant_scope, membership_id, limit=page.limit, cursor=page.cursor
        )

    @get("/{statement_id:uuid}")
    async def get_statement(
        self, tenant_scope: NamedDependency[TenantScope], statement_id: FromPath[UUID]
    ) -> StatementRead:
        return await statements.get_statement(tenant_scope, statement_id)

    @get("/{statement_id:uuid}/pdf", summary="The sealed PDF (409 while it is being made)")
    async def pdf(
        self,
        tenant_scope: NamedDependency[TenantScope],
        request: Request[Any, Any, Any],
        statement_id: FromPath[UUID],
    ) -> Response[bytes]:
        content, name = await statements.statement_file(tenant_scope, _storage(request), statement_id)
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


ROUTES: list[Any] = [EnvelopeController, StatementController, verify_api]
