"""The rep's field work: ``/visit-plans`` (plan a day — tomorrow by default — from one's customers
with a search picker, time and purpose; submit it for approval; log a planned visit as done, which
writes the follow-up), ``/daily-reports`` (the day's report prefilled with the day's figures, with
notes and an optional incident; filed once), ``/market-incidents`` (raise one; a manager closes it)
and ``/return-visits`` (the after-sales visits due, logged with satisfaction, notes and new needs;
the needs made a deal once).
Each lists the past ones with "more" loading in place; each has its own page by id.

Everything is the field and growth services' (``visit_plans``, ``daily_reports``, ``incidents``,
``return_visits``): a plan, report, incident or visit of another member the caller does not manage,
or of another tenant, is their 404 — the not-found page. A form's problem is the service's 422 /
409, shown beside the form; this module only turns the form into the API's body."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers.schemas import FollowupCreate
from app.customers.search import list_customers
from app.errors import ValidationFailed
from app.i18n import N_
from app.localtime import local_stamp, local_today
from app.sales.field import daily_reports, incidents, visit_plans
from app.sales.field.schemas import (
    DailyReportCreate,
    DailyReportRead,
    DailyReportUpdate,
    IncidentWrite,
    PlanItemWrite,
    VisitPlanCreate,
    VisitPlanRead,
    VisitPlanUpdate,
)
from app.sales.growth import return_visits
from app.sales.growth.schemas import NeedDeal, ReturnVisitLog
from app.web.customers import RESULTS
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
PICKER_SIZE = 8
PURPOSES = {
    "development": N_("New business"),
    "research": N_("Research"),
    "collection": N_("Collect payment"),
    "service": N_("Service"),
    "complaint": N_("Complaint"),
    "order": N_("Take an order"),
}
PLAN_STATUSES = {
    "draft": N_("Draft"),
    "submitted": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "returned": N_("Returned"),
}
SEVERITIES = {"normal": N_("Normal"), "serious": N_("Serious")}
INCIDENT_STATUSES = {"open": N_("Open"), "closed": N_("Closed")}
VISIT_STATUSES = {"scheduled": N_("Scheduled"), "done": N_("Done"), "skipped": N_("Skipped")}
# the field pages' own tabs (one "Field" entry in the main navigation leads here)
FIELD_TABS = (
    ("/visit-plans", N_("Visit plans")),
    ("/daily-reports", N_("Daily reports")),
    ("/market-incidents", N_("Market incidents")),
    ("/return-visits", N_("Return visits")),
)
CURRENCY_SIGNS = {"CNY": "¥", "EUR": "€", "GBP": "£"}


def money(amount: object, currency: str) -> str:
    """An amount with its currency's sign (¥12,000.00), else its code after it."""
    try:
        text = f"{Decimal(str(amount)):,.2f}"
    except (InvalidOperation, ValueError):
        text = str(amount)
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{text}" if sign else f"{text} {currency}"


LABELS: dict[str, Any] = {
    "money": money,
    "purposes": PURPOSES,
    "plan_statuses": PLAN_STATUSES,
    "severities": SEVERITIES,
    "incident_statuses": INCIDENT_STATUSES,
    "visit_statuses": VISIT_STATUSES,
    "results": RESULTS,
    "field_tabs": FIELD_TABS,
}


def _cursor(request: Request[Any, Any, Any]) -> str | None:
    return request.query_params.get("cursor") or None


def _more(request: Request[Any, Any, Any]) -> bool:
    """An htmx "more" request: answer the next items only."""
    return is_htmx(request) and bool(request.query_params.get("cursor"))


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed.field(field, "Use an ISO 8601 date (YYYY-MM-DD)") from None


def _uuid(value: str, field: str, message: str) -> UUID:
    try:
        return UUID(value.strip())
    except ValueError:
        raise ValidationFailed.field(field, message) from None


async def _render(
    request: Request[Any, Any, Any], scope: TenantScope, template: str, **context: Any
) -> Template:
    return await render(request, scope, template, tab=request.url.path, **LABELS, **context)


# --- the customer picker ---------------------------------------------------------------------------


