"""The approvals inbox (``/approvals``): what waits for the manager's decision — quotes (under the floor
price, formal), stage skips, visit plans, cross-territory requests — each with its context inline (the
quote's lines with their margin over the floor, the deal and its stage history, the plan's visits),
decided one at a time or in bulk, with a comment.

Everything is the services': ``app.deals.approvals`` (``list_approvals``, ``decide``) for the deal
requests, ``app.sales.field.visit_plans`` (``list_plans``, ``decide_plan``) for the plans,
``app.customers.access_requests`` (through ``app.web.access_requests``) for the cross-territory
requests (the rep who asked, where they work, what and until when, why), and the deal, quote and
stage-history readers for the context. An approval the member may not see is their
404; one they may see but not decide their 403; a rep sees their own requests, without actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.deals import approvals, quotes
from app.deals import service as deals
from app.deals.schemas import ApprovalRead, DealRead, QuoteRead, StageChangeRead
from app.errors import AppError, NotFound, ValidationFailed
from app.i18n import N_
from app.sales.field import visit_plans
from app.sales.field.schemas import PlanDecision, VisitPlanRead
from app.web import access_requests
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.members import list_members
from tenants.scope import TenantScope

PAGE_SIZE = 20
BULK_MAX = 100
STAGES = {
    "prospect_list": N_("Prospect list"),
    "first_visit": N_("First visit"),
    "exchange_research": N_("Exchange and research"),
    "demo": N_("Demo"),
    "formal_quote": N_("Formal quote"),
    "objections_cleared": N_("Objections cleared"),
    "negotiation": N_("Negotiation"),
    "signed": N_("Signed"),
    "won": N_("Won"),
    "lost": N_("Lost"),
}
KINDS = {
    "quote": N_("Quotes"),
    "stage": N_("Stage skips"),
    "visit_plan": N_("Visit plans"),
    "cross_territory": N_("Cross-territory requests"),
    "registration": N_("Registered customers"),
}
PICKABLE = ("approval", "plan", "access")
REASONS = {"below_floor": N_("Under the floor price"), "formal": N_("Formal quote")}


@dataclass
class QuoteLine:
    line: Any
    floor_amount: Decimal
    margin_percent: Decimal | None  # the unit price over (under) the floor price


@dataclass
class Asked:
    """One deal approval with its context."""

    approval: ApprovalRead
    deal: DealRead | None
    history: list[StageChangeRead]
    quote: QuoteRead | None = None
    lines: list[QuoteLine] = field(default_factory=list)
    floor_total: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)
    may_decide: bool = False


def money(amount: Decimal, currency: str) -> str:
    """An amount as people write it: ``¥50,000.00`` for yuan, else with the currency's code."""
    text = f"{amount:,.2f}"
    return f"¥{text}" if currency == "CNY" else f"{text} {currency}"


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole * 100).quantize(Decimal("0.1")) if whole else None


async def member_names(scope: TenantScope) -> dict[UUID, str]:
    """Membership id → the member's name (or email), for showing who asked and who decided."""
    names: dict[UUID, str] = {}
    cursor = None
    for _ in range(20):
        page = await list_members(scope, limit=200, cursor=cursor)
        names.update({m.id: m.name or m.email for m in page.items})
        cursor = page.next_cursor
        if not cursor:
            break
    return names


async def _context(scope: TenantScope, approval: ApprovalRead) -> Asked:
    try:  # a member asking to claim a registered customer does not see the other team's deal
        deal = await deals.get_deal(scope, approval.deal_id) if approval.deal_id else None
    except NotFound:
        deal = None
    history = await deals.stage_history(scope, deal.id) if deal else []
    item = Asked(
        approval,
        deal,
        history,
        may_decide=approval.status == "pending"
        and scope.at_least("manager")
        and (approval.requested_by != scope.membership_id or scope.at_least("admin")),
    )
    if approval.kind == "quote":
        item.quote = await quotes.get_quote(scope, approval.subject_id)
        for line in item.quote.lines:
            floor = line.floor_price * line.quantity
            item.lines.append(
                QuoteLine(line, floor, _percent(line.unit_price - line.floor_price, line.floor_price))
            )
            item.floor_total += floor
        item.margin = sum((line.amount for line in item.quote.lines), Decimal(0)) - item.floor_total
    return item


def _plan_decidable(scope: TenantScope, plan: VisitPlanRead) -> bool:
    return (
        plan.status == "submitted" and scope.at_least("manager") and plan.membership_id != scope.membership_id
    )


