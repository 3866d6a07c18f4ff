"""The member's customers: ``/customers`` (My customers; ``?view=team`` every customer the member sees,
for managers and up), ``/customers/{id}`` (header, pool countdown, follow-up timeline with the quick
log form) and ``POST /customers/{id}/followups`` (htmx). The rules are the customer services': an
invisible or another tenant's customer is their 404, shown as the not-found page."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.customers import followups
from app.customers.pool import status as pool_status
from app.customers.schemas import FollowupCreate
from app.customers.search import list_customers
from app.customers.service import get_customer
from app.errors import ValidationFailed
from app.i18n import N_
from app.web import team_customers
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, page_size, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
KINDS = {
    "call": N_("Call"),
    "visit": N_("Visit"),
    "meeting": N_("Meeting"),
    "message": N_("Message"),
    "demo": N_("Demo"),
    "other": N_("Other"),
}
RESULTS = {
    "no_answer": N_("No answer"),
    "conversation": N_("Conversation"),
    "appointment": N_("Appointment"),
    "presentation": N_("Presentation"),
    "order": N_("Order"),
    "other": N_("Other"),
}
FOLLOWUP_HOUR = time(9)  # a next follow-up picked as a date is due at 09:00 in the tenant's time zone


class FollowupForm(msgspec.Struct):
    kind: str = "call"
    summary: str = ""
    result: str = ""
    next_date: str = ""


@get("/customers")
async def customers_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    if request.query_params.get("view") == "team" and tenant_scope.at_least("manager"):
        return await team_customers.page(request, tenant_scope)
    q = request.query_params.get("q", "").strip() or None
    page = await list_customers(
        tenant_scope,
        owner="me",
        q=q,
        limit=page_size(request, PAGE_SIZE),
        cursor=request.query_params.get("cursor") or None,
    )
    context: dict[str, Any] = {
        "page": page,
        "team": False,
        "q": q or "",
        "more_query": f"q={q}&" if q else "",
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_customer_items.html", **context)
    return await render(request, tenant_scope, "app/customers.html", **context)


async def _timeline(scope: TenantScope, customer_id: UUID) -> list[Any]:
    return (await followups.list_followups(scope, customer_id, limit=50)).items


@get("/customers/{customer_id:uuid}")
async def customer_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], customer_id: FromPath[UUID]
) -> Template:
    customer = await get_customer(tenant_scope, customer_id)
    status = await pool_status.pool_status(tenant_scope, customer_id)
    return await render(
        request,
        tenant_scope,
        "app/customer.html",
        customer=customer,
        status=status,
        timeline=await _timeline(tenant_scope, customer_id),
        kinds=KINDS,
        results=RESULTS,
    )


def _followup(scope: TenantScope, form: FollowupForm) -> FollowupCreate:
    """The form as the API's body: the schema's own checks (kind, result, lengths) answer 422."""
    body: dict[str, Any] = {"kind": form.kind, "summary": form.summary.strip()}
    if form.result:
        body["result"] = form.result
    if form.next_date:
        try:
            day = datetime.fromisoformat(form.next_date).date()
        except ValueError:
            raise ValidationFailed.field("next_date", "Use an ISO 8601 date and time") from None
        body["next_followup_at"] = datetime.combine(day, FOLLOWUP_HOUR, ZoneInfo(scope.time_zone))
    try:
        return msgspec.convert(body, FollowupCreate)
    except msgspec.ValidationError:
        field = "summary" if not body["summary"] else "kind"
        raise ValidationFailed.field(
            field, "Write what happened" if field == "summary" else "Unknown kind"
        ) from None


@post("/customers/{customer_id:uuid}/followups")
async def log_followup(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    customer_id: FromPath[UUID],
    data: Annotated[FollowupForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The quick log form's answer (htmx): a confirmation, and the timeline and countdown anew."""
    await followups.create_followup(tenant_scope, customer_id, _followup(tenant_scope, data))
    status = await pool_status.pool_status(tenant_scope, customer_id)
    return await render(
        request,
        tenant_scope,
        "app/_followup_logged.html",
        timeline=await _timeline(tenant_scope, customer_id),
        status=status,
        kinds=KINDS,
        results=RESULTS,
    )


ROUTER = Router(
    path="/",
    route_handlers=[customers_page, customer_page, log_followup],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
