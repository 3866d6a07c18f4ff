"""The one module that talks to Stripe (official library, async methods of ``StripeClient``).

Every write carries an idempotency key built from our ids, so a retried job or request never makes a
second customer, session or quantity change. The library retries connection errors, 409s and 5xx
itself (``max_network_retries``) with the same key; what still fails raises :class:`BillingUnavailable`
(503) for a connection error, or the library's ``StripeError``. ``ACRE_STRIPE_API_BASE`` points the
client elsewhere (the tests' HTTP fake)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import stripe
from stripe import StripeClient

from app.errors import AppError
from app.settings import get_settings

_MAX_NETWORK_RETRIES = 3
_TIMEOUT_SECONDS = 20.0
T = TypeVar("T")


class BillingUnavailable(AppError):
    status, code, title = 503, "billing-unavailable", "The payment provider is unreachable; try again later"


@dataclass(frozen=True, slots=True)
class Subscription:
    """The fields of a Stripe subscription that Acre keeps (the first item is the plan's price)."""

    id: str
    status: str
    customer: str
    price_id: str | None
    item_id: str | None
    quantity: int
    current_period_end: datetime | None
    trial_end: datetime | None
    metadata: dict[str, str] = field(default_factory=dict)


# One client per event loop: its httpx pool belongs to the loop that first used it.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str | None], StripeClient]] = (
    weakref.WeakKeyDictionary()
)


def client() -> StripeClient:
    settings = get_settings()
    if not settings.stripe_secret_key:
        raise RuntimeError("billing is off: ACRE_STRIPE_SECRET_KEY is not set")
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    key = (settings.stripe_secret_key, settings.stripe_api_base)
    if key not in per_loop:
        base = settings.stripe_api_base
        per_loop[key] = StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": base} if base else None,
            max_network_retries=_MAX_NETWORK_RETRIES,
            http_client=stripe.HTTPXClient(timeout=_TIMEOUT_SECONDS),
        )
    return per_loop[key]


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    try:
        return await make()
    except stripe.APIConnectionError as exc:
        raise BillingUnavailable() from exc


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _subscription(obj: Any) -> Subscription:
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    items = (data.get("items") or {}).get("data") or []
    first: dict[str, Any] = items[0] if items else {}
    customer = data.get("customer")
    return Subscription(
        id=str(data["id"]),
        status=str(data["status"]),
        customer=str(customer["id"] if isinstance(customer, dict) else customer),
        price_id=(first.get("price") or {}).get("id"),
        item_id=first.get("id"),
        quantity=int(first.get("quantity") or 0),
        # API versions since 2025 carry the period on the item; older ones on the subscription
        current_period_end=_time(first.get("current_period_end") or data.get("current_period_end")),
        trial_end=_time(data.get("trial_end")),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


async def create_customer(tenant_id: UUID, name: str, email: str | None) -> str:
    """Create the tenant's one Stripe customer; the key makes a retry return the same customer."""
    params: dict[str, Any] = {"name": name, "metadata": {"tenant_id": str(tenant_id)}}
    if email:
        params["email"] = email
    customer = await _call(
        lambda: client().v1.customers.create_async(
            params,  # type: ignore[arg-type]
            {"idempotency_key": f"acre-customer-{tenant_id}"},
        )
    )
    return str(customer.id)


async def create_checkout_session(
    *,
    tenant_id: UUID,
    customer_id: str,
    plan: str,
    price_id: str,
    quantity: int,
    trial_end: datetime | None,
    success_url: str,
    cancel_url: str,
    key: str,
) -> tuple[str, str]:
    """A subscription-mode Checkout Session; returns (session id, URL to send the buyer to)."""
    metadata = {"tenant_id": str(tenant_id), "plan": plan}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if trial_end is not None:
        subscription_data["trial_end"] = int(trial_end.timestamp())
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(tenant_id),
        "metadata": metadata,
        "line_items": [{"price": price_id, "quantity": quantity}],
        "subscription_data": subscription_data,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    session = await _call(
        lambda: client().v1.checkout.sessions.create_async(
            params,  # type: ignore[arg-type]
            {"idempotency_key": key},
        )
    )
    return str(session.id), str(session.url)


async def create_portal_session(customer_id: str, return_url: str, key: str) -> str:
    """A Customer Portal session for the tenant's customer; returns its URL."""
    session = await _call(
        lambda: client().v1.billing_portal.sessions.create_async(
            {"customer": customer_id, "return_url": return_url},
            {"idempotency_key": key},
        )
    )
    return str(session.url)


async def get_subscription(subscription_id: str) -> Subscription:
    """The subscription as Stripe has it now (the truth that event handling re-reads)."""
    sub = await _call(lambda: client().v1.subscriptions.retrieve_async(subscription_id))
    return _subscription(sub)


async def set_subscription_quantity(
    sub: Subscription, quantity: int, *, key: str, prorate: bool
) -> Subscription:
    """Set the seat quantity of ``sub``'s plan item. ``prorate`` False: no credit nor charge for the
    rest of the period (used only when lowering at renewal)."""
    if sub.item_id is None:
        raise ValueError(f"subscription {sub.id} has no item")
    params: dict[str, Any] = {
        "items": [{"id": sub.item_id, "quantity": quantity}],
        "proration_behavior": "create_prorations" if prorate else "none",
    }
    updated = await _call(
        lambda: client().v1.subscriptions.update_async(
            sub.id,
            params,  # type: ignore[arg-type]
            {"idempotency_key": key},
        )
    )
    return _subscription(updated)


class WebhookEvent(msgspec.Struct, frozen=True):
    """The fields of a webhook event that ingest stores as columns (the raw body is kept whole)."""

    id: str
    type: str
    created: int | None = None
    livemode: bool | None = None
    object: str = "event"


_EVENT = msgspec.json.Decoder(WebhookEvent)


def verify_event(payload: bytes, signature: str | None) -> WebhookEvent:
    """Verify the ``Stripe-Signature`` of the raw body (``WebhookSignature.verify_header``: HMAC and
    timestamp tolerance, as ``Webhook.construct_event`` does) and read the event's header fields with
    msgspec, without building the library's object tree. Raises ``stripe.SignatureVerificationError``
    (bad or missing signature, stale timestamp) or ``ValueError`` (not UTF-8, not a JSON event)."""
    settings = get_settings()
    stripe.WebhookSignature.verify_header(
        payload, signature, settings.stripe_webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
    )
    event = _EVENT.decode(payload)  # msgspec errors are ValueErrors
    if event.object != "event":
        raise ValueError("not a snapshot event")
    return event
