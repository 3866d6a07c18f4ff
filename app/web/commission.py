"""Commission splits on the web: the won deal's split (``/deals/{id}/commission``, loaded into the deal
page: the suggestion with the rule and its figures, the confirmed split, and for a manager the form to
confirm it as suggested or edited), the rule (``/settings/commission``, owner/admin) and the export of
confirmed splits (``/settings/commission/export?format=csv|xlsx``). Everything is
``app.deals.commission``'s; a bad edit is its 422 beside the button."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.deals import commission
from app.deals.schemas import CommissionRulesWrite, CommissionShareWrite, CommissionSplitWrite
from app.errors import ValidationFailed
from app.web.documents import when
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.members import list_members
from tenants.scope import TenantScope


async def _fragment(
    request: Request[Any, Any, Any],
    scope: TenantScope,
    deal_id: UUID,
    *,
    error: str | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The section; after a refusal, with its message beside the button and the figures as entered."""
    found = await commission.commission(scope, deal_id)
    members = (await list_members(scope, limit=200, active=True)).items if scope.at_least("manager") else []
    return await render(
        request,
        scope,
        "app/_commission.html",
        c=found,
        members=members,
        error=error,
        entered=entered,
        when=lambda value: when(value, scope),
        status_code=status_code,
    )


@get("/deals/{deal_id:uuid}/commission")
async def commission_fragment(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template:
    return await _fragment(request, tenant_scope, deal_id)


@post("/deals/{deal_id:uuid}/commission")
async def commission_confirm(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Template:
    tenant_scope.require("manager")
    form = await request.form()
    members, percents = form.getall("membership_id", []), form.getall("percent", [])
    shares = []
    try:
        for i, (member, percent) in enumerate(zip(members, percents, strict=False)):
            if not str(percent).strip():
                continue  # a member left empty takes no share
            try:
                share = CommissionShareWrite(
                    membership_id=UUID(str(member)), percent=Decimal(str(percent).strip())
                )
            except (ValueError, InvalidOperation):
                raise ValidationFailed.field(
                    f"shares[{i}].percent", "Give a percentage over 0 and at most 100, to 0.01"
                ) from None
            shares.append(share)
        await commission.confirm(tenant_scope, deal_id, CommissionSplitWrite(shares=shares))
    except ValidationFailed as exc:  # shown in place, the figures kept as typed
        entered = {str(m): str(p) for m, p in zip(members, percents, strict=False)}
        error = error_text(tenant_scope.locale, exc)
        return await _fragment(request, tenant_scope, deal_id, error=error, entered=entered, status_code=422)
    return await _fragment(request, tenant_scope, deal_id)


@get("/settings/commission")
async def rules_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    tenant_scope.require("admin")
    rules = await commission.get_rules(tenant_scope)
    return await render(request, tenant_scope, "app/settings_commission.html", rules=rules)


@post("/settings/commission")
async def rules_save(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    form = await request.form()
    values = []
    for field in ("ownership_weight", "stages_weight"):
        try:
            values.append(int(str(form.get(field) or "").strip()))
        except ValueError:
            raise ValidationFailed.field(field, "Give a percentage from 0 to 100") from None
    await commission.put_rules(
        tenant_scope, CommissionRulesWrite(ownership_weight=values[0], stages_weight=values[1])
    )
    return await render(request, tenant_scope, "app/_setup_saved.html", message="Saved.", params={})


@get("/settings/commission/export")
async def export(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[bytes]:
    fmt = request.query_params.get("format") or "csv"
    body, content_type = await commission.export_splits(tenant_scope, fmt)
    return Response(
        body,
        media_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="commission-splits.{fmt}"'},
    )


ROUTER = Router(
    path="/",
    route_handlers=[commission_fragment, commission_confirm, rules_page, rules_save, export],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
