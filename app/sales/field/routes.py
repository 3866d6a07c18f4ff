"""Routes of visit plans, daily reports, market incidents, weekly territory reports and targets.
Thin: parse, call one service, return."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from app.customers.schemas import FollowupCreate
from app.pagination import PAGED, Page, PageParams, page_name
from app.sales.field import daily_reports, decompose, incidents, targets, visit_plans, weekly_reports
from app.sales.field.schemas import (
    DailyReportCreate,
    DailyReportRead,
    DailyReportUpdate,
    IncidentRead,
    IncidentWrite,
    PlanDecision,
    TargetCreate,
    TargetDecompose,
    TargetRead,
    TargetUpdate,
    VisitPlanCreate,
    VisitPlanRead,
    VisitPlanUpdate,
    WeeklyPlanUpdate,
    WeeklyReportRead,
)
from tenants.scope import SCOPED, TenantScope

# The OpenAPI component names of these pages were fixed while the item types lived in
# ``field_schemas``; they are part of the API, so they stay as they were.
_WAS = "app.sales.field_schemas"
VisitPlanPage = Annotated[Page[VisitPlanRead], page_name(_WAS, VisitPlanRead)]
DailyReportPage = Annotated[Page[DailyReportRead], page_name(_WAS, DailyReportRead)]
IncidentPage = Annotated[Page[IncidentRead], page_name(_WAS, IncidentRead)]
WeeklyReportPage = Annotated[Page[WeeklyReportRead], page_name(_WAS, WeeklyReportRead)]
TargetPage = Annotated[Page[TargetRead], page_name(_WAS, TargetRead)]


class VisitPlanController(Controller):
    path = "/api/v1/visit-plans"
    tags = ("visit plans",)
    dependencies = SCOPED

    @get("/", summary="Visit plans (own; a manager's team; admin all), latest day first", dependencies=PAGED)
    async def list_plans(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        membership_id: FromQuery[UUID | None] = None,
        status: FromQuery[str | None] = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
    ) -> VisitPlanPage:
        return await visit_plans.list_plans(
            tenant_scope,
            membership_id=membership_id,
            status=status,
            date_from=date_from,
            date_to=date_to,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="Plan one's own day (today or later; one per day)")
    async def create_plan(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[VisitPlanCreate]
    ) -> VisitPlanRead:
        return await visit_plans.create_plan(tenant_scope, data)

    @get("/{plan_id:uuid}", summary="One plan with its items and planned vs done")
    async def get_plan(
        self, tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
    ) -> VisitPlanRead:
        return await visit_plans.get_plan(tenant_scope, plan_id)

    @put("/{plan_id:uuid}", summary="Replace the items of a draft or returned plan (its author)")
    async def update_plan(
        self,
        tenant_scope: NamedDependency[TenantScope],
        plan_id: FromPath[UUID],
        data: JSONBody[VisitPlanUpdate],
    ) -> VisitPlanRead:
        return await visit_plans.update_plan(tenant_scope, plan_id, data)

    @post("/{plan_id:uuid}/submit", status_code=HTTP_200_OK, summary="Submit for approval")
    async def submit_plan(
        self, tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
    ) -> VisitPlanRead:
        return await visit_plans.submit_plan(tenant_scope, plan_id)

    @post("/{plan_id:uuid}/approve", status_code=HTTP_200_OK, summary="Approve (a manager of the member)")
    async def approve_plan(
        self,
        tenant_scope: NamedDependency[TenantScope],
        plan_id: FromPath[UUID],
        data: JSONBody[PlanDecision | None] = None,
    ) -> VisitPlanRead:
        return await visit_plans.decide_plan(tenant_scope, plan_id, True, data or PlanDecision())

    @post("/{plan_id:uuid}/return", status_code=HTTP_200_OK, summary="Return with a comment (a manager)")
    async def return_plan(
        self,
        tenant_scope: NamedDependency[TenantScope],
        plan_id: FromPath[UUID],
        data: JSONBody[PlanDecision],
    ) -> VisitPlanRead:
        return await visit_plans.decide_plan(tenant_scope, plan_id, False, data)

    @post(
        "/{plan_id:uuid}/items/{item_id:uuid}/done",
        status_code=HTTP_200_OK,
        summary="Log the visit of an item: a follow-up linked to it",
    )
    async def log_visit(
        self,
        tenant_scope: NamedDependency[TenantScope],
        plan_id: FromPath[UUID],
        item_id: FromPath[UUID],
        data: JSONBody[FollowupCreate],
    ) -> VisitPlanRead:
        return await visit_plans.log_visit(tenant_scope, plan_id, item_id, data)


class DailyReportController(Controller):
    path = "/api/v1/daily-reports"
    tags = ("daily reports",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Daily reports (own; a manager's team; admin all), latest day first",
        dependencies=PAGED,
    )
    async def list_reports(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        membership_id: FromQuery[UUID | None] = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
    ) -> DailyReportPage:
        return await daily_reports.list_reports(
            tenant_scope,
            membership_id=membership_id,
            date_from=date_from,
            date_to=date_to,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="File the day's report (prefilled; one per day)")
    async def create_report(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[DailyReportCreate]
    ) -> DailyReportRead:
        return await daily_reports.create_report(tenant_scope, data)

    @get("/preview", summary="The figures a report for report_date would be prefilled with")
    async def preview(
        self, tenant_scope: NamedDependency[TenantScope], report_date: FromQuery[date]
    ) -> dict[str, Any]:
        return await daily_reports.preview_report(tenant_scope, report_date)

    @get("/{report_id:uuid}", summary="One daily report")
    async def get_report(
        self, tenant_scope: NamedDependency[TenantScope], report_id: FromPath[UUID]
    ) -> DailyReportRead:
        return await daily_reports.get_report(tenant_scope, report_id)

    @patch(
        "/{report_id:uuid}",
        summary="Edit your filed report (notes; refresh_figures) until the end of the day after filing",
    )
    async def update_report(
        self,
        tenant_scope: NamedDependency[TenantScope],
        report_id: FromPath[UUID],
        data: JSONBody[DailyReportUpdate],
    ) -> DailyReportRead:
        return await daily_reports.update_report(tenant_scope, report_id, data)


class MarketIncidentController(Controller):
    path = "/api/v1/market-incidents"
    tags = ("market incidents",)
    dependencies = SCOPED

    @get("/", summary="Market incidents (own; a manager's team; admin all), newest first", dependencies=PAGED)
    async def list_incidents(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        severity: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        membership_id: FromQuery[UUID | None] = None,
    ) -> IncidentPage:
        return await incidents.list_incidents(
            tenant_scope,
            severity=severity,
            status=status,
            membership_id=membership_id,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="Raise an incident (serious: managers told at once)")
    async def create_incident(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[IncidentWrite]
    ) -> IncidentRead:
        return await incidents.create_incident(tenant_scope, data)

    @get("/{incident_id:uuid}", summary="One incident")
    async def get_incident(
        self, tenant_scope: NamedDependency[TenantScope], incident_id: FromPath[UUID]
    ) -> IncidentRead:
        return await incidents.get_incident(tenant_scope, incident_id)

    @post(
        "/{incident_id:uuid}/close", status_code=HTTP_200_OK, summary="Close it (a manager of the reporter)"
    )
    async def close_incident(
        self, tenant_scope: NamedDependency[TenantScope], incident_id: FromPath[UUID]
    ) -> IncidentRead:
        return await incidents.close_incident(tenant_scope, incident_id)


class WeeklyReportController(Controller):
    path = "/api/v1/weekly-reports"
    tags = ("weekly reports",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Weekly territory reports (managers: their subtrees), latest week first",
        dependencies=PAGED,
    )
    async def list_weekly(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        territory_id: FromQuery[UUID | None] = None,
        week: FromQuery[date | None] = None,
    ) -> WeeklyReportPage:
        return await weekly_reports.list_weekly(
            tenant_scope, territory_id=territory_id, week=week, limit=page.limit, cursor=page.cursor
        )

    @get("/{report_id:uuid}", summary="One weekly report")
    async def get_weekly(
        self, tenant_scope: NamedDependency[TenantScope], report_id: FromPath[UUID]
    ) -> WeeklyReportRead:
        return await weekly_reports.get_weekly(tenant_scope, report_id)

    @patch("/{report_id:uuid}", summary="Set next week's plan (a manager of the territory)")
    async def update_weekly(
        self,
        tenant_scope: NamedDependency[TenantScope],
        report_id: FromPath[UUID],
        data: JSONBody[WeeklyPlanUpdate],
    ) -> WeeklyReportRead:
        return await weekly_reports.update_plan(tenant_scope, report_id, data)


class TargetController(Controller):
    path = "/api/v1/targets"
    tags = ("targets",)
    dependencies = SCOPED

    @get(
        "/",
        summary="Targets with live attainment; on=<date> keeps the periods containing it",
        dependencies=PAGED,
    )
    async def list_targets(
        self,
        tenant_scope: NamedDependency[TenantScope],
        page: NamedDependency[PageParams],
        metric: FromQuery[str | None] = None,
        scope_type: FromQuery[str | None] = None,
        territory_id: FromQuery[UUID | None] = None,
        membership_id: FromQuery[UUID | None] = None,
        period: FromQuery[str | None] = None,
        on: FromQuery[date | None] = None,
        parent_id: FromQuery[UUID | None] = None,
    ) -> TargetPage:
        return await targets.list_targets(
            tenant_scope,
            metric=metric,
            scope_type=scope_type,
            territory_id=territory_id,
            membership_id=membership_id,
            period=period,
            on=on,
            parent_id=parent_id,
            limit=page.limit,
            cursor=page.cursor,
        )

    @post("/", status_code=HTTP_201_CREATED, summary="Set a target (tenant: owner/admin; else a manager)")
    async def create_target(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[TargetCreate]
    ) -> TargetRead:
        return await targets.create_target(tenant_scope, data)

    @post(
        "/decompose",
        status_code=HTTP_201_CREATED,
        summary="Split a target into children that add up to it (all or nothing)",
    )
    async def decompose(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[TargetDecompose]
    ) -> list[TargetRead]:
        return await decompose.decompose(tenant_scope, data)

    @get("/{target_id:uuid}", summary="One target with its attainment")
    async def get_target(
        self, tenant_scope: NamedDependency[TenantScope], target_id: FromPath[UUID]
    ) -> TargetRead:
        return await targets.get_target(tenant_scope, target_id)

    @patch("/{target_id:uuid}", summary="Change a target's value (sums must still hold)")
    async def update_target(
        self,
        tenant_scope: NamedDependency[TenantScope],
        target_id: FromPath[UUID],
        data: JSONBody[TargetUpdate],
    ) -> TargetRead:
        return await targets.update_target(tenant_scope, target_id, data)


ROUTES: list[type[Controller]] = [
    VisitPlanController,
    DailyReportController,
    MarketIncidentController,
    WeeklyReportController,
    TargetController,
]
