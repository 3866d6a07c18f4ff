"""Territories (``/territories``, managers and up): the tree the member manages with its member and
customer counts; add, rename and move (a picker, with the impact preview before anything changes);
the managers and reps of each territory, added and removed in place. Realignment (move / merge /
split through a handover plan) is ``app.web.realignments``.

Everything is the territory services' (``territory_overview``, ``create_territory``,
``update_territory``, ``move_territory``, the member functions): they decide who may change what — a
rep gets their 403, another tenant's territory their 404."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.errors import ValidationFailed
from app.i18n import N_
from app.territories import members, service
from app.territories.overview import TerritoryNode, territory_overview
from app.territories.schemas import TerritoryCreate, TerritoryMemberCreate, TerritoryMove, TerritoryUpdate
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.members import list_members
from tenants.scope import TenantScope

LEVELS = {
    "province": N_("Province"),
    "prefecture": N_("Prefecture"),
    "city": N_("City"),
    "county": N_("County"),
    "township": N_("Township"),
    "custom": N_("Custom"),
}
ROLES = {"manager": N_("Manager"), "rep": N_("Rep")}


class TerritoryForm(msgspec.Struct):
    name: str = ""
    level: str = "custom"
    parent_id: str = ""


class MoveForm(msgspec.Struct):
    new_parent_id: str = ""
    preview: str = ""


class MemberForm(msgspec.Struct):
    membership_id: str = ""
    role: str = "rep"


def uuid_field(name: str, value: str, *, required: bool = False) -> UUID | None:
    value = value.strip()
    if not value:
        if required:
            raise ValidationFailed.field(name, "Required")
        return None
    try:
        return UUID(value)
    except ValueError:
        raise ValidationFailed.field(name, "This is not a valid id") from None


def convert(body: dict[str, Any], type_: Any, field: str) -> Any:
    """The form as the API's body: the schema's own checks answer 422 on ``field``."""
    try:
        return msgspec.convert(body, type_)
    except msgspec.ValidationError:
        raise ValidationFailed.field(field, "This value is not valid") from None


def indent(nodes: list[TerritoryNode]) -> dict[UUID, int]:
    """Each node's depth below the shallowest shown (a manager's subtree starts at 0)."""
    top = min((n.depth for n in nodes), default=1)
    return {n.id: n.depth - top for n in nodes}


async def _tree(scope: TenantScope) -> dict[str, Any]:
    nodes = await territory_overview(scope)
    return {"nodes": nodes, "indent": indent(nodes), "levels": LEVELS}


@get("/territories")
async def territories_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    return await render(request, tenant_scope, "app/territories.html", **await _tree(tenant_scope))


@post("/territories")
async def create(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[TerritoryForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    body = {"name": data.name, "level": data.level, "parent_id": uuid_field("parent_id", data.parent_id)}
    made = await service.create_territory(tenant_scope, convert(body, TerritoryCreate, "name"))
    message = N_("Territory {name} added.")
    return await render(
        request,
        tenant_scope,
        "app/_territory_done.html",
        message=message,
        name=made.name,
        **await _tree(tenant_scope),
    )


@get("/territories/{territory_id:uuid}/panel")
async def panel(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], territory_id: FromPath[UUID]
) -> Template:
    """One territory's panel: ``show`` = members, rename, move or add (a child)."""
    show = request.query_params.get("show", "members")
    territory = await service.get_territory(tenant_scope, territory_id)
    context: dict[str, Any] = {"t": territory, "show": show, "levels": LEVELS, "roles": ROLES}
    if show == "move":
        nodes = await territory_overview(tenant_scope)
        me = next((n for n in nodes if n.id == territory_id), None)
        context["parents"] = [n for n in nodes if me is None or not n.path.startswith(me.path)]
        context["indent"] = indent(nodes)
    elif show == "members":
        context.update(await _members(tenant_scope, territory_id))
    return await render(request, tenant_scope, "app/_territory_panel.html", **context)


async def _members(scope: TenantScope, territory_id: UUID) -> dict[str, Any]:
    current = await members.list_territory_members(scope, territory_id)
    everyone = (await list_members(scope, limit=200, active=True)).items
    taken = {m.membership_id for m in current}
    return {"members": current, "candidates": [m for m in everyone if m.id not in taken]}


@patch("/territories/{territory_id:uuid}")
async def rename(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    territory_id: FromPath[UUID],
    data: Annotated[TerritoryForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    body = {"name": data.name, "level": data.level}
    done = await service.update_territory(tenant_scope, territory_id, convert(body, TerritoryUpdate, "name"))
    message = N_("Territory {name} saved.")
    return await render(
        request,
        tenant_scope,
        "app/_territory_done.html",
        message=message,
        name=done.name,
        **await _tree(tenant_scope),
    )


@post("/territories/{territory_id:uuid}/move")
async def move(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    territory_id: FromPath[UUID],
    data: Annotated[MoveForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    """The picker's answer: with ``preview`` what the move touches and a button to do it; without,
    the move done and the tree anew."""
    target = uuid_field("new_parent_id", data.new_parent_id)
    preview = bool(data.preview)
    impact = await service.move_territory(tenant_scope, territory_id, TerritoryMove(target, preview=preview))
    territory = await service.get_territory(tenant_scope, territory_id)
    if preview:
        parent = await service.get_territory(tenant_scope, target) if target else None
        return await render(
            request,
            tenant_scope,
            "app/_territory_move_preview.html",
            impact=impact,
            t=territory,
            parent=parent,
        )
    message = N_("Territory {name} moved.")
    return await render(
        request,
        tenant_scope,
        "app/_territory_done.html",
        message=message,
        name=territory.name,
        **await _tree(tenant_scope),
    )


async def _members_done(
    request: Request[Any, Any, Any], scope: TenantScope, territory_id: UUID, message: str
) -> Template:
    territory = await service.get_territory(scope, territory_id)
    return await render(
        request,
        scope,
        "app/_territory_members_done.html",
        message=message,
        t=territory,
        roles=ROLES,
        node=next((n for n in await territory_overview(scope) if n.id == territory_id), None),
        **await _members(scope, territory_id),
    )


@post("/territories/{territory_id:uuid}/members")
async def add_member(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    territory_id: FromPath[UUID],
    data: Annotated[MemberForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    body = {
        "membership_id": uuid_field("membership_id", data.membership_id, required=True),
        "role": data.role,
    }
    await members.add_territory_member(
        tenant_scope, territory_id, convert(body, TerritoryMemberCreate, "role")
    )
    return await _members_done(request, tenant_scope, territory_id, N_("Member added."))


@delete("/territories/{territory_id:uuid}/members/{membership_id:uuid}", status_code=200)
async def remove_member(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    territory_id: FromPath[UUID],
    membership_id: FromPath[UUID],
) -> Template:
    await members.remove_territory_member(tenant_scope, territory_id, membership_id)
    return await _members_done(request, tenant_scope, territory_id, N_("Member removed."))


ROUTER = Router(
    path="/",
    route_handlers=[territories_page, create, panel, rename, move, add_member, remove_member],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
