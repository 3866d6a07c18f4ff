"""The signed-in home, ``/`` (Today): the member's open tasks due today or overdue (done / skip in
place), their customers nearing the pool's reclaim with the days left, and the recent notifications;
``/tasks`` lists all of the member's open tasks with the same actions.

Everything is the services' (``list_tasks``, ``close_task``, ``my_reclaim_warnings``,
``list_notifications``): a task of another member or tenant is the task service's 404, shown as the
not-found page (or the error fragment for htmx); a skip without a reason is its 422, inline."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers.pool.reclaim import my_reclaim_warnings
from app.i18n import N_
from app.localtime import local_today
from app.notifications.service import list_notifications
from app.sales.growth.schemas import TaskClose
from app.sales.growth.tasks import close_task, list_tasks
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.scope import TenantScope

TASK_KINDS = {"call": N_("Call"), "visit": N_("Visit")}
PAGE_SIZE = 50


class SkipForm(msgspec.Struct):
    reason: str = ""


@get("/")
async def home(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    tomorrow = local_today(tenant_scope.time_zone) + timedelta(days=1)
    tasks = await list_tasks(
        tenant_scope, assignee=tenant_scope.membership_id, due_before=tomorrow, limit=PAGE_SIZE
    )
    return await render(
        request,
        tenant_scope,
        "app/home.html",
        tasks=tasks.items,
        task_kinds=TASK_KINDS,
        reclaims=await my_reclaim_warnings(tenant_scope),
        notifications=(await list_notifications(tenant_scope, limit=10)).items,
    )


@get("/tasks")
async def tasks_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    tasks = await list_tasks(tenant_scope, assignee=tenant_scope.membership_id, limit=PAGE_SIZE)
    return await render(request, tenant_scope, "app/tasks.html", tasks=tasks.items, task_kinds=TASK_KINDS)


@post("/tasks/{task_id:uuid}/done")
async def done(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], task_id: FromPath[UUID]
) -> Template:
    task = await close_task(tenant_scope, task_id, "done", TaskClose())
    return await render(request, tenant_scope, "app/_task_closed.html", task=task)


@post("/tasks/{task_id:uuid}/skip")
async def skip(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    task_id: FromPath[UUID],
    data: Annotated[SkipForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    task = await close_task(tenant_scope, task_id, "skipped", TaskClose(reason=data.reason or None))
    return await render(request, tenant_scope, "app/_task_closed.html", task=task)


ROUTER = Router(
    path="/",
    route_handlers=[home, tasks_page, done, skip],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
