"""Billing, ``/billing`` (owners and admins): the plan and status, the trial's days left, seats used vs
paid, the grace period or read-only state, and the buttons to Stripe Checkout (one per plan) and the
Customer Portal. The same service functions as ``/api/v1/billing`` (``get_billing``,
``start_checkout``, ``open_portal``); the buttons move the whole page to Stripe (``HX-Redirect``).
With billing off on the server (``acre dev``) the page says so and shows no button."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from app.i18n import N_
from app.web.shell import PAGE, PAGE_ERRORS, render
from tenants.billing import service
from tenants.billing.schemas import CheckoutCreate
from tenants.scope import TenantScope

STATUSES = {
    "free": N_("Free"),
    "trialing": N_("Trial"),
    "active": N_("Active"),
    "past_due": N_("Payment overdue"),
    "unpaid": N_("Unpaid"),
    "canceled": N_("Cancelled"),
    "incomplete": N_("Incomplete"),
    "incomplete_expired": N_("Expired"),
    "paused": N_("Paused"),
}
RETURNS = {
    "done": N_("Thank you: your subscription is being set up."),
    "cancelled": N_("Checkout was cancelled."),
}


class CheckoutForm(msgspec.Struct):
    plan: str = ""


def days_left(until: datetime | None) -> int | None:
    if until is None:
        return None
    return max(0, math.ceil((until - datetime.now(UTC)).total_seconds() / 86400))


@get("/billing")
async def billing_page(
    request: Request[Any, Any, Any], tenant_scope: NamedDependency[TenantScope]
) -> Template:
    billing = await service.get_billing(tenant_scope)
    returned = RETURNS.get(request.query_params.get("checkout", ""))
    return await render(
        request,
        tenant_scope,
        "app/billing.html",
        billing=billing,
        statuses=STATUSES,
        trial_days=days_left(billing.trial_ends_at) if billing.status == "trialing" else None,
        grace_days=days_left(billing.grace_ends_at),
        returned=returned,
    )


def _go(url: str) -> Response[Any]:
    return Response("", status_code=200, headers={"HX-Redirect": url})


@post("/billing/checkout")
async def checkout(
    tenant_scope: NamedDependency[TenantScope],
    data: Annotated[CheckoutForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """To Stripe Checkout for the plan (the service refuses a second subscription or too small a plan)."""
    redirect = await service.start_checkout(tenant_scope, CheckoutCreate(plan=data.plan or "-"))
    return _go(redirect.url)


@post("/billing/portal")
async def portal(tenant_scope: NamedDependency[TenantScope]) -> Response[Any]:
    return _go((await service.open_portal(tenant_scope)).url)


ROUTER = Router(
    path="/",
    route_handlers=[billing_page, checkout, portal],
    dependencies=PAGE,
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)
