"""Envelopes out for signature go along with a handover (option ``carry_envelopes``).

An envelope in status ``sent`` whose sender is the previous owner and which belongs to a moved
customer (``customer_id``, or a deal of that customer as its subject) gets the receiver as its sender
— ``created_by`` and the sender's name, email and locale, so reminders and completion mails go to
them. With no receiver (back to the pool) the executing manager takes it, so a leaving member never
keeps one. The signers are not told (no mail is queued); each envelope gets a ``sender_changed``
evidence event and an audit entry; the receivers learn the count in their digest. Undo gives them
back while they are still out and still with the receiver.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app import audit
from app.db import Tx
from app.signing import evidence

# Envelopes of the item's customer (directly or through one of its deals) sent by the previous owner.
BELONGS = (
    "e.tenant = i.tenant AND e.status = 'sent' AND e.created_by = i.from_membership_id"
    " AND (e.customer_id = i.customer_id OR (e.subject_type = 'deal' AND EXISTS (SELECT 1 FROM deals d"
    "  WHERE d.tenant = e.tenant AND d.id::text = e.subject_id AND d.customer_id = i.customer_id)))"
)
# Items whose owner changes (a realignment keeps some owners).
CHANGES = "i.blocked IS NULL AND i.to_membership_id IS DISTINCT FROM i.from_membership_id"
# A deal still open (it goes along with its customer).
OPEN_DEAL = "stage NOT IN ('won', 'lost')"

_COUNT = f"""
SELECT coalesce(i.to_membership_id, $3::uuid) AS m, count(*) AS n
FROM handover_items i JOIN envelopes e ON {BELONGS}
WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES} AND i.from_membership_id IS NOT NULL
GROUP BY 1
"""

_CARRY = f"""
WITH moved AS (
    UPDATE envelopes e SET created_by = i.to_id, sender_email = u.email, sender_name = u.name,
        sender_locale = coalesce(u.locale, t.locale, e.sender_locale)
    FROM (SELECT i.tenant, i.customer_id, i.from_membership_id,
            coalesce(i.to_membership_id, $3::uuid) AS to_id
          FROM handover_items i WHERE i.tenant = $1 AND i.plan_id = $2 AND {CHANGES}
          AND i.from_membership_id IS NOT NULL) i
    JOIN memberships m ON m.tenant = i.tenant AND m.id = i.to_id
    JOIN users u ON u.id = m.user_id
    JOIN tenants t ON t.id = i.tenant
    WHERE {BELONGS}
    RETURNING e.id, i.from_membership_id AS f, i.to_id AS t
)
INSERT INTO handover_envelopes (tenant, plan_id, envelope_id, from_membership_id, to_membership_id)
SELECT $1, $2, id, f, t FROM moved
RETURNING envelope_id, from_membership_id, to_membership_id
"""

_BACK = """
WITH back AS (
    UPDATE envelopes e SET created_by = h.from_membership_id, sender_email = u.email, sender_name = u.name,
        sender_locale = coalesce(u.locale, t.locale, e.sender_locale)
    FROM handover_envelopes h
    JOIN memberships m ON m.tenant = h.tenant AND m.id = h.from_membership_id AND m.active
    JOIN users u ON u.id = m.user_id
    JOIN tenants t ON t.id = h.tenant
    WHERE h.tenant = $1 AND h.plan_id = $2 AND e.tenant = h.tenant AND e.id = h.envelope_id
      AND e.status = 'sent' AND e.created_by = h.to_membership_id
    RETURNING e.id AS envelope_id, h.to_membership_id AS from_membership_id,
        h.from_membership_id AS to_membership_id
)
SELECT * FROM back
"""


# Offboarding: envelopes the leaving member still sends that no item carried (their customer is someone
# else's, or no customer at all) go to that customer's active owner, else to the executing manager.
_STRAYS = """
WITH moved AS (
    UPDATE envelopes e SET created_by = x.to_id, sender_email = u.email, sender_name = u.name,
        sender_locale = coalesce(u.locale, t.locale, e.sender_locale)
    FROM (SELECT s.id, coalesce(own.id, $3::uuid) AS to_id FROM envelopes s
          LEFT JOIN deals d ON s.subject_type = 'deal' AND d.tenant = s.tenant AND d.id::text = s.subject_id
          LEFT JOIN customers c ON c.tenant = s.tenant AND c.id = coalesce(s.customer_id, d.customer_id)
          LEFT JOIN memberships own ON own.tenant = c.tenant AND own.id = c.owner_membership_id
              AND own.active AND own.id <> $4
          WHERE s.tenant = $1 AND s.status = 'sent' AND s.created_by = $4) x
    JOIN memberships m ON m.tenant = $1 AND m.id = x.to_id
    JOIN users u ON u.id = m.user_id
    JOIN tenants t ON t.id = $1
    WHERE e.tenant = $1 AND e.id = x.id
    RETURNING e.id, x.to_id AS t
)
INSERT INTO handover_envelopes (tenant, plan_id, envelope_id, from_membership_id, to_membership_id)
SELECT $1, $2, id, $4, t FROM moved
RETURNING envelope_id, from_membership_id, to_membership_id
"""


async def counts(tx: Tx, plan_id: UUID, actor: UUID | None) -> dict[UUID, int]:
    """Per receiver (the actor for items going to the pool): the envelopes that would go along."""
    return {r["m"]: r["n"] for r in await tx.fetch(_COUNT, tx.tenant_id, plan_id, actor) if r["m"]}


async def _record(
    tx: Tx,
    rows: list[asyncpg.Record],
    plan_id: UUID,
    actor_user: UUID | None,
    actor: UUID | None,
    reason: str,
) -> None:
    for r in rows:
        env_id, f, t = r["envelope_id"], r["from_membership_id"], r["to_membership_id"]
        data = {"from": str(f) if f else None, "to": str(t) if t else None, "handover": str(plan_id)}
        await evidence.append_event(tx, env_id, "sender_changed", actor=actor, data=data)
        await audit.record(
            tx, actor_user, "envelope.sender_changed", "envelope", env_id, reason=reason, data=data
        )


async def carry(
    tx: Tx, plan_id: UUID, *, actor: UUID | None, actor_user: UUID | None, reason: str
) -> dict[UUID, int]:
    """Give the plan's envelopes to their receivers; returns how many each got."""
    rows = await tx.fetch(_CARRY, tx.tenant_id, plan_id, actor)
    await _record(tx, list(rows), plan_id, actor_user, actor, reason)
    got: dict[UUID, int] = {}
    for r in rows:
        got[r["to_membership_id"]] = got.get(r["to_membership_id"], 0) + 1
    return got


async def carry_back(
    tx: Tx, plan_id: UUID, *, actor: UUID | None, actor_user: UUID | None, reason: str
) -> int:
    """Undo: envelopes still out and still with the receiver go back to their previous sender."""
    rows = await tx.fetch(_BACK, tx.tenant_id, plan_id)
    await _record(tx, list(rows), plan_id, actor_user, actor, reason)
    return len(rows)


async def carry_strays(
    tx: Tx, plan_id: UUID, leaving: UUID, *, actor: UUID | None, actor_user: UUID | None, reason: str
) -> int:
    """Offboarding: the leaving member's envelopes still out that ``carry`` did not move (see
    ``_STRAYS``), so that they keep none. Returns how many moved."""
    rows = await tx.fetch(_STRAYS, tx.tenant_id, plan_id, actor, leaving)
    await _record(tx, list(rows), plan_id, actor_user, actor, reason)
    return len(rows)
