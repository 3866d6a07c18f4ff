"""Cross-territory requests (跨区申请) on the web.

``/cross-territory-requests``: the member's own requests with their state (pending, approved until
when, rejected with the manager's comment), newest first, and the form to ask — prefilled from where
they met the territory line: the pool of a territory they do not work (``?territory_id=``), a
duplicate entry of a company that is another territory's (``?conflict_id=``), a customer they can
see but not work (``?customer_id=``). ``/cross-territory-requests/{id}``: one request (where a
notification links), with the decision for whoever may take it. The decisions the approvals inbox
posts, one at a time, are here too (``/cross-territory-requests/{id}/approve`` and ``/reject``).

Everything is ``app.customers.access_requests``' (``create_request``, ``list_mine``, ``get_request``,
``decide``): another tenant's or an invisible request is the 404 page, a rep deciding their 403, a
decided request the 409 beside the button."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers import access_requests
from app.customers.pool.schemas import AccessDecision, AccessRequestCreate, AccessRequestRead
from app.customers.service import get_customer
from app.errors import ValidationFailed
from app.territories.service import list_territories
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
DEFAULT_DAYS = 30
MAX_REASON = 1000
MAX_COMMENT = 2000


def local_day(scope: TenantScope, moment: datetime | None) -> str:
    """A moment as the tenant's calendar day (``2026-12-31``)."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(scope.time_zone)).date().isoformat()


def words(scope: TenantScope) -> dict[str, Any]:
    """What the request templates need to show dates in the tenant's zone."""
    return {"day": lambda moment: local_day(scope, moment)}


def _uuid(value: str | None, field: str) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise ValidationFailed.field(field, "This is not a valid id") from None


def _until(scope: TenantScope, value: str) -> datetime:
    """The last moment of the chosen day in the tenant's zone: a request "until 31 December" holds
    through that day."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed.field("until", "Choose a date") from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(scope.time_zone))


async def _form_context(request: Request[Any, Any, Any], scope: TenantScope) -> dict[str, Any]:
    """The request form's choices and what the page was opened for."""
    query = request.query_params
    customer_id = _uuid(query.get("customer_id"), "customer_id")
    conflict_id = _uuid(query.get("conflict_id"), "conflict_id")
    territory_id = _uuid(query.get("territory_id"), "territory_id")
    worked = await access_requests.worked_territories(scope)
    territories = [
        t for t in (await list_territories(scope, limit=200)).items if worked is None or t.id not in worked
    ]
    zone = ZoneInfo(scope.time_zone)
    today = datetime.now(zone).date()
    customer = await get_customer(scope, customer_id) if customer_id else None
    return {
        "territories": territories,
        "works_everything": worked is None,
        "customer": customer,
        "conflict_id": conflict_id,
        "territory_id": territory_id,
        "default_until": (today + timedelta(days=DEFAULT_DAYS)).isoformat(),
        "min_until": today.isoformat(),
        "max_until": (today + timedelta(days=365)).isoformat(),
    }


@get("/cross-territory-requests")
async def requests_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    cursor = request.query_params.get("cursor") or None
    found = await access_requests.list_mine(tenant_scope, limit=PAGE_SIZE, cursor=cursor)
    context: dict[str, Any] = {"mine": found.items, "mine_more": found.next_cursor, **words(tenant_scope)}
    if is_htmx(request) and cursor:
        return await render(request, tenant_scope, "app/_access_mine.html", **context)
    context.update(await _form_context(request, tenant_scope))
    return await render(request, tenant_scope, "app/access_requests.html", **context)


@post("/cross-territory-requests")
async def ask(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Response[Any]:
    """Send the request; its page next (the refusal beside the button)."""
    form = await request.form()
    reason = str(form.get("reason") or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "Say why you need to work it")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.field("reason", "At most {max} characters", max=MAX_REASON)
    data = AccessRequestCreate(
        reason=reason,
        until=_until(tenant_scope, str(form.get("until") or "")),
        customer_id=_uuid(str(form.get("customer_id") or ""), "customer_id"),
        territory_id=_uuid(str(form.get("territory_id") or ""), "territory_id"),
        conflict_id=_uuid(str(form.get("conflict_id") or ""), "conflict_id"),
    )
    read = await access_requests.create_request(tenant_scope, data)
    return Response("", status_code=200, headers={"HX-Redirect": f"/cross-territory-requests/{read.id}"})


@get("/cross-territory-requests/{request_id:uuid}")
async def request_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], request_id: FromPath[UUID]
) -> Template:
    read = await access_requests.get_request(tenant_scope, request_id)
    may = await access_requests.decidable(tenant_scope, read)
    return await render(
        request, tenant_scope, "app/access_request.html", r=read, may=may, **words(tenant_scope)
    )


async def comment_of(request: Request[Any, Any, Any]) -> str | None:
    form = await request.form()
    comment = str(form.get("comment") or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise ValidationFailed.field("comment", "At most {max} characters", max=MAX_COMMENT)
    return comment


async def _decide(
    request: Request[Any, Any, Any], scope: TenantScope, request_id: UUID, approve: bool
) -> Template:
    comment = await comment_of(request)
    done = await access_requests.decide(scope, request_id, approve, AccessDecision(comment=comment))
    return await render(
        request,
        scope,
        "app/_approval_decided.html",
        target=f"access-{request_id}",
        status=done.status,
        comment=comment,
    )


@post("/cross-territory-requests/{request_id:uuid}/approve")
async def approve(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], request_id: FromPath[UUID]
) -> Template:
    return await _decide(request, tenant_scope, request_id, True)


@post("/cross-territory-requests/{request_id:uuid}/reject")
async def reject(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], request_id: FromPath[UUID]
) -> Template:
    return await _decide(request, tenant_scope, request_id, False)


async def inbox(
    scope: TenantScope, cursor: str | None
) -> tuple[list[tuple[AccessRequestRead, bool]], str | None]:
    """The approvals inbox's cross-territory part: a manager's pending requests to decide; a rep's
    own pending ones (without actions)."""
    if scope.at_least("manager"):
        found = await access_requests.list_to_decide(scope, limit=PAGE_SIZE, cursor=cursor)
        return [(r, True) for r in found.items], found.next_cursor
    mine = await access_requests.list_mine(scope, status="pending", limit=PAGE_SIZE, cursor=cursor)
    return [(r, False) for r in mine.items], mine.next_cursor


async def decide_one(scope: TenantScope, request_id: UUID, approve: bool, comment: str | None) -> str:
    """The bulk decision's step for one request: its new status (an ``AppError`` says why not)."""
    return (await access_requests.decide(scope, request_id, approve, AccessDecision(comment=comment))).status


ROUTER = Router(
    path="/",
    route_handlers=[requests_page, ask, request_page, approve, reject],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
