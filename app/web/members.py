"""The team, ``/members`` (owners and admins act; managers read the list): the members with their
roles (changed in place), a link to offboard each one (``/members/{id}/offboard``, the handover
flow), reactivation, adding a member to a territory; the invitations (invite by email with a role and
the territories the invitee joins on accepting; resend, revoke) and the seats used vs paid.

Every rule is the services' (``tenants.members``, ``tenants.invitations``, the territories' member
service, billing's ``get_billing``): another tenant's member or invitation is their 404 (the
not-found page, or the error fragment for htmx), a refusal their message beside the action."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from app.errors import ValidationFailed
from app.i18n import N_
from app.territories.members import add_territory_member
from app.territories.schemas import TerritoryMemberCreate
from app.territories.service import get_territory, list_territories
from app.web.shell import PAGE, PAGE_ERRORS, is_htmx, render
from tenants import invitations, members, roles
from tenants.billing.service import get_billing
from tenants.schemas import InvitationCreate
from tenants.scope import TenantScope

PAGE_SIZE = 50
MAX_TERRITORIES = 50  # an invitation's territories, as the API allows
STATUSES = {
    "pending": N_("Pending"),
    "accepted": N_("Accepted"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
}
TERRITORY_ROLES = {"rep": N_("Sales rep"), "manager": N_("Territory manager")}


class InviteForm(msgspec.Struct):
    email: str = ""
    role: str = "rep"
    territory_ids: list[str] = msgspec.field(default_factory=list)  # the ticked boxes, each a value


class RoleForm(msgspec.Struct):
    role: str = ""


class TerritoryForm(msgspec.Struct):
    territory_id: str = ""
    role: str = "rep"


def _role_choices(scope: TenantScope) -> list[tuple[str, str]]:
    """The roles this member may grant (an owner any, an admin up to admin), as (code, label id)."""
    return [(r, roles.LABELS[r]) for r in roles.ROLES if roles.may_grant(scope.role, r)]


def _context(scope: TenantScope) -> dict[str, Any]:
    return {
        "role_labels": roles.LABELS,
        "role_choices": _role_choices(scope),
        "statuses": STATUSES,
        "territory_roles": TERRITORY_ROLES,
        "can_manage": scope.at_least("admin"),
    }


@get("/members")
async def members_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("manager")  # reps work customers; the team is their managers' page
    cursor = request.query_params.get("cursor") or None
    what = request.query_params.get("list", "members")
    context = _context(tenant_scope)
    if is_htmx(request) and cursor and what == "invitations":
        page = await invitations.list_invitations(tenant_scope, limit=PAGE_SIZE, cursor=cursor)
        return await render(request, tenant_scope, "app/_invitation_items.html", invites=page, **context)
    team = await members.list_members(tenant_scope, limit=PAGE_SIZE, cursor=cursor)
    if is_htmx(request) and cursor:
        territories = (await list_territories(tenant_scope, limit=200)).items
        return await render(
            request, tenant_scope, "app/_member_items.html", team=team, territories=territories, **context
        )
    invites, billing = None, None
    if tenant_scope.at_least("admin"):
        invites = await invitations.list_invitations(tenant_scope, limit=PAGE_SIZE)
        billing = await get_billing(tenant_scope)
    territories = (await list_territories(tenant_scope, limit=200)).items
    return await render(
        request,
        tenant_scope,
        "app/members.html",
        team=team,
        invites=invites,
        billing=billing,
        territories=territories,
        **context,
    )


async def _invite_form(request: Request[Any, Any, Any]) -> InviteForm:
    form = await request.form()
    return InviteForm(
        email=str(form.get("email") or ""),
        role=str(form.get("role") or "rep"),
        territory_ids=[str(v) for v in form.getall("territory_ids")] if "territory_ids" in form else [],
    )


async def _invite(scope: TenantScope, form: InviteForm) -> Any:
    if form.role not in roles.ROLES:
        raise ValidationFailed.field("role", "Unknown role")
    try:
        territory_ids = [UUID(v) for v in form.territory_ids]
    except ValueError:
        raise ValidationFailed.field("territory_ids", "No territory with this id") from None
    if len(territory_ids) > MAX_TERRITORIES:
        raise ValidationFailed.field("territory_ids", "Choose at most {max} territories", max=MAX_TERRITORIES)
    try:
        body = msgspec.convert({"email": form.email.strip(), "role": form.role}, InvitationCreate)
    except msgspec.ValidationError:
        raise ValidationFailed.field("email", "Enter a valid email address") from None
    body.territory_ids = territory_ids  # checked by the service (this tenant's, the inviter's)
    return await invitations.invite(scope, body)


@post("/members/invite")
async def invite(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    """The invite form's answer (htmx): a confirmation, the invitations and seats anew (out of band).
    Resending is inviting the same email again (with the same territories): the service replaces the
    pending invitation."""
    sent = await _invite(tenant_scope, await _invite_form(request))
    invites = await invitations.list_invitations(tenant_scope, limit=PAGE_SIZE)
    billing = await get_billing(tenant_scope)
    return await render(
        request,
        tenant_scope,
        "app/_invite_sent.html",
        sent=sent,
        invites=invites,
        billing=billing,
        **_context(tenant_scope),
    )


@post("/invitations/{invitation_id:uuid}/revoke")
async def revoke(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], invitation_id: FromPath[UUID]
) -> Template:
    invite = await invitations.revoke_invitation(tenant_scope, invitation_id)
    return await render(request, tenant_scope, "app/_revoked.html", i=invite, **_context(tenant_scope))


async def _member_row(
    request: Request[Any, Any, Any], scope: TenantScope, member: Any, saved: str
) -> Template:
    """A member action's answer: the confirmation, and the member's role and state anew."""
    return await render(request, scope, "app/_member_saved.html", m=member, saved=saved, **_context(scope))


@post("/members/{member_id:uuid}/role")
async def change_role(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    member_id: FromPath[UUID],
    data: Annotated[RoleForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    if data.role not in roles.ROLES:
        raise ValidationFailed.field("role", "Unknown role")
    member = await members.change_role(tenant_scope, member_id, data.role)
    return await _member_row(request, tenant_scope, member, saved=N_("Role changed."))


@post("/members/{member_id:uuid}/reactivate")
async def reactivate(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], member_id: FromPath[UUID]
) -> Template:
    member = await members.reactivate_member(tenant_scope, member_id)
    return await _member_row(request, tenant_scope, member, saved=N_("Reactivated."))


@post("/members/{member_id:uuid}/territories")
async def add_to_territory(
    request: Request[Any, Any, Any],
    tenant_scope: NamedDependency[TenantScope],
    member_id: FromPath[UUID],
    data: Annotated[TerritoryForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    member = await members.get_member(tenant_scope, member_id)
    try:
        body = msgspec.convert({"membership_id": str(member.id), "role": data.role}, TerritoryMemberCreate)
        territory_id = UUID(data.territory_id)
    except (msgspec.ValidationError, ValueError):
        raise ValidationFailed.field("territory_id", "Choose a territory") from None
    added = await add_territory_member(tenant_scope, territory_id, body)
    territory = await get_territory(tenant_scope, territory_id)
    return await render(
        request,
        tenant_scope,
        "app/_territory_added.html",
        added=added,
        territory_name=territory.name,
        territory_roles=TERRITORY_ROLES,
    )


ROUTER = Router(
    path="/",
    route_handlers=[members_page, invite, revoke, change_role, reactivate, add_to_territory],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
