"""HTTP routes of handovers (客户移交): draft + preview, read, execute, undo. Thin controllers."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.handover import execute, plan
from app.handover.schemas import HandoverCreate, HandoverRead, HandoverSummary, RealignCreate
from app.pagination import PAGED, Page, PageParams
from tenants.scope import SCOPED, TenantScope


class HandoverController(Controller):
    path = "/api/v1/handovers"
    tags = ("handover",)
    dependencies = SCOPED

    @post("/", status_code=HTTP_201_CREATED, summary="Draft a handover and preview it (manager, admin)")
    async def create(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[HandoverCreate]
    ) -> HandoverRead:
        return await plan.create_plan(tenant_scope, data)

    @get("/", summary="Handover plans, newest first; by status and kind (manager, admin)", dependencies=PAGED)
    async def list_plans(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
    ) -> Page[HandoverSummary]:
        return await plan.list_plans(
            tenant_scope, status=status, kind=kind, limit=page.limit, cursor=page.cursor
        )

    @get("/{plan_id:uuid}", summary="A handover plan with its (current) preview")
    async def read(self, tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]) -> HandoverRead:
        return await plan.get_plan(tenant_scope, plan_id)

    @post("/{plan_id:uuid}/execute", status_code=HTTP_200_OK, summary="Run a draft; 409 if it went stale")
    async def execute(
        self, tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
    ) -> HandoverRead:
        return await execute.execute_plan(tenant_scope, plan_id)

    @post("/{plan_id:uuid}/undo", status_code=HTTP_200_OK, summary="Undo within 24 hours if nothing changed")
    async def undo(self, tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]) -> HandoverRead:
        return await execute.undo_plan(tenant_scope, plan_id)


class RealignmentController(Controller):
    path = "/api/v1/realignments"
    tags = ("handover", "territories")
    dependencies = SCOPED

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Draft a territory realignment (move, merge, split) and preview it; run it with"
        " POST /api/v1/handovers/{id}/execute",
    )
    async def create(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[RealignCreate]
    ) -> HandoverRead:
        return await plan.create_realignment(tenant_scope, data)


ROUTES = [HandoverController, RealignmentController]
