"""HTTP routes of vendor registrations: a deal's (read, save, remove), the list per vendor, and a
member's request to claim a customer another team registered."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.deals.registrations import gates, service
from app.deals.registrations.schemas import RegistrationRead, RegistrationWrite, VendorRegistrations
from app.deals.schemas import ApprovalRead
from app.errors import NotFound
from tenants.scope import SCOPED, TenantScope


class DealRegistrationController(Controller):
    path = "/api/v1/deals/{deal_id:uuid}/registration"
    tags = ("registrations",)
    dependencies = SCOPED

    @get("/", summary="The deal's vendor registration (项目报备); 404 when it has none")
    async def get_registration(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> RegistrationRead:
        found = await service.get_registration(tenant_scope, deal_id)
        if found is None:
            raise NotFound("This deal has no vendor registration")
        return found

    @put("/", summary="Save the deal's vendor registration (its owner, a manager of its territory)")
    async def put_registration(
        self,
        tenant_scope: NamedDependency[TenantScope],
        deal_id: FromPath[UUID],
        data: JSONBody[RegistrationWrite],
    ) -> RegistrationRead:
        return await service.put_registration(tenant_scope, deal_id, data)

    @delete("/", status_code=HTTP_204_NO_CONTENT, summary="Remove the deal's vendor registration")
    async def delete_registration(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> None:
        await service.delete_registration(tenant_scope, deal_id)


class RegistrationController(Controller):
    path = "/api/v1/registrations"
    tags = ("registrations",)
    dependencies = SCOPED

    @get("/", summary="Vendor registrations by vendor, soonest expiry first (managers: their territories)")
    async def list_registrations(
        self,
        tenant_scope: NamedDependency[TenantScope],
        vendor: FromQuery[str | None] = None,
        live: FromQuery[bool | None] = None,
    ) -> list[VendorRegistrations]:
        return await service.list_by_vendor(tenant_scope, vendor=vendor, live=live)

    @post(
        "/{registration_id:uuid}/claim-approval",
        status_code=HTTP_201_CREATED,
        summary="Ask a manager to let you claim a customer another team registered",
    )
    async def request_claim_approval(
        self, tenant_scope: NamedDependency[TenantScope], registration_id: FromPath[UUID]
    ) -> ApprovalRead:
        return await gates.request_claim_approval(tenant_scope, registration_id)


ROUTES: list[type[Controller]] = [DealRegistrationController, RegistrationController]
