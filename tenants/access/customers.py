"""Who sees and changes which customer, and whose pools a member works.

- owner/admin (and jobs): every customer;
- a manager: the customers in the territories they manage (whole subtrees), plus their own;
- a rep: the customers they own, plus the unowned ones in the pools they may claim from (``pools``:
  their territories' pools, and the named pools whose scope lets them in).
- cross-territory grants (跨区, ``grants.py``) add, until they expire: a granted territory (with its
  subtree) counts as worked; a granted customer is visible whoever owns it.
- handover read grants (``app/handover``): a previous owner keeps seeing the customers a handover
  moved away from them until the grant ends.

A customer outside this is answered 404, exactly like one of another tenant. Changing a customer
needs more than seeing it: its owner, a manager of its territory, or an owner/admin (else 403).

The pools (公海) a member may claim from are ``pools.POOL_IDS`` (their territories' pools, the named
pools whose scope lets them in, those they administer), plus single customers granted across
territories; owner/admin all. ``CustomerAccess`` holds the collected ids (``customer_access``, one
round trip); ``pools_sql`` states the same rule as one condition for the pool page.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.db import Tx
from app.sql import Params
from tenants.access.pools import ADMINISTERED_POOL_IDS, POOL_IDS, claimable_pools_sql
from tenants.access.subtree import in_subtree_sql
from tenants.access.territories import MANAGED_IDS, MEMBER_IDS, acts_as_manager
from tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class CustomerAccess:
    everything: bool
    membership_id: UUID | None
    managed: frozenset[UUID]
    worked: frozenset[UUID]  # territories the member works (rep or manager): their pools are visible
    granted: frozenset[UUID] = frozenset()  # customers granted across territories (跨区)
    handed_over: frozenset[UUID] = frozenset()  # handover plans whose moved customers stay readable
    pools: frozenset[UUID] = frozenset()  # the pools they may claim from: their unowned customers are visible
    administered: frozenset[UUID] = frozenset()  # the pools they administer (owner/admin: all)

    def visible_sql(self, p: Params, alias: str = "c") -> str:
        """A SQL condition on the customer row ``alias``: true when this member may see it."""
        if self.everything:
            return "TRUE"
        granted = f" OR {alias}.id = ANY({p(list(self.granted))}::uuid[])" if self.granted else ""
        if self.handed_over:
            granted += (
                f" OR EXISTS (SELECT 1 FROM handover_items hi WHERE hi.tenant = {alias}.tenant"
                f" AND hi.plan_id = ANY({p(list(self.handed_over))}::uuid[]) AND hi.customer_id = {alias}.id"
                f" AND hi.from_membership_id = {p(self.membership_id)}::uuid)"
            )
        return (
            f"({alias}.owner_membership_id = {p(self.membership_id)}"
            f" OR {alias}.territory_id = ANY({p(list(self.managed))}::uuid[])"
            f" OR ({alias}.owner_membership_id IS NULL"
            f" AND {alias}.pool_id = ANY({p(list(self.pools))}::uuid[])){granted})"
        )

    def may_claim(self, customer_id: UUID, pool_id: UUID) -> bool:
        """Whether the member may claim from the pool this customer is in (or was granted the customer)."""
        return self.everything or pool_id in self.pools or customer_id in self.granted

    def administers(self, pool_id: UUID) -> bool:
        """Whether the member administers the pool (assigns from it, moves its customers, exports it)."""
        return self.everything or pool_id in self.administered

    def can_edit(self, territory_id: UUID, owner_membership_id: UUID | None) -> bool:
        return (
            self.everything
            or (owner_membership_id is not None and owner_membership_id == self.membership_id)
            or territory_id in self.managed
        )

    def manages(self, territory_id: UUID) -> bool:
        return self.everything or territory_id in self.managed

    def may_add_in(self, territory_id: UUID) -> bool:
        """Whether the member may enter a new customer in ``territory_id``."""
        return self.everything or territory_id in self.managed or territory_id in self.worked


async def customer_access(tx: Tx, scope: TenantScope) -> CustomerAccess:
    """What the member may see and change (one round trip; kept for a read-only transaction's
    ``read_memo``, so a page's list and its badges read it once)."""
    memo = tx.read_memo
    key = ("customer_access", scope.membership_id, scope.role)
    if memo is not None and key in memo:
        access: CustomerAccess = memo[key]
        return access
    access = await _customer_access(tx, scope)
    if memo is not None:
        memo[key] = access
    return access


async def _customer_access(tx: Tx, scope: TenantScope) -> CustomerAccess:
    """The managed and worked territories, the live grants and handover read grants, in one round
    trip (each an ``ARRAY(…)`` of the same queries ``managed_territory_ids``, ``member_territory_ids``
    and the grants' own)."""
    if scope.at_least("admin"):
        return CustomerAccess(True, scope.membership_id, frozenset(), frozenset())
    if scope.membership_id is None:
        return CustomerAccess(False, None, frozenset(), frozenset())
    managed = f"ARRAY({MANAGED_IDS})" if acts_as_manager(scope) else "'{}'::uuid[]"
    row = await tx.fetchrow(
        f"SELECT {managed} AS managed, ARRAY({MEMBER_IDS}) AS worked,"
        f" ARRAY(SELECT g.territory_id FROM ({_GRANTS}) g WHERE g.territory_id IS NOT NULL) AS granted,"
        f" ARRAY(SELECT g.customer_id FROM ({_GRANTS}) g WHERE g.customer_id IS NOT NULL) AS customers,"
        " ARRAY(SELECT plan_id FROM handover_read_grants"
        "       WHERE tenant = $1 AND membership_id = $2 AND until > now()) AS plans,"
        f" ARRAY({POOL_IDS}) AS pools, ARRAY({ADMINISTERED_POOL_IDS}) AS administered",
        scope.tenant_id,
        scope.membership_id,
        scope.at_least("manager"),
    )
    assert row is not None
    return CustomerAccess(
        False,
        scope.membership_id,
        frozenset(row["managed"]),
        frozenset(row["worked"]) | frozenset(row["granted"]),
        frozenset(row["customers"]),
        frozenset(row["plans"]),
        frozenset(row["pools"]),
        frozenset(row["administered"]),
    )


# The member's live cross-territory grants: customers, and granted territories with their subtrees.
_GRANTS = (
    "SELECT g.customer_id, t.id AS territory_id FROM cross_territory_grants g"
    " LEFT JOIN territories a ON a.tenant = g.tenant AND a.id = g.territory_id"
    f" LEFT JOIN territories t ON t.tenant = a.tenant AND {in_subtree_sql('t.path', of='a.path')}"
    " WHERE g.tenant = $1 AND g.membership_id = $2 AND g.revoked_at IS NULL AND g.until > now()"
)


def pools_sql(p: Params, scope: TenantScope) -> str:
    """The pools the member may claim from, as one SQL condition on the customer ``c`` (no round
    trips to collect ids; the tenant is ``$1``): the same rule as ``customer_access`` —
    ``pools.POOL_IDS``, or a customer granted across territories. Owner/admin work every pool: do not
    call it for them (it would narrow)."""
    me = p(scope.membership_id)
    return (
        f"({claimable_pools_sql(p, scope)}"
        " OR c.id IN (SELECT g.customer_id FROM cross_territory_grants g WHERE g.tenant = $1"
        f" AND g.membership_id = {me} AND g.revoked_at IS NULL AND g.until > now()))"
    )
