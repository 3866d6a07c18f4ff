"""Outbound integrations in the web app: ``/settings/integrations`` — the company's webhook endpoints
(owners and admins: add one, its signing secret shown this once; enable, disable, roll the secret,
remove; each endpoint's deliveries with their response) and, per territory, the team-chat robots
(owners, admins and the territory's managers); ``/settings/calendar`` — any member's own calendar feed
(make its secret address, shown once; replace or revoke it). Each calls the service the API calls
(``app.outbound.webhooks``, ``chat``, ``calendar``), so a rep gets the 403 page and another company's
id the 404 page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.errors import ValidationFailed
from app.i18n import N_
from app.outbound import calendar, chat, webhooks
from app.outbound.chat import CHAT_KINDS, PROVIDERS
from app.outbound.events import EVENT_TYPES
from app.outbound.schemas import ChannelCreate, EndpointCreate, EndpointUpdate
from app.territories.service import list_territories
from app.web.pages import error_text
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.scope import TenantScope

M_VALUE = N_("Check the address and pick at least one kind")
PROVIDER_NAMES = {
    "wecom": N_("WeCom (企业微信)"),
    "dingtalk": N_("DingTalk (钉钉)"),
    "feishu": N_("Feishu (飞书)"),
}
KIND_NAMES = {
    "approval_requested": N_("Approvals waiting (deals)"),
    "visit_plan_submitted": N_("Approvals waiting (visit plans)"),
    "handover_received": N_("Handovers received"),
    "reclaim_warning": N_("Reclaim warnings"),
    "market_incident": N_("Market incidents"),
    "contract_signed": N_("Contracts signed"),
    "quote_approved": N_("Quotes approved"),
    "quote_rejected": N_("Quotes rejected"),
    "stage_approved": N_("Stage moves approved"),
    "stage_rejected": N_("Stage moves rejected"),
    "collections_due": N_("Collections due"),
    "customer_conflict": N_("Duplicate entries (撞单)"),
}
STATUS_NAMES = {"pending": N_("Pending"), "delivered": N_("Delivered"), "failed": N_("Failed")}


def _all(form: Any, name: str) -> list[str]:
    return [str(v) for v in form.getall(name, [])]


async def _page(
    request: Request[Any, Any, Any],
    scope: TenantScope,
    *,
    fragment: str | None = None,
    secret: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    admin = scope.at_least("admin")
    endpoints = await webhooks.list_endpoints(scope) if admin else []
    robots = await chat.list_channels(scope)
    territories = (await list_territories(scope, limit=200)).items
    names = {t.id: t.name for t in territories}
    template = {"webhooks": "app/_webhooks.html", "chat": "app/_chat_robots.html"}.get(
        fragment or "", "app/settings_integrations.html"
    )
    return await render(
        request,
        scope,
        template,
        status_code=status_code,
        admin=admin,
        endpoints=endpoints,
        robots=robots,
        territories=territories,
        territory_names=names,
        event_types=EVENT_TYPES,
        providers=PROVIDERS,
        provider_names=PROVIDER_NAMES,
        chat_kinds=CHAT_KINDS,
        kind_names=KIND_NAMES,
        secret=secret,
        error=error,
    )


@get("/settings/integrations")
async def integrations_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("manager")
    return await _page(request, tenant_scope)


@post("/settings/integrations/webhooks")
async def webhook_create(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require(webhooks.MANAGES)
    form = await request.form()
    raw = {
        "url": str(form.get("url", "")).strip(),
        "description": str(form.get("description", "")).strip(),
        "event_types": _all(form, "event_types"),
    }
    try:
        try:
            data = msgspec.convert(raw, EndpointCreate)
        except msgspec.ValidationError:
            raise ValidationFailed.field("event_types", M_VALUE) from None
        made = await webhooks.create_endpoint(tenant_scope, data)
    except ValidationFailed as exc:
        error = error_text(tenant_scope.locale, exc)
        return await _page(request, tenant_scope, fragment="webhooks", error=error, status_code=422)
    return await _page(request, tenant_scope, fragment="webhooks", secret=made.secret)


@post("/settings/integrations/webhooks/{endpoint_id:uuid}/active")
async def webhook_toggle(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], endpoint_id: FromPath[UUID]
) -> Template:
    current = await webhooks.get_endpoint(tenant_scope, endpoint_id)
    await webhooks.update_endpoint(tenant_scope, endpoint_id, EndpointUpdate(active=not current.active))
    return await _page(request, tenant_scope, fragment="webhooks")


@post("/settings/integrations/webhooks/{endpoint_id:uuid}/roll-secret")
async def webhook_roll(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], endpoint_id: FromPath[UUID]
) -> Template:
    rolled = await webhooks.roll_secret(tenant_scope, endpoint_id)
    return await _page(request, tenant_scope, fragment="webhooks", secret=rolled.secret)


@post("/settings/integrations/webhooks/{endpoint_id:uuid}/delete")
async def webhook_delete(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], endpoint_id: FromPath[UUID]
) -> Template:
    await webhooks.delete_endpoint(tenant_scope, endpoint_id)
    return await _page(request, tenant_scope, fragment="webhooks")


@get("/settings/integrations/webhooks/{endpoint_id:uuid}")
async def webhook_deliveries(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], endpoint_id: FromPath[UUID]
) -> Template:
    endpoint = await webhooks.get_endpoint(tenant_scope, endpoint_id)
    page = await webhooks.list_deliveries(tenant_scope, endpoint_id, limit=100)
    return await render(
        request,
        tenant_scope,
        "app/settings_webhook.html",
        endpoint=endpoint,
        deliveries=page.items,
        status_names=STATUS_NAMES,
    )


@post("/settings/integrations/chat")
async def robot_create(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    tenant_scope.require("manager")
    form = await request.form()
    raw = {
        "territory_id": str(form.get("territory_id", "")),
        "provider": str(form.get("provider", "")),
        "url": str(form.get("url", "")).strip(),
        "name": str(form.get("name", "")).strip(),
        "secret": str(form.get("secret", "")).strip() or None,
        "kinds": _all(form, "kinds"),
    }
    try:
        try:
            data = msgspec.convert(raw, ChannelCreate)
        except msgspec.ValidationError:
            raise ValidationFailed.field("kinds", M_VALUE) from None
        await chat.create_channel(tenant_scope, data)
    except ValidationFailed as exc:
        error = error_text(tenant_scope.locale, exc)
        return await _page(request, tenant_scope, fragment="chat", error=error, status_code=422)
    return await _page(request, tenant_scope, fragment="chat")


@post("/settings/integrations/chat/{channel_id:uuid}/test")
async def robot_test(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], channel_id: FromPath[UUID]
) -> Template:
    await chat.test_channel(tenant_scope, channel_id)
    return await _page(request, tenant_scope, fragment="chat")


@post("/settings/integrations/chat/{channel_id:uuid}/delete")
async def robot_delete(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope], channel_id: FromPath[UUID]
) -> Template:
    await chat.delete_channel(tenant_scope, channel_id)
    return await _page(request, tenant_scope, fragment="chat")


async def _calendar(
    request: Request[Any, Any, Any], scope: TenantScope, *, url: str | None = None, fragment: bool = False
) -> Template:
    status = await calendar.feed_status(scope)
    template = "app/_calendar_feed.html" if fragment else "app/settings_calendar.html"
    return await render(request, scope, template, feed=status, url=url)


@get("/settings/calendar")
async def calendar_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    return await _calendar(request, tenant_scope)


@post("/settings/calendar")
async def calendar_make(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    made = await calendar.make_feed(tenant_scope)
    return await _calendar(request, tenant_scope, url=made.url, fragment=True)


@post("/settings/calendar/revoke")
async def calendar_revoke(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    await calendar.revoke_feed(tenant_scope)
    return await _calendar(request, tenant_scope, fragment=True)


ROUTER = Router(
    path="/",
    route_handlers=[
        integrations_page,
        webhook_create,
        webhook_toggle,
        webhook_roll,
        webhook_delete,
        webhook_deliveries,
        robot_create,
        robot_test,
        robot_delete,
        calendar_page,
        calendar_make,
        calendar_revoke,
    ],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
