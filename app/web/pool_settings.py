"""Pools in the settings (``/settings/pools``, owner/admin): the tenant's pools with their scope,
admins and own caps; adding a pool; the release reasons a release picks from. Everything goes
through the services the API calls (``pool.manage``, ``pool.release_reasons``) under the same scope,
so the rules, the 403s and the 422s are the API's; a refusal is shown inline by the form."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.customers.pool import manage, release_reasons
from app.customers.pool.rules import PoolRulesOverride
from app.errors import ValidationFailed
from app.i18n import N_
from app.web.shell import PAGE, PAGE_ERRORS, render
from app.web.team_customers import pickers
from tenants.scope import TenantScope

KIND_WORDS = {
    "territory": N_("A territory's pool"),
    "key_accounts": N_("Key accounts"),
    "inbound": N_("Inbound leads"),
    "lost": N_("Lost customers"),
    "custom": N_("Other"),
}


@get("/settings/pools")
async def pools_page(request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]) -> Template:
    tenant_scope.require("admin")
    territories, members = await pickers(tenant_scope)
    return await render(
        request,
        tenant_scope,
        "app/settings_pools.html",
        pools=await manage.list_pools(tenant_scope),
        territories=territories,
        members=members,
        reasons=await release_reasons.list_release_reasons(tenant_scope),
        caps=await manage.list_caps(tenant_scope),
        names=dict(territories) | dict(members),
        kinds=("key_accounts", "inbound", "lost", "custom"),
        kind_words=KIND_WORDS,
    )


def _ids(form: Any, name: str) -> list[UUID]:
    try:
        return [UUID(v) for v in form.getall(name, []) if v]
    except ValueError:
        raise ValidationFailed.field(name.removesuffix("_id") + "_ids", "Unknown id in the list") from None


def _number(form: Any, name: str) -> int | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed.field(name, "Use a number from {low} to {high}", low=1, high=100_000) from None


def _write(form: Any) -> manage.PoolWrite:
    owned, daily = _number(form, "owned_cap"), _number(form, "daily_claim_cap")
    rules = PoolRulesOverride()
    if owned is not None:
        rules.owned_cap = owned
    if daily is not None:
        rules.daily_claim_cap = daily
    return manage.PoolWrite(
        name=form.get("name") or None,
        kind=form.get("kind") or "custom",
        rules=rules if owned is not None or daily is not None else None,
        scope_territory_ids=_ids(form, "scope_territory_id"),
        scope_membership_ids=_ids(form, "scope_membership_id"),
        admin_membership_ids=_ids(form, "admin_membership_id"),
    )


@post("/settings/pools")
async def add_pool(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[Any]:
    """Add a pool; the page reloads to show it (a refusal shows inline)."""
    await manage.create_pool(tenant_scope, _write(await request.form()))
    return Response("", status_code=200, headers={"HX-Refresh": "true"})


@post("/settings/pools/{pool_id:uuid}")
async def save_pool(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], pool_id: FromPath[UUID]
) -> Response[Any]:
    """Replace one pool's scope, admins and caps (and the name and kind of the tenant's own)."""
    await manage.update_pool(tenant_scope, pool_id, _write(await request.form()))
    return Response("", status_code=200, headers={"HX-Refresh": "true"})


@post("/settings/pools/caps")
async def save_caps(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Response[Any]:
    """One territory's or member's caps (``target``: ``t:<id>`` or ``m:<id>``); all blank removes them."""
    form = await request.form()
    kind, _, raw = (form.get("target") or "").partition(":")
    try:
        target = UUID(raw)
    except ValueError:
        raise ValidationFailed.field("territory_id", "Give a territory or a member") from None
    await manage.put_caps(
        tenant_scope,
        manage.CapOverrideWrite(
            territory_id=target if kind == "t" else None,
            membership_id=target if kind == "m" else None,
            owned_cap=_number(form, "owned_cap"),
            daily_claim_cap=_number(form, "daily_claim_cap"),
            lock_cap=_number(form, "lock_cap"),
        ),
    )
    return Response("", status_code=200, headers={"HX-Refresh": "true"})


@post("/settings/pools/release-reasons")
async def save_reasons(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    """The release reasons, one a line (none: the built-in list)."""
    form = await request.form()
    labels = [line.strip() for line in (form.get("labels") or "").splitlines() if line.strip()]
    await release_reasons.put_release_reasons(tenant_scope, release_reasons.ReleaseReasonsWrite(labels))
    return await render(request, tenant_scope, "app/_saved.html")


ROUTER = Router(
    path="/",
    route_handlers=[pools_page, add_pool, save_pool, save_caps, save_reasons],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
