"""HTTP routes of commission splits: a won deal's suggestion and confirmed split, the tenant's rule,
and the export of confirmed splits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.customers import tabular
from app.deals import commission
from app.deals.schemas import CommissionRead, CommissionRulesWrite, CommissionSplitWrite
from app.openapi import file_operation
from tenants.scope import SCOPED, TenantScope


class DealCommissionController(Controller):
    path = "/api/v1/deals/{deal_id:uuid}/commission"
    tags = ("commission",)
    dependencies = SCOPED

    @get(
        "/",
        summary="A won deal's suggested commission split (with its rule) and the confirmed one",
        opt={"problems": [409]},  # the deal is not won
    )
    async def get_commission(
        self, tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
    ) -> CommissionRead:
        return await commission.commission(tenant_scope, deal_id)

    @put("/", summary="Confirm the split as suggested or edited (manager+; percentages summing to 100)")
    async def confirm(
        self,
        tenant_scope: NamedDependency[TenantScope],
        deal_id: FromPath[UUID],
        data: JSONBody[CommissionSplitWrite],
    ) -> CommissionRead:
        return await commission.confirm(tenant_scope, deal_id, data)


class CommissionController(Controller):
    path = "/api/v1/commission"
    tags = ("commission",)
    dependencies = SCOPED

    @get("/rules", summary="The commission split rule (weights of ownership time and stage moves)")
    async def get_rules(self, tenant_scope: NamedDependency[TenantScope]) -> CommissionRulesWrite:
        return await commission.get_rules(tenant_scope)

    @put("/rules", summary="Set the commission split rule (owner/admin)")
    async def put_rules(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[CommissionRulesWrite]
    ) -> CommissionRulesWrite:
        return await commission.put_rules(tenant_scope, data)

    @get(
        "/splits/export",
        summary="Confirmed splits, one row per member and deal (manager+; csv or xlsx)",
        operation_class=file_operation("text/csv", tabular.CONTENT_TYPES["xlsx"]),
    )
    async def export(
        self, tenant_scope: NamedDependency[TenantScope], format: FromQuery[str] = "csv"
    ) -> Response[bytes]:
        body, content_type = await commission.export_splits(tenant_scope, format)
        name = f"commission-splits.{format}"
        return Response(
            body,
            media_type=content_type.split(";")[0],  # Litestar adds the charset itself
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


ROUTES: list[Any] = [DealCommissionController, CommissionController]
