"""HTTP routes of a deal's service period (free upgrades and maintenance) and its acceptance."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.deals.aftersales import service
from app.deals.aftersales.schemas import ServicePeriodRead, ServicePeriodWrite
from app.errors import NotFound
from tenants.scope import SCOPED, TenantScope


class ServicePeriodController(Controller):
    path = "/api/v1/deals/{deal_id:uuid}/service-period"
    tags = ("deals",)
    dependencies = SCOPED

    @get(
        "/", summary="The won deal's free-upgrade and maintenance period, acceptance and renewal; 404 before"
    )
    async def get_period(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> ServicePeriodRead:
        found = await service.get_period(tenant_scope, deal_id)
        if found is None:
            raise NotFound("This deal has no service period yet")
        return found

    @put("/", summary="Correct the won deal's service period (its owner, a manager of its territory)")
    async def put_period(
        self,
        tenant_scope: NamedDependency[TenantScope],
        deal_id: FromPath[UUID],
        data: JSONBody[ServicePeriodWrite],
    ) -> ServicePeriodRead:
        return await service.put_period(tenant_scope, deal_id, data)


ROUTES: list[type[Controller]] = [ServicePeriodController]
