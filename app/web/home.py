"""The signed-in home, ``/`` (Today): the member's open tasks due today or overdue (done / skip in
place), today's visit plan (each visit marked done in place, which logs the follow-up), the approvals
they asked for that are still pending (visit plans, quotes and stage moves), their customers nearing
the pool's reclaim with the days left, and the recent notifications; ``/tasks`` lists all of the
member's open tasks with the same actions, "more" loading in place. A task can be moved to another
day in place ("Reschedule": ``reschedule_task``, the API's ``PATCH /api/v1/tasks/{id}``).

Everything is the services' (``list_tasks``, ``close_task``, ``list_plans``, ``list_approvals``,
``my_reclaim_warnings``, ``list_notifications``): a task of another member or tenant is the task
service's 404, shown as the not-found page (or the error fragment for htmx); a skip without a reason
is its 422, inline."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers.pool.reclaim import my_reclaim_warnings
from app.deals.approvals import list_approvals
from app.errors import ValidationFailed
from app.i18n import N_
from app.localtime import local_today
from app.notifications.service import list_notifications
from app.sales.field.visit_plans import list_plans
from app.sales.growth.schemas import TaskClose, TaskReschedule
from app.sales.growth.tasks import close_task, list_tasks, reschedule_task
from app.web import field
from app.web.notifications import subject_link
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

TASK_KINDS = {"call": N_("Call"), "visit": N_("Visit")}
APPROVAL_KINDS = {"quote": N_("Quote"), "stage": N_("Stage move")}
PAGE_SIZE = 50


class SkipForm(msgspec.Struct):
    reason: str = ""


class RescheduleForm(msgspec.Struct):
    due_on: str = ""


@get("/")
async def home(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    today = local_today(tenant_scope.time_zone)
    tasks = await list_tasks(
        tenant_scope,
        assignee=tenant_scope.membership_id,
        due_before=today + timedelta(days=1),
        limit=PAGE_SIZE,
    )
    me = tenant_scope.membership_id
    plans = await list_plans(tenant_scope, membership_id=me, date_from=today, date_to=today, limit=1)
    waiting_plans = await list_plans(tenant_scope, membership_id=me, status="submitted", limit=10)
    approvals = await list_approvals(tenant_scope, status="pending", limit=50)
    return await render(
        request,
        tenant_scope,
        "app/home.html",
        tasks=tasks.items,
        task_kinds=TASK_KINDS,
        today=today,
        today_plan=plans.items[0] if plans.items and me else None,
        waiting_plans=waiting_plans.items if me else [],
        # the member's own requests (the inbox also holds those they may decide)
        approvals=[a for a in approvals.items if me and a.requested_by == me],
        approval_kinds=APPROVAL_KINDS,
        reclaims=await my_reclaim_warnings(tenant_scope),
        notifications=(await list_notifications(tenant_scope, limit=10)).items,
        link=subject_link,
        **field.LABELS,
        editable=False,
    )


@get("/tasks")
async def tasks_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    tasks = await list_tasks(
        tenant_scope,
        assignee=tenant_scope.membership_id,
        limit=PAGE_SIZE,
        cursor=request.query_params.get("cursor") or None,
    )
    context: dict[str, Any] = {
        "tasks": tasks.items,
        "next_cursor": tasks.next_cursor,
        "task_kinds": TASK_KINDS,
        "today": local_today(tenant_scope.time_zone),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_task_items.html", **context)
    return await render(request, tenant_scope, "app/tasks.html", **context)


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


@post("/tasks/{task_id:uuid}/reschedule")
async def reschedule(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    task_id: FromPath[UUID],
    data: Annotated[RescheduleForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The reschedule form's answer (htmx): the task's new day in place, or the refusal inline (a day
    in the past, a closed task, another member's or tenant's task: the task service's)."""
    try:
        day = date.fromisoformat(data.due_on.strip())
    except ValueError:
        raise ValidationFailed.field("due_on", "Use an ISO 8601 date (YYYY-MM-DD)") from None
    task = await reschedule_task(tenant_scope, task_id, TaskReschedule(due_on=day))
    return await render(request, tenant_scope, "app/_task_rescheduled.html", task=task)


ROUTER = Router(
    path="/",
    route_handlers=[home, tasks_page, done, skip, reschedule],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
