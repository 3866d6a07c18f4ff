"""``/notifications``: the member's notifications, newest first, with "more" loading in place, each
linking to what it is about; mark one read, or all of them (the bell's count follows).

Everything is the notification service's (``list_notifications``, ``mark_read``,
``mark_all_read``): another member's or tenant's notification is its 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.notifications.service import list_notifications, mark_all_read, mark_read, unread_count
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 30
# what a notification is about → the page that shows it
SUBJECT_PAGES = {
    "customer": "/customers/{id}",
    "deal": "/deals/{id}",
    "visit_plan": "/visit-plans/{id}",
    "market_incident": "/market-incidents/{id}",
    "handover": "/customers",  # the receiver's new customers are theirs now
    "cross_territory_request": "/cross-territory-requests/{id}",
}


def subject_link(subject_type: str | None, subject_id: UUID | None) -> str | None:
    if subject_type is None or subject_id is None or subject_type not in SUBJECT_PAGES:
        return None
    return SUBJECT_PAGES[subject_type].format(id=subject_id)


@get("/notifications")
async def notifications_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    unread_only = request.query_params.get("unread") == "1"
    page = await list_notifications(
        tenant_scope,
        unread=True if unread_only else None,
        limit=PAGE_SIZE,
        cursor=request.query_params.get("cursor") or None,
    )
    context: dict[str, Any] = {
        "page": page,
        "link": subject_link,
        "unread_only": unread_only,
        "more_query": "unread=1&" if unread_only else "",
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_notification_items.html", **context)
    return await render(request, tenant_scope, "app/notifications.html", **context)


@post("/notifications/{notification_id:uuid}/read")
async def read_one(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    notification_id: FromPath[UUID],
) -> Template:
    notification = await mark_read(tenant_scope, notification_id)
    return await render(
        request,
        tenant_scope,
        "app/_notification_read.html",
        n=notification,
        unread=await unread_count(tenant_scope),
    )


@post("/notifications/read-all")
async def read_all(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    """Every unread one read: the count, the bell, and the list anew (its first page)."""
    marked = await mark_all_read(tenant_scope)
    page = await list_notifications(tenant_scope, limit=PAGE_SIZE)
    return await render(
        request,
        tenant_scope,
        "app/_notifications_all_read.html",
        marked=marked,
        unread=0,
        page=page,
        link=subject_link,
        more_query="",
    )


ROUTER = Router(
    path="/",
    route_handlers=[notifications_page, read_one, read_all],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
