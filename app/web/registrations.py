"""Vendor registrations (项目报备) in pages: the deal page's section (shown and edited through the
registration services), the managers' list per vendor (``/registrations``), and a member's request
to claim a customer another team registered (from the pool's refusal). Also the deal page's
after-sales section's one form: the service period's correction (``app.deals.aftersales``).

An invisible deal is the services' 404; a refusal (dates the wrong way round, a number another deal
holds) is their problem shown beside the form."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.deals.aftersales import service as aftersales
from app.deals.aftersales.schemas import ServicePeriodWrite
from app.deals.registrations import gates, service
from app.deals.registrations.schemas import RegistrationWrite
from app.i18n import N_
from app.web.deal_words import convert, form_value
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.scope import TenantScope

STATUSES = {
    "pending": N_("Filed, awaiting the vendor"),
    "active": N_("Protected"),
    "rejected": N_("Rejected by the vendor"),
    "released": N_("Released"),
}


def words() -> dict[str, Any]:
    return {"registration_statuses": STATUSES}


def _reload() -> Response[Any]:
    return Response("", status_code=200, headers={"HX-Refresh": "true"})


@put("/deals/{deal_id:uuid}/registration")
async def put_registration(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Response[Any]:
    form = await request.form()
    body = {
        name: form_value(form, name)
        for name in ("vendor", "registration_no", "registered_on", "protected_until", "status")
    }
    await service.put_registration(tenant_scope, deal_id, convert(body, RegistrationWrite))
    return _reload()


@delete("/deals/{deal_id:uuid}/registration", status_code=200)
async def delete_registration(
    tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Response[Any]:
    await service.delete_registration(tenant_scope, deal_id)
    return _reload()


@put("/deals/{deal_id:uuid}/service-period")
async def put_service_period(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], deal_id: FromPath[UUID]
) -> Response[Any]:
    """The deal page's correction of a won deal's free-upgrade and maintenance period."""
    form = await request.form()
    body = {name: form_value(form, name) for name in ("starts_on", "months")}
    await aftersales.put_period(tenant_scope, deal_id, convert(body, ServicePeriodWrite))
    return _reload()


@post("/registrations/{registration_id:uuid}/claim-approval")
async def ask_claim_approval(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    registration_id: FromPath[UUID],
) -> Template:
    await gates.request_claim_approval(tenant_scope, registration_id)
    return await render(request, tenant_scope, "app/_registration_asked.html")


@get("/registrations")
async def registrations_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    vendor = request.query_params.get("vendor") or None
    groups = await service.list_by_vendor(tenant_scope, vendor=vendor)
    return await render(
        request, tenant_scope, "app/registrations.html", groups=groups, vendor=vendor or "", **words()
    )


ROUTER = Router(
    path="/",
    route_handlers=[
        put_registration,
        delete_registration,
        put_service_period,
        ask_claim_approval,
        registrations_page,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
