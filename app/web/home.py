"""The signed-in home, ``/`` (Today). Part 1's foundation shows the way in (pool, my customers) and the
recent notifications; the rep's tasks, visit plan and reclaim warnings join it next (issue 16, 3)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from app.notifications.service import list_notifications
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.scope import TenantScope


@get("/", include_in_schema=False, dependencies=PAGE, exception_handlers=PAGE_ERRORS)
async def home(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    notifications = (await list_notifications(tenant_scope, limit=10)).items
    return await render(request, tenant_scope, "app/home.html", notifications=notifications)
