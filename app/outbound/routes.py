"""HTTP routes of the outbound integrations: webhook endpoints and their deliveries, team-chat robots
per territory, and the member's calendar feed. Thin: parse, call one service, return."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.errors import NotFound
from app.outbound import calendar, chat, webhooks
from app.outbound.events import EVENT_TYPES
from app.outbound.schemas import (
    CalendarFeedRead,
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
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


class ChatChannelController(Controller):
    path = "/api/v1/chat-channels"
    tags = ("team chat",)
    dependencies = SCOPED

    @get("/", summary="The team-chat robots you manage (owner, admin: all; a manager: their territories')")
    async def list_channels(
        self, tenant_scope: NamedDependency[TenantScope], territory_id: FromQuery[UUID | None] = None
    ) -> list[ChannelRead]:
        return await chat.list_channels(tenant_scope, territory_id)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Add a WeCom, DingTalk or Feishu group robot to a territory",
    )
    async def create_channel(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[ChannelCreate]
    ) -> ChannelRead:
        return await chat.create_channel(tenant_scope, data)

    @get("/{channel_id:uuid}")
    async def get_channel(
        self, tenant_scope: NamedDependency[TenantScope], channel_id: FromPath[UUID]
    ) -> ChannelRead:
        return await chat.get_channel(tenant_scope, channel_id)

    @patch("/{channel_id:uuid}")
    async def update_channel(
        self,
        tenant_scope: NamedDependency[TenantScope],
        channel_id: FromPath[UUID],
        data: JSONBody[ChannelUpdate],
    ) -> ChannelRead:
        return await chat.update_channel(tenant_scope, channel_id, data)

    @delete("/{channel_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_channel(
        self, tenant_scope: NamedDependency[TenantScope], channel_id: FromPath[UUID]
    ) -> None:
        await chat.delete_channel(tenant_scope, channel_id)

    @post(
        "/{channel_id:uuid}/test",
        status_code=HTTP_200_OK,
        summary="Post a test message now; the answer holds the robot's status and error",
    )
    async def test_channel(
        self, tenant_scope: NamedDependency[TenantScope], channel_id: FromPath[UUID]
    ) -> ChannelRead:
        return await chat.test_channel(tenant_scope, channel_id)


class CalendarFeedController(Controller):
    path = "/api/v1/me/calendar-feed"
    tags = ("calendar",)
    dependencies = SCOPED

    @get("/", summary="Whether your private calendar feed is on (its address is shown only when made)")
    async def feed_status(self, tenant_scope: NamedDependency[TenantScope]) -> CalendarFeedRead:
        return await calendar.feed_status(tenant_scope)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="A new secret address for your calendar feed (an older one stops), shown this once",
    )
    async def make_feed(self, tenant_scope: NamedDependency[TenantScope]) -> CalendarFeedRead:
        return await calendar.make_feed(tenant_scope)

    @delete("/", status_code=HTTP_204_NO_CONTENT, summary="Revoke your calendar feed")
    async def revoke_feed(self, tenant_scope: NamedDependency[TenantScope]) -> None:
        await calendar.revoke_feed(tenant_scope)


@get("/calendar/{feed:str}", include_in_schema=False)
async def calendar_feed(feed: FromPath[str]) -> Response[bytes]:
    """The member's ICS feed at its secret address (no session: the address is the key)."""
    if not feed.endswith(".ics"):
        raise NotFound("No calendar feed here")
    body = await calendar.render_feed(feed.removesuffix(".ics"))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "private, max-age=300",
            "Content-Disposition": 'inline; filename="acre.ics"',
        },
    )


ROUTES: list[Any] = [WebhookController, ChatChannelController, CalendarFeedController, calendar_feed]
