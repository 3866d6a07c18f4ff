"""Deals (``/deals``): the board by stage (a column per stage, a move menu on every card, drag and
drop from ``js/deals.js`` posting the same move) and the list (``?view=list``, cursor paging), both
filtered by owner, territory, stage and expected close; a new deal (``/deals/new``, from a customer);
and the stage move (``POST /deals/{id}/stage``) that the board and the deal page share.

A move goes through ``stage_moves``: ``move_choices`` says beforehand what a move would meet, so a
move the matrix does not allow directly is *offered* as "request approval" (the request is opened
only when the member confirms); the service's refusals (409 with its ``rule``: ``needs_quote``,
``forbidden``; 422 for a missing reason) are shown where the menu is."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers.search import list_customers
from app.deals import service, stage_moves
from app.deals.schemas import ApprovalRead, DealCreate, DealRead, StageMove
from app.errors import Conflict, ValidationFailed
from app.territories.service import list_territories
from app.web.deal_words import ALL_STAGES, convert, form_value, words
from app.web.pages import error_text
from app.web.shell import is_htmx, render
from tenants.members import list_members
from tenants.scope import TenantScope

COLUMN_SIZE = 20
LIST_SIZE = 25
_FILTERS = ("owner", "territory_id", "stage", "close_from", "close_to")


def _date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.field(field, "Use an ISO 8601 date") from None


def _uuid(value: str, field: str) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise ValidationFailed.field(field, "Check this field") from None


def _filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k in _FILTERS if (v := request.query_params.get(k, "").strip())}


def _query_args(scope: TenantScope, chosen: dict[str, str]) -> dict[str, Any]:
    owner = chosen.get("owner", "")
    stage = chosen.get("stage") or None
    if stage is not None and stage not in ALL_STAGES:
        raise ValidationFailed.field("stage", "Check this field")
    return {
        "owner": scope.membership_id if owner == "me" else _uuid(owner, "owner"),
        "territory_id": _uuid(chosen.get("territory_id", ""), "territory_id"),
        "close_from": _date(chosen.get("close_from", ""), "close_from"),
        "close_to": _date(chosen.get("close_to", ""), "close_to"),
        "stage": stage,
    }


async def member_names(scope: TenantScope) -> dict[UUID, str]:
    """The tenant's members by id (the deal pages show owners and actors by name)."""
    page = await list_members(scope, limit=200)
    return {m.id: m.name or m.email for m in page.items}


def _more_query(chosen: dict[str, str], **extra: str) -> str:
    return "&".join(f"{k}={v}" for k, v in {**chosen, **extra}.items())


@get("/deals")
async def deals_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    chosen = _filters(request)
    args = _query_args(tenant_scope, chosen)
    view = "list" if request.query_params.get("view") == "list" else "board"
    cursor = request.query_params.get("cursor") or None
    context: dict[str, Any] = {"chosen": chosen, "view": view, "filter_query": _more_query(chosen), **words()}
    if view == "list":
        page = await service.list_deals(tenant_scope, **args, limit=LIST_SIZE, cursor=cursor)
        context.update(page=page, more_query=_more_query(chosen, view="list"))
        if is_htmx(request) and cursor:
            context["names"] = await member_names(tenant_scope)
            return await render(request, tenant_scope, "app/_deal_items.html", **context)
    else:
        column = request.query_params.get("column", "")
        if is_htmx(request) and cursor and column in ALL_STAGES:  # "more" in one column
            page = await service.list_deals(
                tenant_scope, **{**args, "stage": column}, limit=COLUMN_SIZE, cursor=cursor
            )
            context.update(
                stage=column,
                deals=page,
                names=await member_names(tenant_scope),
                more_query=_more_query(chosen),
            )
            return await render(request, tenant_scope, "app/_deal_column_items.html", **context)
        shown = [args["stage"]] if args["stage"] else list(ALL_STAGES)
        columns = []
        for stage in shown:
            page = await service.list_deals(tenant_scope, **{**args, "stage": stage}, limit=COLUMN_SIZE)
            columns.append((stage, page))
        context.update(columns=columns, more_query=_more_query(chosen))
    names = await member_names(tenant_scope) if tenant_scope.at_least("manager") else {}
    territories = (await list_territories(tenant_scope, limit=200)).items
    return await render(
        request,
        tenant_scope,
        "app/deals.html",
        names=names,
        territories=territories,
        **context,
    )


@get("/deals/new")
async def new_deal_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The form for a new deal; ``customer_id`` (from a customer's page) chooses the customer."""
    chosen = _uuid(request.query_params.get("customer_id", ""), "customer_id")
    customers = (await list_customers(tenant_scope, owner="me", limit=100)).items
    return await render(
        request, tenant_scope, "app/deal_new.html", customers=customers, chosen=chosen, **words()
    )


@post("/deals")
async def create_deal(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[Any]:
    form = await request.form()
    body: dict[str, Any] = {
        "customer_id": form_value(form, "customer_id"),
        "title": form_value(form, "title"),
        "amount": form_value(form, "amount") or "0",
    }
    if not body["title"]:
        raise ValidationFailed.field("title", "Give the deal a title")
    if close := form_value(form, "expected_close_date"):
        body["expected_close_date"] = close
    if stage := form_value(form, "stage"):
        body["stage"] = stage
    deal = await service.create_deal(tenant_scope, convert(body, DealCreate))
    return Response("", status_code=201, headers={"HX-Redirect": f"/deals/{deal.id}"})


@post("/deals/{deal_id:uuid}/stage")
async def move(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template | Response[Any]:
    """The move menu's (or a drop's) answer. ``where=board``: the card leaves its column for the new
    one; from the deal page the page reloads (a move changes the quote gate, terms, collections)."""
    form = await request.form()
    to = form_value(form, "to")
    reason = form_value(form, "reason") or None
    on_board = form_value(form, "where") == "board"
    confirmed = form_value(form, "request") == "1"
    if to not in ALL_STAGES:
        raise ValidationFailed.field("to", "Choose a stage")
    choice = next((c for c in await stage_moves.move_choices(tenant_scope, deal_id) if c.to == to), None)
    base: dict[str, Any] = {
        "deal_id": deal_id,
        "to": to,
        "reason": reason or "",
        "where": form_value(form, "where"),
        **words(),
    }
    if choice is not None and choice.needs_reason and not reason:
        return await render(request, tenant_scope, "app/_move_reason.html", status_code=422, **base)
    if choice is not None and choice.verdict == "approval" and not confirmed:
        return await render(request, tenant_scope, "app/_move_offer.html", **base)
    try:
        result = await stage_moves.move_stage(tenant_scope, deal_id, StageMove(to=to, reason=reason))  # type: ignore[arg-type]
    except Conflict as exc:
        return await render(
            request,
            tenant_scope,
            "app/_move_refused.html",
            status_code=409,
            message=error_text(tenant_scope.locale, exc),
            rule=exc.extra.get("rule") or "",
            **base,
        )
    if isinstance(result, ApprovalRead):
        return await render(request, tenant_scope, "app/_move_requested.html", status_code=202, **base)
    assert isinstance(result, DealRead)
    if not on_board:
        return Response("", status_code=200, headers={"HX-Refresh": "true"})
    names = await member_names(tenant_scope) if tenant_scope.at_least("manager") else {}
    template = await render(request, tenant_scope, "app/_deal_moved.html", deal=result, names=names, **base)
    template.headers.update({"HX-Retarget": f"#deal-{deal_id}", "HX-Reswap": "outerHTML"})
    return template


ROUTES = [deals_page, new_deal_page, create_deal, move]
