"""Territory by credit code (``/territory-divisions``, managers and up): which division codes
(GB/T 2260: a province, a city or a county) belong to which territory, with a code added (its name
looked up as it is typed) or removed in place. A customer entered or imported without a territory is
placed by its credit code's division; one whose code points elsewhere is flagged 跨区.

Everything is ``app.territories.division_map``'s: it decides who may map what — a rep gets their
403, a manager may map only codes to territories in their subtrees, a bad or unknown code is its
422, shown inline."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.i18n import N_
from app.territories import division_map, divisions
from app.territories.overview import territory_overview
from app.web.shell import PAGE, PAGE_ERRORS, render
from app.web.territories import indent, uuid_field
from tenants.scope import TenantScope

LEVELS = {"province": N_("Province"), "city": N_("City"), "county": N_("County")}


class MappingForm(msgspec.Struct):
    code: str = ""
    territory_id: str = ""


async def _context(scope: TenantScope) -> dict[str, Any]:
    nodes = await territory_overview(scope)  # the territories the member manages (admins: all)
    return {
        "mappings": await division_map.list_mappings(scope),
        "nodes": nodes,
        "indent": indent(nodes),
        "managed": {n.id for n in nodes},
        "levels": LEVELS,
    }


@get("/territory-divisions")
async def divisions_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("manager")
    return await render(request, tenant_scope, "app/territory_divisions.html", **await _context(tenant_scope))


@get("/territory-divisions/lookup")
async def lookup(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    """The name of the code being typed (htmx), or that no division has it."""
    code = "".join((request.query_params.get("code") or "").split())
    found = divisions.get(code) if divisions.is_code(code) else None
    return await render(
        request,
        tenant_scope,
        "app/_division_lookup.html",
        code=code,
        name=divisions.full_name(code) if found else None,
    )


@post("/territory-divisions")
async def add(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[MappingForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    territory_id = uuid_field("territory_id", data.territory_id, required=True)
    assert territory_id is not None
    made = await division_map.map_division(tenant_scope, data.code, territory_id)
    return await render(
        request,
        tenant_scope,
        "app/_division_done.html",
        message=N_("{name} now places customers in {territory}."),
        name=made.name,
        territory=made.territory_name,
        **await _context(tenant_scope),
    )


@delete("/territory-divisions/{code:str}", status_code=200)
async def remove(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], code: FromPath[str]
) -> Template:
    await division_map.unmap_division(tenant_scope, code)
    return await render(
        request,
        tenant_scope,
        "app/_division_done.html",
        message=N_("{name} no longer places customers."),
        name=divisions.full_name(code) or code,
        territory="",
        **await _context(tenant_scope),
    )


ROUTER = Router(
    path="/",
    route_handlers=[divisions_page, lookup, add, remove],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
