"""HTTP routes for territories and their members. Thin: parse, call one service, return."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.pagination import Page, PageParams, paged
from app.territories import division_map, members, service
from app.territories.schemas import (
    DivisionMappingRead,
    DivisionMappingSet,
    DivisionRead,
    MoveImpact,
    TerritoryCreate,
    TerritoryMemberCreate,
    TerritoryMemberRead,
    TerritoryMove,
    TerritoryRead,
    TerritoryUpdate,
)
from tenants.key_scopes import needs
from tenants.scope import SCOPED, TenantScope


class TerritoryController(Controller):
    path = "/api/v1/territories"
    tags = ("territories",)
    dependencies = SCOPED

    @get(
        "/",
        summary="The territory tree, depth first; or the children of parent_id, or a subtree",
        dependencies=paged(200),
        opt=needs("territories:read"),
    )
    async def list_territories(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        parent_id: FromQuery[UUID | None] = None,
        under: FromQuery[UUID | None] = None,
        top_level: FromQuery[bool] = False,
    ) -> Page[TerritoryRead]:
        return await service.list_territories(
            tenant_scope,
            parent_id=parent_id,
            under=under,
            top_level=top_level,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create_territory(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[TerritoryCreate]
    ) -> TerritoryRead:
        return await service.create_territory(tenant_scope, data)

    @get("/{territory_id:uuid}", opt=needs("territories:read"))
    async def get_territory(
        self, tenant_scope: NamedDependency[TenantScope], territory_id: FromPath[UUID]
    ) -> TerritoryRead:
        return await service.get_territory(tenant_scope, territory_id)

    @patch("/{territory_id:uuid}")
    async def update_territory(
        self,
        tenant_scope: NamedDependency[TenantScope],
        territory_id: FromPath[UUID],
        data: JSONBody[TerritoryUpdate],
    ) -> TerritoryRead:
        return await service.update_territory(tenant_scope, territory_id, data)

    @delete(
        "/{territory_id:uuid}", status_code=HTTP_204_NO_CONTENT, summary="Delete a territory and its subtree"
    )
    async def delete_territory(
        self, tenant_scope: NamedDependency[TenantScope], territory_id: FromPath[UUID]
    ) -> None:
        await service.delete_territory(tenant_scope, territory_id)

    @post(
        "/{territory_id:uuid}/move", status_code=HTTP_200_OK, summary="Move a subtree (or preview the move)"
    )
    async def move_territory(
        self,
        tenant_scope: NamedDependency[TenantScope],
        territory_id: FromPath[UUID],
        data: JSONBody[TerritoryMove],
    ) -> MoveImpact:
        return await service.move_territory(tenant_scope, territory_id, data)

    @get("/{territory_id:uuid}/members")
    async def list_members(
        self, tenant_scope: NamedDependency[TenantScope], territory_id: FromPath[UUID]
    ) -> list[TerritoryMemberRead]:
        return await members.list_territory_members(tenant_scope, territory_id)

    @post("/{territory_id:uuid}/members", status_code=HTTP_201_CREATED)
    async def add_member(
        self,
        tenant_scope: NamedDependency[TenantScope],
        territory_id: FromPath[UUID],
        data: JSONBody[TerritoryMemberCreate],
    ) -> TerritoryMemberRead:
        return await members.add_territory_member(tenant_scope, territory_id, data)

    @delete("/{territory_id:uuid}/members/{membership_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def remove_member(
        self,
        tenant_scope: NamedDependency[TenantScope],
        territory_id: FromPath[UUID],
        membership_id: FromPath[UUID],
    ) -> None:
        await members.remove_territory_member(tenant_scope, territory_id, membership_id)


class DivisionController(Controller):
    path = "/api/v1/divisions"
    tags = ("territories",)
    dependencies = SCOPED

    @get("/", summary="Administrative divisions (GB/T 2260) by code prefix or name")
    async def find_divisions(
        self,
        tenant_scope: NamedDependency[TenantScope],
        q: str = Parameter(
            min_length=1, max_length=50, description="digits: a code prefix; else a name part"
        ),
    ) -> list[DivisionRead]:
        return division_map.find_divisions(q)

    @get("/{code:str}", summary="One administrative division by its six-digit code")
    async def get_division(
        self, tenant_scope: NamedDependency[TenantScope], code: FromPath[str]
    ) -> DivisionRead:
        return division_map.get_division(code)


class DivisionMappingController(Controller):
    path = "/api/v1/territory-divisions"
    tags = ("territories",)
    dependencies = SCOPED

    @get("/", summary="Division codes mapped to territories (placement by credit code)")
    async def list_mappings(
        self, tenant_scope: NamedDependency[TenantScope], territory_id: FromQuery[UUID | None] = None
    ) -> list[DivisionMappingRead]:
        return await division_map.list_mappings(tenant_scope, territory_id)

    @put("/{code:str}", summary="Map a division code to a territory (its customers are placed again)")
    async def map_division(
        self,
        tenant_scope: NamedDependency[TenantScope],
        code: FromPath[str],
        data: JSONBody[DivisionMappingSet],
    ) -> DivisionMappingRead:
        return await division_map.map_division(tenant_scope, code, data.territory_id)

    @delete("/{code:str}", status_code=HTTP_204_NO_CONTENT, summary="Remove a division code from the mapping")
    async def unmap_division(self, tenant_scope: NamedDependency[TenantScope], code: FromPath[str]) -> None:
        await division_map.unmap_division(tenant_scope, code)


ROUTES = [TerritoryController, DivisionController, DivisionMappingController]
