"""The seat hook: called before anything adds an active member (invitation, acceptance, reactivation).

Today it enforces ``tenants.seat_limit`` when one is set; the billing issue replaces the limit with
the paid quantity of the tenant's Stripe subscription (and may raise it automatically)."""

from __future__ import annotations

from app.db import Tx
from app.errors import PaymentRequired


async def ensure_seat_available(tx: Tx, *, pending_invitations: bool = False) -> None:
    """Raise 402 when one more active member would exceed the tenant's seats.

    With ``pending_invitations`` the open invitations count as seats too (used when inviting)."""
    row = await tx.fetchrow(
        "SELECT t.seat_limit,"
        " (SELECT count(*) FROM memberships m WHERE m.tenant = t.id AND m.active) AS used,"
        " (SELECT count(*) FROM invitations i WHERE i.tenant = t.id AND i.accepted_at IS NULL"
        "   AND i.revoked_at IS NULL AND i.expires_at > now()) AS invited"
        " FROM tenants t WHERE t.id = $1",
        tx.tenant_id,
    )
    if row is None or row["seat_limit"] is None:
        return
    used = row["used"] + (row["invited"] if pending_invitations else 0)
    if used + 1 > row["seat_limit"]:
        raise PaymentRequired(
            "All {limit} seats are in use; add seats in billing to add members",
            limit=row["seat_limit"],
            extra={"billing": "/api/v1/billing", "seats_used": used, "seats_paid": row["seat_limit"]},
        )
