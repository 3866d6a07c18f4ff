"""Handovers and dispatch (客户移交 / 分配): ``/handovers/new`` (the wizard: which customers → receivers
and mode → options → the preview), ``/handovers/{id}`` (a plan: its preview while a draft, execute;
once executed its handover sheet — the rows on the page, paged, and the document — and the 24-hour
Undo), ``/handovers`` (past plans, newest first).

Everything is the handover services' (``draft_plan``, ``create_plan``, ``get_plan``, ``list_plans``,
``execute_plan``, ``undo_plan``), as its API routes call them: a rep is their 403, another tenant's or
an invisible plan their 404. A stale plan (the execution's 409: customers changed since the preview) has been
planned again by the service: the page shows the fresh preview and asks again.

The wizard takes the team table's selection (``customer_id`` … or ``all=1`` with the table's filter,
see ``team_customers.selection_for``) or criteria chosen here (owners, territories, grades, statuses,
the pool for a dispatch)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers.duplicates import resolve_conflict
from app.documents.service import get_document
from app.errors import Conflict, NotFound, ValidationFailed
from app.handover import execute, plan, sheet
from app.handover.schemas import HandoverCreate, HandoverRead, HandoverSelection
from app.i18n import N_
from app.territories.service import list_territories
from app.web import team_customers
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants.scope import TenantScope

PAGE_SIZE = 20
SHEET_PAGE = 50
MODES = {
    "single": N_("One rep"),
    "round_robin": N_("Round-robin"),
    "capacity": N_("By capacity (with weights)"),
    "pool": N_("Back to the pool"),
}
KINDS = {
    "handover": N_("Handover"),
    "dispatch": N_("Dispatch"),
    "offboarding": N_("Offboarding"),
    "realign": N_("Realignment"),
}
STATUSES = {"draft": N_("Draft"), "executed": N_("Executed"), "undone": N_("Undone")}
GRADES = ("A", "B", "C", "D")
SELECTABLE_STATUSES = ("prospect", "won", "lost")
HANDED_OVER = "handed over"  # a conflict's resolution, stored as written


def _uuids(values: list[str], field: str) -> list[UUID]:
    try:
        return list(dict.fromkeys(UUID(v) for v in values if v))
    except ValueError:
        raise ValidationFailed.field(field, "Unknown id") from None


def _int(value: str | None, field: str, default: int) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed.field(field, "Use a whole number") from None


def _create(form: Any) -> HandoverCreate:
    """The wizard's form as the API's body (the schema's own bounds answer 422)."""
    selection = {
        "owner_ids": _uuids(form.getall("owner_ids", []), "owner_ids"),
        "pool": form.get("pool") == "1",
        "territory_ids": _uuids(form.getall("territory_ids", []), "territory_ids"),
        "grades": [g for g in form.getall("grades", []) if g],
        "statuses": [s for s in form.getall("statuses", []) if s],
        "customer_ids": _uuids(form.getall("customer_id", []), "customer_id"),
    }
    mode = form.get("mode") or "round_robin"
    targets = [
        {"membership_id": m, "weight": _int(form.get(f"weight_{m}"), "weight", 1)}
        for m in _uuids(form.getall("targets", []), "targets")
    ]
    body = {
        "reason": form.get("reason") or "",
        "selection": selection,
        "targets": [] if mode == "pool" else targets,
        "mode": mode,
        "options": {
            "carry_deals": form.get("carry_deals") == "1",
            "carry_envelopes": form.get("carry_envelopes") == "1",
            "keep_read_days": _int(form.get("keep_read_days"), "keep_read_days", 0),
            "previous_owner_signs": form.get("previous_owner_signs") == "1",
        },
    }
    try:
        return msgspec.convert(body, HandoverCreate)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = next(
            (f for f in ("weight", "keep_read_days", "reason", "mode", "grades", "statuses") if f in text),
            "selection",
        )
        message = {
            "weight": N_("Use a weight from 1 to 100"),
            "keep_read_days": N_("Use 0 to 90 days"),
            "reason": N_("At most 1000 characters"),
        }.get(field, "The request has invalid fields")
        raise ValidationFailed.field(field, message) from None


async def _wizard_context(scope: TenantScope) -> dict[str, Any]:
    return {
        "members": await team_customers.team_members(scope),
        "territories": (await list_territories(scope, limit=200)).items,
        "modes": MODES,
        "grades": GRADES,
        "statuses": SELECTABLE_STATUSES,
    }


@get("/handovers/new")
async def new_handover(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The wizard, with the team table's selection when it comes from there."""
    tenant_scope.require("manager")
    params = request.query_params
    ids = params.getall("customer_id", [])
    everything = params.get("all") == "1"
    chosen = team_customers.read_filters(params)
    selection = HandoverSelection()
    from_table = bool(ids) or everything
    if from_table:
        selection = await team_customers.selection_for(tenant_scope, chosen, ids, everything=everything)
    elif params.get("owner_ids"):
        selection.owner_ids = _uuids(params.getall("owner_ids", []), "owner_ids")
    count = None
    if everything and not selection.customer_ids:
        count = await team_customers.matching_count(tenant_scope, chosen)
    return await render(
        request,
        tenant_scope,
        "app/handover_new.html",
        selection=selection,
        from_table=from_table,
        count=count if count is not None else len(selection.customer_ids),
        back="/customers?" + team_customers.urlencode({"view": "team", **chosen}),
        offboard=",".join(str(i) for i in _uuids([params.get("offboard") or ""], "offboard")),
        **await _wizard_context(tenant_scope),
    )


@post("/handovers")
async def create(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[Any]:
    """Draft the plan and go to its page, which previews it."""
    form = await request.form()
    plan_id = await plan.draft_plan(tenant_scope, _create(form))  # its page previews it
    offboard = _uuids([form.get("offboard") or ""], "offboard")  # a leaving member's, handed over
    after = f"?offboard={offboard[0]}" if offboard else ""
    return Response("", status_code=200, headers={"HX-Redirect": f"/handovers/{plan_id}{after}"})


def _local(scope: TenantScope, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(scope.time_zone)).strftime("%Y-%m-%d %H:%M")


async def _sheet(request: Request[Any, Any, Any], scope: TenantScope, read: HandoverRead) -> Any:
    if read.document_id is None:
        return None
    try:
        return await get_document(scope, request.app.state.storage, read.document_id)
    except NotFound:
        return None


async def _plan_context(
    request: Request[Any, Any, Any], scope: TenantScope, read: HandoverRead
) -> dict[str, Any]:
    members = {m.id: m.name or m.email for m in await team_customers.team_members(scope)}
    offboard = request.query_params.get("offboard") or ""
    conflict = request.query_params.get("conflict") or ""
    return {
        "plan": read,
        "created_at": _local(scope, read.created_at),
        "sheet": await _sheet(request, scope, read),
        "modes": MODES,
        "kinds": KINDS,
        "statuses": STATUSES,
        "member_names": members,
        "undo_until": _local(scope, read.undo_until),
        "executed_at": _local(scope, read.executed_at),
        "read_until": _local(scope, read.read_until),
        "signed_at": {s.email: _local(scope, s.signed_at) for s in read.sheet_signers},
        "offboard": offboard,
        "conflict": conflict,
    }


def _sheet_page(request: Request[Any, Any, Any]) -> int:
    """The page of the sheet's rows asked for (``?rows=2``), from 1."""
    raw = request.query_params.get("rows") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ValidationFailed.field("rows", "Choose a page from 1")
    return int(raw)


async def _sheet_rows(
    request: Request[Any, Any, Any], scope: TenantScope, read: HandoverRead
) -> dict[str, Any]:
    """The sheet's rows once the plan ran (a draft shows its preview instead)."""
    if read.status == "draft":
        return {"rows": None}
    number = _sheet_page(request)
    rows = await sheet.sheet_rows(scope, read.id, limit=SHEET_PAGE, offset=(number - 1) * SHEET_PAGE)
    pages = max(1, -(-rows.total // SHEET_PAGE))
    return {"rows": rows, "rows_page": number, "rows_pages": pages}


@get("/handovers/{plan_id:uuid}")
async def plan_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    read = await plan.get_plan(tenant_scope, plan_id)
    context = await _plan_context(request, tenant_scope, read)
    part = request.query_params.get("part") if is_htmx(request) else None
    if part == "sheet":
        return await render(request, tenant_scope, "app/_handover_sheet.html", **context)
    context.update(await _sheet_rows(request, tenant_scope, read))
    if part == "rows":
        return await render(request, tenant_scope, "app/_handover_sheet_rows.html", **context)
    return await render(request, tenant_scope, "app/handover.html", **context)


def _retarget(template: Template) -> Template:
    """Success replaces the whole plan body (the action's errors go beside its button)."""
    template.headers.update({"HX-Retarget": "#plan-body", "HX-Reswap": "outerHTML"})
    return template


@post("/handovers/{plan_id:uuid}/execute")
async def execute_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    """Run the draft: the executed plan with its Undo — or, when it went stale, the fresh preview."""
    form = await request.form()
    try:
        read = await execute.execute_plan(tenant_scope, plan_id)
    except Conflict as exc:
        if "handover" not in exc.extra:
            raise
        fresh = await plan.get_plan(tenant_scope, plan_id)
        context = await _plan_context(request, tenant_scope, fresh)
        context.update(
            offboard=form.get("offboard") or "",
            conflict=form.get("conflict") or "",
            stale=error_text(tenant_scope.locale, exc),
            changed=exc.extra.get("changed") or [],
        )
        return _retarget(
            await render(request, tenant_scope, "app/_handover_body.html", status_code=409, **context)
        )
    conflict = form.get("conflict") or ""
    if conflict:  # a 撞单 resolved by handing it over to the other rep
        await resolve_conflict(tenant_scope, _uuids([conflict], "conflict")[0], HANDED_OVER)
    context = await _plan_context(request, tenant_scope, read)
    context.update(offboard=form.get("offboard") or "", conflict="")
    context.update(await _sheet_rows(request, tenant_scope, read))
    return _retarget(await render(request, tenant_scope, "app/_handover_body.html", **context))


@post("/handovers/{plan_id:uuid}/undo")
async def undo_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    read = await execute.undo_plan(tenant_scope, plan_id)
    context = await _plan_context(request, tenant_scope, read)
    context.update(await _sheet_rows(request, tenant_scope, read))
    return _retarget(await render(request, tenant_scope, "app/_handover_body.html", **context))


@get("/handovers")
async def handovers_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    status = request.query_params.get("status") or None
    kind = request.query_params.get("kind") or None
    found = await plan.list_plans(
        tenant_scope,
        status=status,
        kind=kind,
        limit=PAGE_SIZE,
        cursor=request.query_params.get("cursor") or None,
    )
    chosen = {k: v for k, v in (("status", status), ("kind", kind)) if v}
    context: dict[str, Any] = {
        "page": found,
        "chosen": chosen,
        "more_query": team_customers.urlencode(chosen),
        "kinds": KINDS,
        "statuses": STATUSES,
        "local": lambda moment: _local(tenant_scope, moment),
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return await render(request, tenant_scope, "app/_handover_rows.html", **context)
    return await render(request, tenant_scope, "app/handovers.html", **context)


ROUTER = Router(
    path="/",
    route_handlers=[new_handover, create, plan_page, execute_page, undo_page, handovers_page],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
