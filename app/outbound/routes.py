"""HTTP routes of the outbound integrations: webhook endpoints and their deliveries, team-chat robots
per territory, and the member's calendar feed. Thin: parse, call one service, return."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.outbound import webhooks
from app.outbound.events import EVENT_TYPES
from app.outbound.schemas import (
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointSecret,
    EndpointUpdate,
    EventTypeList,
)
from app.pagination import PAGED, Page, PageParams
from tenants.scope import SCOPED, TenantScope


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ("webhooks",)
    dependencies = SCOPED

    @get("/event-types", summary="The event types an endpoint can subscribe to")
    async def event_types(self, tenant_scope: NamedDependency[TenantScope]) -> EventTypeList:
        return EventTypeList(event_types=list(EVENT_TYPES))

    @get("/endpoints", summary="The company's webhook endpoints (owner, admin)")
    async def list_endpoints(self, tenant_scope: NamedDependency[TenantScope]) -> list[EndpointRead]:
        return await webhooks.list_endpoints(tenant_scope)

    @post(
        "/endpoints",
        status_code=HTTP_201_CREATED,
        summary="Add an endpoint; the answer holds its signing secret, shown this once",
    )
    async def create_endpoint(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[EndpointCreate]
    ) -> EndpointSecret:
        return await webhooks.create_endpoint(tenant_scope, data)

    @get("/endpoints/{endpoint_id:uuid}")
    async def get_endpoint(
        self, tenant_scope: NamedDependency[TenantScope], endpoint_id: FromPath[UUID]
    ) -> EndpointRead:
        return await webhooks.get_endpoint(tenant_scope, endpoint_id)

    @patch("/endpoints/{endpoint_id:uuid}", summary="Change an endpoint; active=true enables it again")
    async def update_endpoint(
        self,
        tenant_scope: NamedDependency[TenantScope],
        endpoint_id: FromPath[UUID],
        data: JSONBody[EndpointUpdate],
    ) -> EndpointRead:
        return await webhooks.update_endpoint(tenant_scope, endpoint_id, data)

    @delete("/endpoints/{endpoint_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_endpoint(
        self, tenant_scope: NamedDependency[TenantScope], endpoint_id: FromPath[UUID]
    ) -> None:
        await webhooks.delete_endpoint(tenant_scope, endpoint_id)

    @post(
        "/endpoints/{endpoint_id:uuid}/roll-secret",
        status_code=HTTP_200_OK,
        summary="A new signing secret (the old one stops at once), shown this once",
    )
    async def roll_secret(
        self, tenant_scope: NamedDependency[TenantScope], endpoint_id: FromPath[UUID]
    ) -> EndpointSecret:
        return await webhooks.roll_secret(tenant_scope, endpoint_id)

    @get(
        "/endpoints/{endpoint_id:uuid}/deliveries",
        summary="The endpoint's deliveries, newest first, with the last response",
        dependencies=PAGED,
    )
    async def list_deliveries(
        self,
        tenant_scope: NamedDependency[TenantScope],
        endpoint_id: FromPath[UUID],
        page: NamedDependency[PageParams],
        status: FromQuery[Literal["pending", "delivered", "failed"] | None] = None,
    ) -> Page[DeliveryRead]:
        return await webhooks.list_deliveries(
            tenant_scope, endpoint_id, status=status, limit=page.limit, cursor=page.cursor
        )


ROUTES = [WebhookController]