@get("/approvals")
async def approvals_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    kind = request.query_params.get("kind") or None
    if kind not in (None, *KINDS):
        kind = None
    section = request.query_params.get("section")
    cursor = request.query_params.get("cursor") or None
    context: dict[str, Any] = {
        "kind": kind,
        "kinds": KINDS,
        "stages": STAGES,
        "reasons": REASONS,
        "money": money,
        "names": await member_names(tenant_scope),
    }
    context.update(access_requests.words(tenant_scope), pick=True)
    page_cursor = cursor if section else None
    if kind in (None, "quote", "stage", "registration") and section in (None, "requests"):
        found = await approvals.list_approvals(
            tenant_scope, status="pending", kind=kind, limit=PAGE_SIZE, cursor=cursor if section else None
        )
        context["requests"] = [await _context(tenant_scope, a) for a in found.items]
        context["requests_more"] = found.next_cursor
    if kind in (None, "cross_territory") and section in (None, "access"):
        context["access"], context["access_more"] = await access_requests.inbox(tenant_scope, page_cursor)
    if kind in (None, "visit_plan") and section in (None, "plans"):
        plans = await visit_plans.list_plans(
            tenant_scope, status="submitted", limit=PAGE_SIZE, cursor=cursor if section else None
        )
        context["plans"] = [(p, _plan_decidable(tenant_scope, p)) for p in plans.items]
        context["plans_more"] = plans.next_cursor
    if is_htmx(request) and section == "requests":
        return await render(request, tenant_scope, "app/_approval_items.html", **context)
    if is_htmx(request) and section == "plans":
        return await render(request, tenant_scope, "app/_approval_plans.html", **context)
    if is_htmx(request) and section == "access":
        return await render(request, tenant_scope, "app/_approval_access.html", **context)
    return await render(request, tenant_scope, "app/approvals.html", **context)


async def _form(request: Request[Any, Any, Any]) -> tuple[str | None, list[str], str]:
    form = await request.form()
    comment = str(form.get("comment") or "").strip() or None
    if comment is not None and len(comment) > 2000:
        raise ValidationFailed.field("comment", "At most {max} characters", max=2000)
    return (
        comment,
        [str(v) for v in form.getall("ids")] if "ids" in form else [],
        str(form.get("decision") or ""),
    )


async def _decide_approval(
    request: Request[Any, Any, Any], scope: TenantScope, approval_id: UUID, approve: bool
) -> Template:
    comment, _, _ = await _form(request)
    done = await approvals.decide(scope, approval_id, approve, comment)
    return await render(
        request,
        scope,
        "app/_approval_decided.html",
        target=f"approval-{approval_id}",
        status=done.status,
        comment=comment,
    )


@post("/approvals/{approval_id:uuid}/approve")
async def approve(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], approval_id: FromPath[UUID]
) -> Template:
    return await _decide_approval(request, tenant_scope, approval_id, True)


@post("/approvals/{approval_id:uuid}/reject")
async def reject(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], approval_id: FromPath[UUID]
) -> Template:
    return await _decide_approval(request, tenant_scope, approval_id, False)


async def _decide_plan(
    request: Request[Any, Any, Any], scope: TenantScope, plan_id: UUID, approve: bool
) -> Template:
    comment, _, _ = await _form(request)
    done = await visit_plans.decide_plan(scope, plan_id, approve, PlanDecision(comment=comment))
    return await render(
        request,
        scope,
        "app/_approval_decided.html",
        target=f"plan-{plan_id}",
        status=done.status,
        comment=comment,
    )


@post("/visit-plans/{plan_id:uuid}/approve")
async def approve_plan(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    return await _decide_plan(request, tenant_scope, plan_id, True)


@post("/visit-plans/{plan_id:uuid}/return")
async def return_plan(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    return await _decide_plan(request, tenant_scope, plan_id, False)


def _parse_ids(values: list[str]) -> list[tuple[str, UUID]]:
    chosen: list[tuple[str, UUID]] = []
    for value in values:
        kind, _, raw = value.partition(":")
        try:
            if kind not in PICKABLE:
                raise ValueError(kind)
            chosen.append((kind, UUID(raw)))
        except ValueError:
            raise ValidationFailed.field("ids", "This is not a valid id") from None
    return chosen


@post("/approvals/bulk")
async def bulk(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    """Decide every chosen request the same way: each on its own (one refusal does not stop the
    others), the answer saying which were decided and why the others were not."""
    comment, values, decision = await _form(request)
    if decision not in ("approve", "reject"):
        raise ValidationFailed.field("decision", "Choose approve or reject")
    chosen = _parse_ids(values)
    if not chosen:
        raise ValidationFailed.field("ids", "Choose at least one request")
    if len(chosen) > BULK_MAX:
        raise ValidationFailed.field("ids", "Choose at most {max} requests at once", max=BULK_MAX)
    approve = decision == "approve"
    decided: list[tuple[str, str]] = []  # (element id, status)
    refused: list[tuple[str, str]] = []  # (element id, message)
    for kind, subject in chosen:
        target = f"{kind}-{subject}"
        try:
            if kind == "approval":
                status = (await approvals.decide(tenant_scope, subject, approve, comment)).status
            elif kind == "access":
                status = await access_requests.decide_one(tenant_scope, subject, approve, comment)
            else:
                plan = await visit_plans.decide_plan(
                    tenant_scope, subject, approve, PlanDecision(comment=comment)
                )
                status = plan.status
            decided.append((target, status))
        except AppError as exc:
            refused.append((target, error_text(tenant_scope.locale, exc)))
    return await render(
        request, tenant_scope, "app/_approval_bulk.html", decided=decided, refused=refused, comment=comment
    )


ROUTER = Router(
    path="/",
    route_handlers=[approvals_page, approve, reject, approve_plan, return_plan, bulk],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
