"""What each pool hides until claimed (``/settings/pool-fields``, owner/admin): per pool, tick the
phone, address, credit code and contacts its unowned customers show masked (138****5678) to members
outside the owner's scope. The rule and who may change it are ``app.customers.masking``'s."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers import masking
from app.i18n import N_, translate
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.scope import TenantScope

FIELDS = {
    "phone": N_("Phone"),
    "address": N_("Address"),
    "tax_id": N_("Credit code"),
    "contacts": N_("Contacts"),
}


@get("/settings/pool-fields")
async def pool_fields_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    pools = await masking.list_hidden_fields(tenant_scope)
    return await render(request, tenant_scope, "app/settings_pool_fields.html", pools=pools, fields=FIELDS)


@post("/settings/pool-fields/{pool_id:uuid}")
async def save(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], pool_id: FromPath[UUID]
) -> Template:
    form = await request.form()
    chosen = [str(v) for v in form.getall("hidden_fields", [])]
    done = await masking.set_hidden_fields(tenant_scope, pool_id, masking.HiddenFields(chosen))
    names = [translate(tenant_scope.locale, FIELDS[f]) for f in done.hidden_fields]
    return await render(request, tenant_scope, "app/_pool_fields_saved.html", pool=done, names=names)


ROUTER = Router(
    path="/",
    route_handlers=[pool_fields_page, save],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
