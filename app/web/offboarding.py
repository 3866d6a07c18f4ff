"""Offboarding (离职交接): ``/members/{membership_id}/offboard`` — deactivate a member (owner/admin, as
the API's deactivation). A member who still owns customers, open deals or envelopes out is refused by
the deactivation guard (``app.handover.offboarding.refuse_while_owning``) with a prefilled handover
draft: the page then opens that draft (``/handovers/{id}?offboard=…``), where it is previewed and
executed, and its "Complete the deactivation" posts here again — which now passes.

Everything is ``tenants.members`` (``get_member``, ``deactivate_member``): another tenant's member is
its 404, a manager or rep its 403."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.errors import Conflict
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.members import deactivate_member, get_member
from tenants.scope import TenantScope


@get("/members/{membership_id:uuid}/offboard")
async def offboard_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], membership_id: FromPath[UUID]
) -> Template:
    tenant_scope.require("admin")  # the deactivation's own requirement
    member = await get_member(tenant_scope, membership_id)
    return await render(request, tenant_scope, "app/offboard.html", member=member)


@post("/members/{membership_id:uuid}/offboard")
async def offboard(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], membership_id: FromPath[UUID]
) -> Response[Any]:
    """Deactivate; while they still own things, open the prefilled handover draft instead."""
    form = await request.form()
    reason = (form.get("reason") or "").strip() or None
    try:
        member = await deactivate_member(tenant_scope, membership_id, reason)
    except Conflict as exc:
        handover = exc.extra.get("handover_id")
        if not handover:
            raise
        return Response(
            "", status_code=200, headers={"HX-Redirect": f"/handovers/{handover}?offboard={membership_id}"}
        )
    return await render(request, tenant_scope, "app/_offboarded.html", member=member)


ROUTER = Router(
    path="/",
    route_handlers=[offboard_page, offboard],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
