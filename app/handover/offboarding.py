"""Offboarding: a member who still owns customers, open deals or envelopes out for signature cannot
be deactivated. The refusal (409) gives the counts and a pre-filled handover draft — the member's
customers to the other active reps of their territories by capacity (or, with nobody there, to every
other active rep; with no rep at all, back to the pool; their envelopes go along, to the manager who
executes it when a customer goes to the pool, and the envelopes they sent for customers they do not own
go to those customers' owners — ``envelopes.carry_strays``). One open draft per leaving member: a
second refusal plans it again.

``refuse_while_owning`` is a deactivation guard of ``tenants.members``, registered by ``app.wiring``.
"""

from __future__ import annotations

from uuid import UUID

from app.errors import Conflict
from app.handover.plan import insert_plan, replan
from app.handover.schemas import HandoverCreate, HandoverSelection, HandoverTarget
from app.i18n import N_, translate
from tenants.scope import TenantScope

_OTHER_REPS = """
SELECT DISTINCT o.membership_id, m.created_at FROM territory_members mine
JOIN territory_members o ON o.tenant = mine.tenant AND o.territory_id = mine.territory_id AND o.role = 'rep'
JOIN memberships m ON m.tenant = o.tenant AND m.id = o.membership_id AND m.active
WHERE mine.tenant = $1 AND mine.membership_id = $2 AND o.membership_id <> $2
ORDER BY m.created_at, o.membership_id
"""
_ANY_REPS = (
    "SELECT id AS membership_id FROM memberships WHERE tenant = $1 AND id <> $2 AND active AND role = 'rep'"
    " ORDER BY created_at, id"
)
LEAVING = N_("{name} is leaving: their customers are handed over")


async def refuse_while_owning(scope: TenantScope, member_id: UUID) -> None:
    """Return when the member owns nothing (or is not an active non-owner member: the deactivation
    itself answers that); else create or refresh the draft and raise 409."""
    async with scope.tx() as tx:
        member = await tx.fetchrow(
            "SELECT m.role, m.active, u.name, t.locale FROM memberships m JOIN users u ON u.id = m.user_id"
            " JOIN tenants t ON t.id = m.tenant WHERE m.tenant = $1 AND m.id = $2",
            scope.tenant_id,
            member_id,
        )
        if member is None or not member["active"] or member["role"] == "owner":
            return
        counts = await tx.fetchrow(
            "SELECT (SELECT count(*) FROM customers WHERE tenant = $1 AND owner_membership_id = $2)"
            " AS customers,"
            " (SELECT count(*) FROM deals WHERE tenant = $1 AND owner_membership_id = $2"
            "  AND stage NOT IN ('won', 'lost')) AS deals,"
            " (SELECT count(*) FROM envelopes WHERE tenant = $1 AND created_by = $2 AND status = 'sent')"
            " AS envelopes",
            scope.tenant_id,
            member_id,
        )
        assert counts is not None
        if not counts["customers"] and not counts["deals"] and not counts["envelopes"]:
            return
        existing = await tx.fetchrow(
            "SELECT * FROM handover_plans WHERE tenant = $1 AND offboarding_membership_id = $2"
            " AND status = 'draft' ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
            scope.tenant_id,
            member_id,
        )
        if existing is not None:
            plan = await replan(tx, scope, existing)
        else:
            reps = await tx.fetch(_OTHER_REPS, scope.tenant_id, member_id) or await tx.fetch(
                _ANY_REPS, scope.tenant_id, member_id
            )
            targets = [HandoverTarget(r["membership_id"]) for r in reps]
            data = HandoverCreate(
                reason=translate(member["locale"], LEAVING, name=member["name"] or ""),
                selection=HandoverSelection(owner_ids=[member_id]),
                targets=targets,
                mode="capacity" if targets else "pool",
            )
            plan = await insert_plan(tx, scope, data, offboarding=member_id)
    raise Conflict(
        "This member still owns {customers} customers and {deals} open deals; hand them over first",
        customers=counts["customers"],
        deals=counts["deals"],
        extra={
            "customers": counts["customers"],
            "deals": counts["deals"],
            "envelopes": counts["envelopes"],
            "handover_id": str(plan["id"]),
            "handover": f"/api/v1/handovers/{plan['id']}",
        },
    )
