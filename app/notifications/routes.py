"""HTTP routes for the caller's in-app notifications."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK

from app.notifications import service
from app.notifications.schemas import NotificationRead, ReadAll
from app.pagination import PAGED, Page, PageParams
from tenants.scope import SCOPED, TenantScope


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ("notifications",)
    dependencies = SCOPED

    @get("/", summary="Your notifications, newest first (unread=true: only unread)", dependencies=PAGED)
    async def list_notifications(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        unread: FromQuery[bool | None] = None,
    ) -> Page[NotificationRead]:
        return await service.list_notifications(
            tenant_scope, unread=unread, limit=page.limit, cursor=page.cursor
        )

    @post("/{notification_id:uuid}/read", status_code=HTTP_200_OK, summary="Mark one notification read")
    async def mark_read(
        self, tenant_scope: NamedDependency[TenantScope], notification_id: FromPath[UUID]
    ) -> NotificationRead:
        return await service.mark_read(tenant_scope, notification_id)

    @post("/read-all", status_code=HTTP_200_OK, summary="Mark all your notifications read")
    async def mark_all_read(self, tenant_scope: NamedDependency[TenantScope]) -> ReadAll:
        return ReadAll(marked=await service.mark_all_read(tenant_scope))


ROUTES = [NotificationController]
