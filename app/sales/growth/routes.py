"""Routes of tasks (cadences), the funnel, referrals and after-sales return visits. Thin: parse,
call one service, return."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.deals.schemas import DealRead
from app.pagination import PAGED, Page, PageParams, page_name
from app.sales.growth import cadences, funnel, referrals, return_visits, tasks
from app.sales.growth.schemas import (
    CadencesRead,
    CadencesWrite,
    FunnelRead,
    NeedDeal,
    ReferralRead,
    ReferralWrite,
    ReturnVisitLog,
    ReturnVisitRead,
    RewardRead,
    RewardSettings,
    RewardSettingsRead,
    TaskClose,
    TaskCreate,
    TaskRead,
    TaskReschedule,
)
from tenants.scope import SCOPED, TenantScope

# The OpenAPI component names of these pages were fixed while the item types lived in
# ``growth_schemas``; they are part of the API, so they stay as they were.
_WAS = "app.sales.growth_schemas"
TaskPage = Annotated[Page[TaskRead], page_name(_WAS, TaskRead)]
ReferralPage = Annotated[Page[ReferralRead], page_name(_WAS, ReferralRead)]
RewardPage = Annotated[Page[RewardRead], page_name(_WAS, RewardRead)]
ReturnVisitPage = Annotated[Page[ReturnVisitRead], page_name(_WAS, ReturnVisitRead)]


class CadenceController(Controller):
    path = "/api/v1/cadences"
    tags = ("sales",)
    dependencies = SCOPED

    @get("/", summary="Call and visit cadences per tier, the grade → tier map, return-visit days (admin)")
    async def get_cadences(self, tenant_scope: NamedDependency[TenantScope]) -> CadencesRead:
        return await cadences.get_cadences(tenant_scope)

    @put("/", summary="Replace the cadences (admin); 422 names the wrong field")
    async def put_cadences(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[CadencesWrite]
    ) -> CadencesRead:
        return await cadences.put_cadences(tenant_scope, data)


class TaskController(Controller):
    path = "/api/v1/tasks"
    tags = ("sales",)
    dependencies = SCOPED

    @get("/", summary="Due and overdue follow-up tasks, soonest first (a rep: their own)", dependencies=PAGED)
    async def list_tasks(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: str | None = Parameter(default="open", description="open, done, skipped or all"),
        kind: str | None = Parameter(default=None, description="call or visit"),
        due_before: date | None = Parameter(default=None, description="due before this day"),
        assignee: UUID | None = Parameter(default=None, description="one member's (managers)"),
        customer_id: FromQuery[UUID | None] = None,
    ) -> TaskPage:
        return await tasks.list_tasks(
            tenant_scope,
            status=status,
            kind=kind,
            due_before=due_before,
            assignee=assignee,
            customer_id=customer_id,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="A task by hand for a customer you may change")
    async def create_task(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[TaskCreate]
    ) -> TaskRead:
        return await tasks.create_task(tenant_scope, data)

    @patch(
        "/{task_id:uuid}",
        summary="Move an open task to another day (today or later in the tenant's zone); 409 once closed",
    )
    async def reschedule(
        self,
        tenant_scope: NamedDependency[TenantScope],
        task_id: FromPath[UUID],
        data: JSONBody[TaskReschedule],
    ) -> TaskRead:
        return await tasks.reschedule_task(tenant_scope, task_id, data)

    @post("/{task_id:uuid}/done", status_code=HTTP_200_OK, summary="Mark an open task done")
    async def done(
        self,
        tenant_scope: NamedDependency[TenantScope],
        task_id: FromPath[UUID],
        data: JSONBody[TaskClose | None] = None,
    ) -> TaskRead:
        return await tasks.close_task(tenant_scope, task_id, "done", data or TaskClose())

    @post("/{task_id:uuid}/skip", status_code=HTTP_200_OK, summary="Skip an open task, with a reason")
    async def skip(
        self, tenant_scope: NamedDependency[TenantScope], task_id: FromPath[UUID], data: JSONBody[TaskClose]
    ) -> TaskRead:
        return await tasks.close_task(tenant_scope, task_id, "skipped", data)


class FunnelController(Controller):
    path = "/api/v1/funnel"
    tags = ("sales",)
    dependencies = SCOPED

    @get("/", summary="Calls → conversations → appointments → presentations → sales, per rep, with rates")
    async def get_funnel(
        self,
        tenant_scope: NamedDependency[TenantScope],
        date_from: date | None = Parameter(default=None, description="first day (default: 1st of the month)"),
        date_to: date | None = Parameter(default=None, description="last day, included (default: today)"),
        territory_id: UUID | None = Parameter(default=None, description="this territory and its subtree"),
        membership_id: UUID | None = Parameter(default=None, description="one member"),
    ) -> FunnelRead:
        return await funnel.get_funnel(
            tenant_scope,
            date_from=date_from,
            date_to=date_to,
            territory_id=territory_id,
            membership_id=membership_id,
        )


class CustomerReferralController(Controller):
    path = "/api/v1/customers/{customer_id:uuid}/referral"
    tags = ("sales",)
    dependencies = SCOPED

    @put("/", summary="Record who referred the customer: a customer or a person (all null clears)")
    async def set_referral(
        self,
        tenant_scope: NamedDependency[TenantScope],
        customer_id: FromPath[UUID],
        data: JSONBody[ReferralWrite],
    ) -> ReferralRead:
        return await referrals.set_referral(tenant_scope, customer_id, data)


class ReferralController(Controller):
    path = "/api/v1/referrals"
    tags = ("sales",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Referred customers and their outcomes (one referrer's with referrer_customer_id)",
        dependencies=PAGED,
    )
    async def list_referrals(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        referrer_customer_id: FromQuery[UUID | None] = None,
    ) -> ReferralPage:
        return await referrals.list_referrals(
            tenant_scope, referrer_customer_id=referrer_customer_id, limit=page.limit, cursor=page.cursor
        )


class RewardSettingsController(Controller):
    path = "/api/v1/referral-reward-settings"
    tags = ("sales",)
    dependencies = SCOPED

    @get("/", summary="The reward for a won referred customer (admin)")
    async def get_settings(self, tenant_scope: NamedDependency[TenantScope]) -> RewardSettingsRead:
        return await referrals.get_reward_settings(tenant_scope)

    @put("/", summary="Set the reward: points, an amount with currency, or none (admin)")
    async def put_settings(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[RewardSettings]
    ) -> RewardSettingsRead:
        return await referrals.put_reward_settings(tenant_scope, data)


class RewardController(Controller):
    path = "/api/v1/referral-rewards"
    tags = ("sales",)
    dependencies = SCOPED

    @get("/", summary="Referral rewards in your territories (managers), newest first", dependencies=PAGED)
    async def list_rewards(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: str | None = Parameter(default=None, description="pending or paid"),
    ) -> RewardPage:
        return await referrals.list_rewards(tenant_scope, status=status, limit=page.limit, cursor=page.cursor)

    @post("/{reward_id:uuid}/paid", status_code=HTTP_200_OK, summary="Mark a reward paid (managers)")
    async def paid(self, tenant_scope: NamedDependency[TenantScope], reward_id: FromPath[UUID]) -> RewardRead:
        return await referrals.mark_paid(tenant_scope, reward_id)


class ReturnVisitController(Controller):
    path = "/api/v1/return-visits"
    tags = ("sales",)
    dependencies = SCOPED

    @get("/", summary="After-sales return visits, soonest due first", dependencies=PAGED)
    async def list_return_visits(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        status: str | None = Parameter(default=None, description="scheduled, done or skipped"),
        customer_id: FromQuery[UUID | None] = None,
        assignee: FromQuery[UUID | None] = None,
        due_before: FromQuery[date | None] = None,
    ) -> ReturnVisitPage:
        return await return_visits.list_return_visits(
            tenant_scope,
            status=status,
            customer_id=customer_id,
            assignee=assignee,
            due_before=due_before,
            limit=page.limit,
            cursor=page.cursor,
        )

    @get("/{visit_id:uuid}", summary="One return visit")
    async def get_return_visit(
        self, tenant_scope: NamedDependency[TenantScope], visit_id: FromPath[UUID]
    ) -> ReturnVisitRead:
        return await return_visits.get_return_visit(tenant_scope, visit_id)

    @post(
        "/{visit_id:uuid}/log", status_code=HTTP_200_OK, summary="Log it: satisfaction 1–5, notes, new needs"
    )
    async def log(
        self,
        tenant_scope: NamedDependency[TenantScope],
        visit_id: FromPath[UUID],
        data: JSONBody[ReturnVisitLog],
    ) -> ReturnVisitRead:
        return await return_visits.log_return_visit(tenant_scope, visit_id, data)

    @post("/{visit_id:uuid}/deal", status_code=HTTP_201_CREATED, summary="Turn its new needs into a deal")
    async def deal(
        self, tenant_scope: NamedDependency[TenantScope], visit_id: FromPath[UUID], data: JSONBody[NeedDeal]
    ) -> DealRead:
        return await return_visits.deal_from_needs(tenant_scope, visit_id, data)


ROUTES: list[type[Controller]] = [
    CadenceController,
    TaskController,
    FunnelController,
    CustomerReferralController,
    ReferralController,
    RewardSettingsController,
    RewardController,
    ReturnVisitController,
]
