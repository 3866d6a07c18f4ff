"""A customer becomes won (成交) when one of its deals is won; other domains react through hooks.

``mark_won`` is called by the deals domain inside the transaction that wins the deal. The hooks in
``WON_HOOKS`` (put there by ``register_won_hook`` from ``app.wiring``: referral rewards, after-sales
return visits) run in the same transaction, in the order registered, after the status change, and
only when the customer was not already won; a hook that raises rolls the win back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from app import audit
from app.db import Tx


@dataclass(frozen=True, slots=True)
class CustomerWon:
    tenant_id: UUID
    customer_id: UUID
    deal_id: UUID | None
    actor_user_id: UUID | None
    time_zone: str  # the tenant's (from the scope), for hooks that reckon in local days


WonHook = Callable[[Tx, CustomerWon], Awaitable[None]]
WON_HOOKS: list[WonHook] = []


def register_won_hook(hook: WonHook) -> None:
    """Run ``hook`` when a customer becomes won; registering the same hook again changes nothing."""
    if hook not in WON_HOOKS:
        WON_HOOKS.append(hook)


async def mark_won(tx: Tx, event: CustomerWon) -> bool:
    """Set the customer's status to won; run the hooks if it was not won before. Returns if it changed."""
    changed = await tx.fetchval(
        "UPDATE customers SET status = 'won', updated_at = now()"
        " WHERE tenant = $1 AND id = $2 AND status <> 'won' RETURNING true",
        event.tenant_id,
        event.customer_id,
    )
    if not changed:
        return False
    await audit.record(
        tx,
        event.actor_user_id,
        "customer.won",
        "customer",
        event.customer_id,
        data={"deal_id": event.deal_id},
    )
    for hook in WON_HOOKS:
        await hook(tx, event)
    return True
