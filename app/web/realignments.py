"""The realignment wizard (``/realignments/new``, 区域调整): choose the operation — move a subtree,
merge a territory into another, split customers off into another or a new territory — and the owner
rule; the preview (per territory the customers end in: customers, open deals and pipeline, kept /
reassigned / released / conflicts) comes from drafting the plan; executing runs that same plan. A
stale plan (customers changed since the preview) answers 409 with the fresh preview shown in place.

The handover services decide everything (``create_realignment``, ``execute_plan``): who may realign
what (a rep 403, a manager only within their subtrees), the owner rule, conflicts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.errors import Conflict, ValidationFailed
from app.handover.execute import execute_plan
from app.handover.plan import create_realignment
from app.handover.schemas import HandoverRead, RealignCreate
from app.i18n import N_
from app.territories.overview import territory_overview
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, render
from app.web.territories import LEVELS, indent, uuid_field
from tenants.scope import TenantScope

OPERATIONS = {
    "move": (N_("Move"), N_("Move a territory with its subtree under another one.")),
    "merge": (
        N_("Merge"),
        N_("Merge a territory into another: its customers, territories and members go there."),
    ),
    "split": (N_("Split"), N_("Split customers off a territory into another one or a new one.")),
}
OWNER_RULES = {
    "keep": (
        N_("Keep the owners"),
        N_("An owner who does not work the new territory is a conflict to resolve first."),
    ),
    "reassign": (N_("Reassign"), N_("Give their customers to the new territory's reps, by capacity.")),
    "release": (N_("Release to the pool"), N_("Put their customers into the new territory's pool.")),
}
STATUSES = {"prospect": N_("Prospect"), "won": N_("Won"), "lost": N_("Lost"), "closed": N_("Closed business")}


@get("/realignments/new")
async def wizard(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    nodes = await territory_overview(tenant_scope)
    return await render(
        request,
        tenant_scope,
        "app/realignment.html",
        nodes=nodes,
        indent=indent(nodes),
        levels=LEVELS,
        operations=OPERATIONS,
        owner_rules=OWNER_RULES,
        statuses=STATUSES,
        chosen=request.query_params.get("territory_id", ""),
    )


def _body(form: Any) -> RealignCreate:
    operation = str(form.get("operation") or "")
    if operation not in OPERATIONS:
        raise ValidationFailed.field("operation", "Choose move, merge or split")
    body: dict[str, Any] = {
        "reason": str(form.get("reason") or "").strip(),
        "operation": operation,
        "territory_id": uuid_field("territory_id", str(form.get("territory_id") or ""), required=True),
        "owner_rule": str(form.get("owner_rule") or "keep"),
        "carry_deals": bool(form.get("carry_deals")),
        "carry_envelopes": bool(form.get("carry_envelopes")),
    }
    if not body["reason"]:
        raise ValidationFailed.field("reason", "Give a reason for the handover")
    if operation == "move":
        body["new_parent_id"] = uuid_field("new_parent_id", str(form.get("new_parent_id") or ""))
    else:
        body["into_id"] = uuid_field("into_id", str(form.get("into_id") or ""), required=operation == "merge")
    if operation == "split":
        name = str(form.get("new_name") or "").strip()
        if body["into_id"] is None:
            if not name:
                raise ValidationFailed.field("new_name", "Name the new territory, or choose an existing one")
            body["new_territory"] = {"name": name, "level": str(form.get("new_level") or "custom")}
        body["grades"] = [str(g) for g in form.getall("grades")] if "grades" in form else []
        body["statuses"] = [str(s) for s in form.getall("statuses")] if "statuses" in form else []
    try:
        return msgspec.convert(body, RealignCreate)
    except msgspec.ValidationError:
        raise ValidationFailed.field("operation", "This value is not valid") from None


async def _preview(
    request: Request[Any, Any, Any], scope: TenantScope, plan: HandoverRead, **extra: Any
) -> Template:
    return await render(
        request, scope, "app/_realignment_preview.html", plan=plan, operations=OPERATIONS,
        owner_rules=OWNER_RULES, **extra,
    )  # fmt: skip


@post("/realignments")
async def plan(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    """Draft the realignment and show its preview (nothing changes yet)."""
    drafted = await create_realignment(tenant_scope, _body(await request.form()))
    return await _preview(request, tenant_scope, drafted)


@post("/realignments/{plan_id:uuid}/execute")
async def execute(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], plan_id: FromPath[UUID]
) -> Template:
    """Run the previewed plan; when it went stale, the fresh preview replaces the old one."""
    try:
        done = await execute_plan(tenant_scope, plan_id)
    except Conflict as exc:
        fresh = exc.extra.get("handover")
        if not fresh:
            raise
        page = await _preview(
            request,
            tenant_scope,
            msgspec.convert(fresh, HandoverRead),
            stale=error_text(tenant_scope.locale, exc),
        )
        page.status_code = 409
        page.headers.update({"HX-Retarget": "#preview", "HX-Reswap": "innerHTML"})
        return page
    return await render(request, tenant_scope, "app/_realignment_done.html", plan=done)


ROUTER = Router(
    path="/",
    route_handlers=[wizard, plan, execute],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
