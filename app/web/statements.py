"""Ownership statements on the web: ``/statements`` — "My statements" for a rep (their own, newest
first, each downloadable), every member's for a manager or above (filter by member); the form asks for
one over a period (months, in the tenant's time zone). ``/statements/{id}/pdf`` downloads the sealed
PDF. Everything is ``app.signing.statements``' (a rep asking for another member's gets the 403, another
tenant's statement the 404 page, a bad period its message beside the button)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.errors import ValidationFailed
from app.signing import statements
from app.signing.schemas import StatementCreate
from app.storage import Storage
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.members import list_members
from tenants.scope import TenantScope

PAGE_SIZE = 20


def _month(scope: TenantScope, value: str, field: str) -> datetime:
    """The first moment of a ``YYYY-MM`` month in the tenant's zone."""
    try:
        day = date.fromisoformat(value.strip() + "-01")
    except ValueError:
        raise ValidationFailed.field(field, "Choose a month") from None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(scope.time_zone))


def _next_month(moment: datetime) -> datetime:
    return (
        moment.replace(year=moment.year + 1, month=1)
        if moment.month == 12
        else moment.replace(month=moment.month + 1)
    )


def _uuid(value: str | None, field: str) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise ValidationFailed.field(field, "This is not a valid id") from None


def _day(scope: TenantScope, moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(scope.time_zone)).date().isoformat() if moment else ""


@get("/statements")
async def statements_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    query = request.query_params
    member = _uuid(query.get("member"), "member") if tenant_scope.at_least("manager") else None
    cursor = query.get("cursor") or None
    found = await statements.list_statements(tenant_scope, member, limit=PAGE_SIZE, cursor=cursor)
    context: dict[str, Any] = {
        "items": found.items,
        "more": found.next_cursor,
        "member": member,
        "day": lambda moment: _day(tenant_scope, moment),
    }
    if is_htmx(request) and cursor:
        return await render(request, tenant_scope, "app/_statement_items.html", **context)
    members = []
    if tenant_scope.at_least("manager"):
        members = (await list_members(tenant_scope, limit=200, active=True)).items
    this_month = datetime.now(ZoneInfo(tenant_scope.time_zone)).strftime("%Y-%m")
    return await render(
        request, tenant_scope, "app/statements.html", members=members, this_month=this_month, **context
    )


@post("/statements")
async def ask(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Response[Any]:
    """Ask for a statement over [first month, last month]; the list again (the new one pending)."""
    form = await request.form()
    start = _month(tenant_scope, str(form.get("from") or ""), "from")
    end = _next_month(_month(tenant_scope, str(form.get("to") or ""), "to"))
    member = _uuid(str(form.get("membership_id") or ""), "membership_id")
    await statements.request_statement(
        tenant_scope, StatementCreate(period_start=start, period_end=end, membership_id=member)
    )
    target = (
        f"/statements?member={member}" if member and member != tenant_scope.membership_id else "/statements"
    )
    return Response("", status_code=200, headers={"HX-Redirect": target})


@get("/statements/{statement_id:uuid}/pdf")
async def download(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], statement_id: FromPath[UUID]
) -> Response[bytes]:
    store: Storage = request.app.state.storage
    content, name = await statements.statement_file(tenant_scope, store, statement_id)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


ROUTER = Router(
    path="/",
    route_handlers=[statements_page, ask, download],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
