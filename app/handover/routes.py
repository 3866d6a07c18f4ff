"""HTTP routes of handovers (客户移交): draft + preview, read, execute, undo. Thin controllers."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.handover import execute, offboarding, plan  # offboarding registers the deactivation guard
from app.handover.schemas import HandoverCreate, HandoverRead
from tenants.scope import TenantScope, provide_tenant_scope

__all__ = ["ROUTES", "offboarding"]


class HandoverController(Controller):
    path = "/api/v1/handovers"
    tags = ("handover",)
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @post("/", status_code=HTTP_201_CREATED, summary="Draft a handover and preview it (manager, admin)")
    async def create(self, tenant_scope: TenantScope, data: HandoverCreate) -> HandoverRead:
        return await plan.create_plan(tenant_scope, data)

    @get("/{plan_id:uuid}", summary="A handover plan with its (current) preview")
    async def read(self, tenant_scope: TenantScope, plan_id: UUID) -> HandoverRead:
        return await plan.get_plan(tenant_scope, plan_id)

    @post("/{plan_id:uuid}/execute", status_code=HTTP_200_OK, summary="Run a draft; 409 if it went stale")
    async def execute(self, tenant_scope: TenantScope, plan_id: UUID) -> HandoverRead:
        return await execute.execute_plan(tenant_scope, plan_id)

    @post("/{plan_id:uuid}/undo", status_code=HTTP_200_OK, summary="Undo within 24 hours if nothing changed")
    async def undo(self, tenant_scope: TenantScope, plan_id: UUID) -> HandoverRead:
        return await execute.undo_plan(tenant_scope, plan_id)


ROUTES = [HandoverController]