@get("/visit-plans/customer-picker")
async def customer_picker(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The search picker's choices (htmx): the member's own customers matching ``q``."""
    q = request.query_params.get("q", "").strip() or None
    page = await list_customers(tenant_scope, owner="me", q=q, limit=PICKER_SIZE)
    return await _render(
        request,
        tenant_scope,
        "app/_customer_picker.html",
        choices=page.items,
        picker=request.query_params.get("picker", "plan"),
        optional=request.query_params.get("optional") == "1",
        q=q or "",
    )


async def _picker_choices(scope: TenantScope) -> list[Any]:
    return (await list_customers(scope, owner="me", limit=PICKER_SIZE)).items


# --- visit plans -----------------------------------------------------------------------------------


class PlanItemForm(msgspec.Struct):
    plan_date: str = ""
    customer_id: str = ""
    planned_time: str = ""
    purpose: str = ""
    note: str = ""


class VisitDoneForm(msgspec.Struct):
    summary: str = ""
    result: str = ""


def _editable(plan: VisitPlanRead | None) -> bool:
    return plan is None or plan.status in ("draft", "returned")


def _item(form: PlanItemForm) -> PlanItemWrite:
    """The add form as one of the API's plan items: its own checks answer 422 on the field."""
    if not form.customer_id.strip():
        raise ValidationFailed.field("customer_id", "Choose a customer")
    customer_id = _uuid(form.customer_id, "customer_id", "Choose a customer")
    try:
        at = time.fromisoformat(form.planned_time.strip())
    except ValueError:
        raise ValidationFailed.field("planned_time", "Give the time of the visit") from None
    if form.purpose not in PURPOSES:
        raise ValidationFailed.field("purpose", "Choose the purpose of the visit")
    note = form.note.strip() or None
    try:
        return msgspec.convert(
            {"customer_id": customer_id, "planned_time": at, "purpose": form.purpose, "note": note},
            PlanItemWrite,
            from_attributes=False,
            strict=False,
        )
    except msgspec.ValidationError:
        raise ValidationFailed.field("note", "The note is too long") from None


def _writes(plan: VisitPlanRead) -> list[PlanItemWrite]:
    return [
        PlanItemWrite(customer_id=i.customer_id, planned_time=i.planned_time, purpose=i.purpose, note=i.note)  # type: ignore[arg-type]
        for i in plan.items
    ]


async def _plan_for(scope: TenantScope, day: date) -> VisitPlanRead | None:
    page = await visit_plans.list_plans(
        scope, membership_id=scope.membership_id, date_from=day, date_to=day, limit=1
    )
    return page.items[0] if page.items else None


async def _plan_changed(
    request: Request[Any, Any, Any], scope: TenantScope, plan: VisitPlanRead, message: str
) -> Template:
    return await _render(
        request,
        scope,
        "app/_plan_changed.html",
        plan=plan,
        plan_day=plan.plan_date,
        editable=_editable(plan),
        choices=await _picker_choices(scope),
        message=message,
    )


@get("/visit-plans")
async def plans_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    page = await visit_plans.list_plans(
        tenant_scope, membership_id=tenant_scope.membership_id, limit=PAGE_SIZE, cursor=_cursor(request)
    )
    if _more(request):
        return await _render(request, tenant_scope, "app/_plan_items.html", page=page)
    today = local_today(tenant_scope.time_zone)
    asked = request.query_params.get("date", "").strip()
    try:
        day = date.fromisoformat(asked) if asked else today + timedelta(days=1)
    except ValueError:
        day = today + timedelta(days=1)
    plan = await _plan_for(tenant_scope, day) if tenant_scope.membership_id else None
    return await _render(
        request,
        tenant_scope,
        "app/visit_plans.html",
        page=page,
        plan=plan,
        plan_day=day,
        today=today,
        editable=_editable(plan) and day >= today,
        choices=await _picker_choices(tenant_scope),
    )


@get("/visit-plans/{plan_id:uuid}")
async def plan_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    plan = await visit_plans.get_plan(tenant_scope, plan_id)
    mine = plan.membership_id == tenant_scope.membership_id
    return await _render(
        request,
        tenant_scope,
        "app/visit_plan.html",
        plan=plan,
        plan_day=plan.plan_date,
        mine=mine,
        editable=mine and _editable(plan) and plan.plan_date >= local_today(tenant_scope.time_zone),
        choices=await _picker_choices(tenant_scope) if mine else [],
    )


@post("/visit-plans")
async def add_first_item(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[PlanItemForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The add form on a day with no plan yet: the plan, made with this first visit."""
    day = _day(data.plan_date, "plan_date")
    item = _item(data)
    plan = await visit_plans.create_plan(tenant_scope, VisitPlanCreate(plan_date=day, items=[item]))
    return await _plan_changed(request, tenant_scope, plan, N_("Added to the plan."))


@post("/visit-plans/{plan_id:uuid}/items")
async def add_item(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    plan_id: FromPath[UUID],
    data: Annotated[PlanItemForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    plan = await visit_plans.get_plan(tenant_scope, plan_id)
    item = _item(data)
    plan = await visit_plans.update_plan(tenant_scope, plan_id, VisitPlanUpdate(items=[*_writes(plan), item]))
    return await _plan_changed(request, tenant_scope, plan, N_("Added to the plan."))


@post("/visit-plans/{plan_id:uuid}/items/{item_id:uuid}/remove")
async def remove_item(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    plan_id: FromPath[UUID],
    item_id: FromPath[UUID],
) -> Template:
    plan = await visit_plans.get_plan(tenant_scope, plan_id)
    kept = [w for w, i in zip(_writes(plan), plan.items, strict=True) if i.id != item_id]
    plan = await visit_plans.update_plan(tenant_scope, plan_id, VisitPlanUpdate(items=kept))
    return await _plan_changed(request, tenant_scope, plan, N_("Removed from the plan."))


@post("/visit-plans/{plan_id:uuid}/submit")
async def submit_plan(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    plan = await visit_plans.submit_plan(tenant_scope, plan_id)
    return await _plan_changed(request, tenant_scope, plan, N_("Submitted for approval."))


@post("/visit-plans/{plan_id:uuid}/items/{item_id:uuid}/done")
async def visit_done(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    plan_id: FromPath[UUID],
    item_id: FromPath[UUID],
    data: Annotated[VisitDoneForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """Log a planned visit: the visit follow-up on the customer, linked to the plan's item."""
    summary = data.summary.strip()
    if not summary:
        raise ValidationFailed.field("summary", "Write what happened")
    if data.result and data.result not in RESULTS:
        raise ValidationFailed.field("result", "Unknown result")
    body: dict[str, Any] = {"kind": "visit", "summary": summary}
    if data.result:
        body["result"] = data.result
    try:
        followup = msgspec.convert(body, FollowupCreate)
    except msgspec.ValidationError:
        raise ValidationFailed.field("summary", "The summary is too long") from None
    plan = await visit_plans.log_visit(tenant_scope, plan_id, item_id, followup)
    item = next(i for i in plan.items if i.id == item_id)
    return await _render(request, tenant_scope, "app/_visit_logged.html", plan=plan, item=item)


# --- daily reports ---------------------------------------------------------------------------------


class ReportForm(msgspec.Struct):
    report_date: str = ""
    competitor_news: str = ""
    customer_feedback: str = ""
    incident_title: str = ""
    incident_description: str = ""
    incident_severity: str = "normal"


def _incident(
    title: str, description: str, severity: str, customer_id: str = "", field: str = ""
) -> IncidentWrite:
    """The incident fields as the API's body: each problem answers 422 on its field."""
    if not title.strip():
        raise ValidationFailed.field(field + "title", "Required")
    if not description.strip():
        raise ValidationFailed.field(field + "description", "Required")
    if severity not in SEVERITIES:
        raise ValidationFailed.field(field + "severity", "Use normal or serious")
    body: dict[str, Any] = {"title": title.strip(), "description": description.strip(), "severity": severity}
    if customer_id.strip():
        body["customer_id"] = _uuid(
            customer_id, field + "customer_id", "No customer you work with has this id"
        )
    try:
        return msgspec.convert(body, IncidentWrite, strict=False)
    except msgspec.ValidationError:
        too_long = field + ("title" if len(body["title"]) > 200 else "description")
        raise ValidationFailed.field(too_long, "This is too long") from None


@get("/daily-reports")
async def reports_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    page = await daily_reports.list_reports(
        tenant_scope, membership_id=tenant_scope.membership_id, limit=PAGE_SIZE, cursor=_cursor(request)
    )
    if _more(request):
        return await _render(request, tenant_scope, "app/_report_items.html", page=page)
    today = local_today(tenant_scope.time_zone)
    asked = request.query_params.get("date", "").strip()
    try:
        day = min(date.fromisoformat(asked), today) if asked else today
    except ValueError:
        day = today
    filed = None
    figures = None
    if tenant_scope.membership_id is not None:
        same_day = await daily_reports.list_reports(
            tenant_scope, membership_id=tenant_scope.membership_id, date_from=day, date_to=day, limit=1
        )
        filed = same_day.items[0] if same_day.items else None
        if filed is None:
            figures = await daily_reports.preview_report(tenant_scope, day)
    return await _render(
        request,
        tenant_scope,
        "app/daily_reports.html",
        page=page,
        day=day,
        today=today,
        filed=filed,
        figures=figures,
    )


@post("/daily-reports")
async def file_report(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[ReportForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    day = _day(data.report_date, "report_date")
    found: list[IncidentWrite] = []
    if data.incident_title.strip() or data.incident_description.strip():
        found.append(
            _incident(
                data.incident_title, data.incident_description, data.incident_severity, field="incidents[0]."
            )
        )
    try:
        body = msgspec.convert(
            {
                "report_date": day,
                "competitor_news": data.competitor_news.strip() or None,
                "customer_feedback": data.customer_feedback.strip() or None,
            },
            DailyReportCreate,
            strict=False,
        )
    except msgspec.ValidationError:
        field = "competitor_news" if len(data.competitor_news) > 5000 else "customer_feedback"
        raise ValidationFailed.field(field, "This is too long") from None
    body.incidents = found
    report = await daily_reports.create_report(tenant_scope, body)
    return await _render(request, tenant_scope, "app/_report_filed.html", report=report)


@get("/daily-reports/{report_id:uuid}")
async def report_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], report_id: FromPath[UUID]
) -> Template:
    report = await daily_reports.get_report(tenant_scope, report_id)
    return await _render(
        request, tenant_scope, "app/daily_report.html", **_report_context(tenant_scope, report)
    )


def _report_context(scope: TenantScope, report: DailyReportRead) -> dict[str, Any]:
    """The report, whether the caller may still edit it (its author, inside the edit window), and
    instants in the tenant's local time."""
    zone = scope.time_zone
    editable = report.membership_id == scope.membership_id and datetime.now(UTC) < report.editable_until
    return {"report": report, "editable": editable, "local_stamp": lambda at: local_stamp(at, zone)}


class ReportEditForm(msgspec.Struct):
    competitor_news: str = ""
    customer_feedback: str = ""
    refresh_figures: str = ""


@post("/daily-reports/{report_id:uuid}")
async def edit_report(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    report_id: FromPath[UUID],
    data: Annotated[ReportEditForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The edit form's answer (htmx): the saved notes and figures in place, or the refusal inline
    (not the author, the edit window closed, a note too long: the service's)."""
    for field, text in (
        ("competitor_news", data.competitor_news),
        ("customer_feedback", data.customer_feedback),
    ):
        if len(text) > 5000:
            raise ValidationFailed.field(field, "This is too long")
    change = DailyReportUpdate(
        competitor_news=data.competitor_news.strip() or None,
        customer_feedback=data.customer_feedback.strip() or None,
        refresh_figures=bool(data.refresh_figures),
    )
    report = await daily_reports.update_report(tenant_scope, report_id, change)
    return await _render(
        request, tenant_scope, "app/_report_saved.html", **_report_context(tenant_scope, report)
    )


# --- market incidents ------------------------------------------------------------------------------


class IncidentForm(msgspec.Struct):
    title: str = ""
    description: str = ""
    severity: str = "normal"
    customer_id: str = ""


@get("/market-incidents")
async def incidents_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    page = await incidents.list_incidents(tenant_scope, limit=PAGE_SIZE, cursor=_cursor(request))
    if _more(request):
        return await _render(request, tenant_scope, "app/_incident_items.html", page=page)
    return await _render(
        request,
        tenant_scope,
        "app/market_incidents.html",
        page=page,
        choices=await _picker_choices(tenant_scope),
    )


@post("/market-incidents")
async def raise_incident(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[IncidentForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    body = _incident(data.title, data.description, data.severity, data.customer_id)
    incident = await incidents.create_incident(tenant_scope, body)
    return await _render(request, tenant_scope, "app/_incident_raised.html", incident=incident)


@get("/market-incidents/{incident_id:uuid}")
async def incident_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], incident_id: FromPath[UUID]
) -> Template:
    incident = await incidents.get_incident(tenant_scope, incident_id)
    return await _render(request, tenant_scope, "app/market_incident.html", incident=incident)


@post("/market-incidents/{incident_id:uuid}/close")
async def close_incident(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], incident_id: FromPath[UUID]
) -> Template:
    incident = await incidents.close_incident(tenant_scope, incident_id)
    return await _render(request, tenant_scope, "app/_incident_closed.html", incident=incident)


# --- return visits ---------------------------------------------------------------------------------


class ReturnVisitForm(msgspec.Struct):
    satisfaction: str = ""
    notes: str = ""
    new_needs: str = ""


@get("/return-visits")
async def return_visits_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    status = request.query_params.get("status", "scheduled")
    status = status if status in VISIT_STATUSES else "scheduled"
    page = await return_visits.list_return_visits(
        tenant_scope,
        status=status,
        assignee=tenant_scope.membership_id,
        limit=PAGE_SIZE,
        cursor=_cursor(request),
    )
    context: dict[str, Any] = {"page": page, "status": status}
    if _more(request):
        return await _render(request, tenant_scope, "app/_return_visit_items.html", **context)
    return await _render(request, tenant_scope, "app/return_visits.html", **context)


@post("/return-visits/{visit_id:uuid}/log")
async def log_return_visit(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    visit_id: FromPath[UUID],
    data: Annotated[ReturnVisitForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    if data.satisfaction not in ("1", "2", "3", "4", "5"):
        raise ValidationFailed.field("satisfaction", "Rate the satisfaction from 1 to 5")
    try:
        body = msgspec.convert(
            {
                "satisfaction": int(data.satisfaction),
                "notes": data.notes.strip() or None,
                "new_needs": data.new_needs.strip() or None,
            },
            ReturnVisitLog,
        )
    except msgspec.ValidationError:
        field = "notes" if len(data.notes) > 2000 else "new_needs"
        raise ValidationFailed.field(field, "This is too long") from None
    visit = await return_visits.log_return_visit(tenant_scope, visit_id, body)
    return await _render(request, tenant_scope, "app/_return_visit_logged.html", v=visit)


class NeedDealForm(msgspec.Struct):
    title: str = ""
    amount: str = ""


@post("/return-visits/{visit_id:uuid}/deal")
async def deal_from_needs(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    visit_id: FromPath[UUID],
    data: Annotated[NeedDealForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """A logged return visit's new needs become a deal (once), in the tenant's currency."""
    title = data.title.strip()
    if not title:
        raise ValidationFailed.field("title", "Required")
    try:
        amount = Decimal(data.amount.strip() or "0")
    except InvalidOperation:
        raise ValidationFailed.field("amount", "Give the amount as a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed.field("amount", "Give the amount as a number")
    try:
        body = msgspec.convert({"title": title, "amount": amount}, NeedDeal)
    except msgspec.ValidationError:
        raise ValidationFailed.field("title", "This is too long") from None
    deal = await return_visits.deal_from_needs(tenant_scope, visit_id, body)
    return await _render(request, tenant_scope, "app/_need_deal_made.html", deal=deal, visit_id=visit_id)


ROUTER = Router(
    path="/",
    route_handlers=[
        customer_picker,
        plans_page,
        plan_page,
        add_first_item,
        add_item,
        remove_item,
        submit_plan,
        visit_done,
        reports_page,
        file_report,
        report_page,
        edit_report,
        incidents_page,
        raise_incident,
        incident_page,
        close_incident,
        return_visits_page,
        log_return_visit,
        deal_from_needs,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
