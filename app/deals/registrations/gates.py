"""What a live vendor registration guards (registered by ``app.wiring``, called by the handover plan).

- ``LIVE_REGISTRATION``: a reclaim exemption of the pool — a customer with a live registration is
  never auto-reclaimed.
- ``claim_gate``: a claim gate of the pool — a member outside the registering team may claim such a
  customer only once a manager approved it (an approval of kind ``registration``: the member asks with
  ``request_claim_approval``, a manager of the customer's territory decides in the approvals inbox).
- ``registration_conflicts``: for a handover plan, the customers with a live registration it would
  give to a member outside the registering team (the plan names them; the manager who executes it is
  the one approving).

The registering team: the members of the registration's territory (the customer's when it was
registered; the customer's now when that one is gone), of the territories below it and of those above
it (their managers).
"""

from __future__ import annotations

from uuid import UUID

from app.customers.pool.rules import ReclaimExemption
from app.customers.pool.service import Refusal, load_claimable
from app.db import Tx
from app.deals import approvals
from app.deals.registrations.schemas import RegistrationConflict
from app.deals.registrations.service import LIVE_SQL, load_registration
from app.deals.schemas import ApprovalRead
from app.errors import Conflict
from app.i18n import N_
from tenants.access.subtree import in_subtree_sql
from tenants.scope import TenantScope

APPROVAL_KIND = "registration"

LIVE_REGISTRATION = ReclaimExemption(
    "vendor_registration",
    N_("it has a live vendor registration"),
    "SELECT r.customer_id FROM vendor_registrations r WHERE r.tenant = {tenant} AND " + LIVE_SQL,
)


def in_team_sql(member: str) -> str:
    """True when the membership expression ``member`` belongs to the registering team of ``r`` (a
    vendor_registrations row joined to its customer ``c``)."""
    return (
        "EXISTS (SELECT 1 FROM territory_members tm"
        " JOIN territories a ON a.tenant = tm.tenant AND a.id = tm.territory_id"
        " JOIN territories team ON team.tenant = r.tenant"
        " AND team.id = coalesce(r.territory_id, c.territory_id)"
        f" WHERE tm.tenant = r.tenant AND tm.membership_id = {member}"
        f" AND ({in_subtree_sql('a.path', of='team.path')} OR {in_subtree_sql('team.path', of='a.path')}))"
    )


_APPROVED = (
    "EXISTS (SELECT 1 FROM approvals ap WHERE ap.tenant = r.tenant AND ap.kind = 'registration'"
    " AND ap.subject_id = r.id AND ap.requested_by = $3 AND ap.status = 'approved')"
)
_GATED = f"""
SELECT r.id, r.vendor, r.registration_no, r.protected_until, t.name AS team FROM vendor_registrations r
JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id
LEFT JOIN territories t ON t.tenant = r.tenant AND t.id = coalesce(r.territory_id, c.territory_id)
WHERE r.tenant = $1 AND r.customer_id = $2 AND {LIVE_SQL} AND NOT {in_team_sql("$3")} AND NOT {_APPROVED}
ORDER BY r.protected_until DESC, r.id LIMIT 1
"""


async def claim_gate(tx: Tx, scope: TenantScope, customer_id: UUID) -> Refusal | None:
    """Refuse a claim by a member outside the registering team of a live registration, unless a
    manager approved that member's claim of it. Owners and admins are never refused."""
    if scope.at_least("admin") or scope.membership_id is None:
        return None
    row = await tx.fetchrow(_GATED, scope.tenant_id, customer_id, scope.membership_id)
    if row is None:
        return None
    return Refusal(
        "vendor_registration",
        N_(
            "Registered with {vendor} by the team of {team} until {until}: claiming it needs a manager's"
            " approval"
        ),
        {
            "vendor": row["vendor"],
            "team": row["team"] or "",
            "until": row["protected_until"].isoformat(),
            "registration_id": str(row["id"]),
        },
    )


async def request_claim_approval(scope: TenantScope, registration_id: UUID) -> ApprovalRead:
    """Ask the managers of the customer's territory to let the caller claim a customer held by a live
    registration of another team. 404 unless the caller may claim from the customer's pool (or sees
    it); 409 when nothing needs approving (not live, their own team, approved already) or a request
    is pending already."""
    scope.require_person()
    async with scope.tx() as tx:
        registration = await load_registration(tx, scope, registration_id)
        await load_claimable(tx, scope, registration["customer_id"])
        if await claim_gate(tx, scope, registration["customer_id"]) is None:
            raise Conflict("Nothing stops you from claiming this customer")
        deal = {
            "id": registration["deal_id"],
            "territory_id": registration["customer_territory_id"],
            "title": registration["title"],
        }
        payload = {
            "customer_id": registration["customer_id"],
            "vendor": registration["vendor"],
            "registration_no": registration["registration_no"],
            "customer": registration["customer_name"],
            "member": scope.name or scope.email or "",
        }
        return await approvals.request_approval(tx, scope, APPROVAL_KIND, registration_id, deal, payload)


_CONFLICTS = f"""
SELECT r.customer_id, c.full_name AS customer_name, x.m AS membership_id, r.vendor, r.registration_no,
       r.protected_until, t.name AS territory_name
FROM unnest($2::uuid[], $3::uuid[]) AS x (customer_id, m)
JOIN vendor_registrations r ON r.tenant = $1 AND r.customer_id = x.customer_id
JOIN customers c ON c.tenant = r.tenant AND c.id = r.customer_id
LEFT JOIN territories t ON t.tenant = r.tenant AND t.id = coalesce(r.territory_id, c.territory_id)
WHERE x.m IS NOT NULL AND {LIVE_SQL} AND NOT {in_team_sql("x.m")}
ORDER BY c.full_name, r.customer_id
"""


async def registration_conflicts(
    tx: Tx, customer_ids: list[UUID], receivers: list[UUID | None]
) -> list[RegistrationConflict]:
    """For a handover that gives ``customer_ids[i]`` to ``receivers[i]`` (``None``: to the pool), the
    customers with a live registration whose receiver is outside the registering team (in ``tx``'s
    tenant; one statement)."""
    rows = await tx.fetch(_CONFLICTS, tx.tenant_id, customer_ids, receivers)
    return [RegistrationConflict(**dict(r)) for r in rows]
