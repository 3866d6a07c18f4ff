"""Billing routes (owners and admins) and the Stripe webhook. Thin: parse, call one service, return."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from app.settings import get_settings
from tenants.billing import events, service
from tenants.billing.schemas import BillingRead, CheckoutCreate, RedirectRead, WebhookReceipt
from tenants.scope import SCOPED, TenantScope


class BillingController(Controller):
    path = "/api/v1/billing"
    tags = ("billing",)
    dependencies = SCOPED

    @get("/", summary="Plan, status, seats used vs paid, trial and period end")
    async def get_billing(self, tenant_scope: NamedDependency[TenantScope]) -> BillingRead:
        return await service.get_billing(tenant_scope)

    @post("/checkout", status_code=HTTP_200_OK, summary="Start Stripe Checkout for a plan")
    async def checkout(
        self, tenant_scope: NamedDependency[TenantScope], data: JSONBody[CheckoutCreate]
    ) -> RedirectRead:
        return await service.start_checkout(tenant_scope, data)

    @post("/portal", status_code=HTTP_200_OK, summary="Open the Stripe Customer Portal")
    async def portal(self, tenant_scope: NamedDependency[TenantScope]) -> RedirectRead:
        return await service.open_portal(tenant_scope)


def _require_webhooks() -> None:
    settings = get_settings()
    if not (settings.billing_enabled and settings.stripe_webhook_secret):
        raise service.BillingOff()


@post(
    "/webhooks/stripe",
    status_code=HTTP_200_OK,
    tags=["billing"],
    summary="Stripe webhook (signed)",
    opt={"problems": [400, 409]},
)
async def stripe_webhook(request: Request[Any, Any, Any]) -> WebhookReceipt:
    """Verify the signature on the raw body, store the event once, answer at once; a job handles it."""
    _require_webhooks()
    new = await events.ingest(await request.body(), request.headers.get("stripe-signature"))
    return WebhookReceipt(received=True, duplicate=not new)


@post("/bench/stripe-verify", status_code=HTTP_200_OK, include_in_schema=False)
async def bench_stripe_verify(request: Request[Any, Any, Any]) -> WebhookReceipt:
    """The webhook benchmark's baseline: only the signature check. Registered only in bench mode
    (``ACRE_BENCH_BARE_BODY_FILE`` set)."""
    _require_webhooks()
    events.verify(await request.body(), request.headers.get("stripe-signature"))
    return WebhookReceipt(received=True, duplicate=False)


ROUTES: list[ControllerRouterHandler] = [BillingController, stripe_webhook]
BENCH_ROUTES: list[ControllerRouterHandler] = [bench_stripe_verify]
