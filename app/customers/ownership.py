"""Reading the ownership history of one customer, and verifying the tenant's chain (admin+)."""

from __future__ import annotations

from uuid import UUID

from app.customers import anchors, ledger
from app.customers.pool.schemas import AnchorRead, OwnershipEntryRead, VerifyRead
from app.customers.service import load_visible
from app.errors import ValidationFailed
from app.pagination import Page, check_limit, decode_cursor, encode_cursor
from app.rows import to_structs
from tenants.scope import TenantScope

_NAME = (
    "(SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.tenant = h.tenant AND m.id = {})"
)
_SELECT = (
    "SELECT h.id, h.seq, h.customer_id, h.from_membership_id, h.to_membership_id, h.cause, h.actor, h.reason,"
    " h.plan_id, h.at, encode(h.hash, 'hex') AS hash,"
    f" {_NAME.format('h.from_membership_id')} AS from_name, {_NAME.format('h.to_membership_id')} AS to_name,"
    f" {_NAME.format('h.actor')} AS actor_name FROM customer_ownership_history h"
)


async def list_ownership(
    scope: TenantScope, customer_id: UUID, *, limit: int = 50, cursor: str | None = None
) -> Page[OwnershipEntryRead]:
    """The customer's owner changes, oldest first (404 if the customer is not visible)."""
    check_limit(limit)
    after = decode_cursor(cursor, 1)
    try:
        after_seq = int(after[0]) if after else 0
    except ValueError:
        raise ValidationFailed.field("cursor", "This cursor is not valid") from None
    async with scope.tx() as tx:
        await load_visible(tx, scope, customer_id)
        rows = await tx.fetch(
            _SELECT + " WHERE h.tenant = $1 AND h.customer_id = $2 AND h.seq > $3 ORDER BY h.seq LIMIT $4",
            scope.tenant_id,
            customer_id,
            after_seq,
            limit + 1,
        )
    items = to_structs(OwnershipEntryRead, rows[:limit])
    return Page(items=items, next_cursor=encode_cursor(items[-1].seq) if len(rows) > limit else None)


async def verify(scope: TenantScope) -> VerifyRead:
    """Recompute the tenant's whole chain and check it against its anchors (owner/admin)."""
    scope.require("admin")
    async with scope.tx() as tx:
        result = await ledger.verify_chain(tx)
        anchored = await anchors.check_anchors(tx)
    last = anchored.last
    return VerifyRead(
        ok=result.ok and anchored.ok,
        checked=result.checked,
        first_broken_id=result.first_broken_id,
        first_broken_seq=result.first_broken_seq,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        anchors_checked=anchored.checked,
        first_broken_anchor_id=anchored.first_broken_id,
        first_broken_anchor_seq=anchored.first_broken_seq,
        first_broken_anchor_at=anchored.first_broken_at,
        anchor_problem=anchored.problem,
        last_anchor=(
            AnchorRead(last.id, last.head_seq, last.head_hash, last.stamped_at, last.token_sha256)
            if last
            else None
        ),
    )
