"""Which pools (公海) a member may claim from, and which they administer.

Every territory has a pool of its own; a tenant adds more (key accounts, inbound leads …). A member
may claim from (and sees the unowned customers of):

- owner/admin (and jobs): every pool;
- the pool of every territory they work (a rep's own, a manager's subtrees), or were granted across
  territories (跨区, with its subtree) — the rule pools had before there were named pools;
- a pool whose scope names them, or names a territory they work one of (the territory or one below
  it: a scope of 江苏 lets in the reps of 南京);
- a pool they administer.

A pool with no scope is claimed from by its admins only (they assign from it). Who administers a
pool (assigns from it, moves its customers to another pool, exports it): owner/admin, the pool's
admins (``pool_admins``), and for a territory's pool the managers of that territory.

``POOL_IDS`` is the one statement of the rule (``customer_access`` collects it into
``CustomerAccess.pools``; ``claimable_pools_sql`` inlines it into the pool page's query).
"""

from __future__ import annotations

from app.sql import Params
from tenants.access.subtree import in_subtree_sql
from tenants.access.territories import MEMBER_IDS
from tenants.scope import TenantScope

# The territories a member works, or was granted with their subtree (the tenant is $1, the member
# {me}, {managers}: their role is manager or above).
_WORKED = (
    MEMBER_IDS.replace("$2", "{me}").replace("$3", "{managers}")
    + " UNION SELECT t.id FROM cross_territory_grants g"
    " JOIN territories a ON a.tenant = g.tenant AND a.id = g.territory_id"
    f" JOIN territories t ON t.tenant = a.tenant AND {in_subtree_sql('t.path', of='a.path')}"
    " WHERE g.tenant = $1 AND g.membership_id = {me} AND g.revoked_at IS NULL AND g.until > now()"
)

POOL_IDS_TEMPLATE = (
    "SELECT p.id FROM pools p WHERE p.tenant = $1 AND p.territory_id IN (" + _WORKED + ")"
    " UNION SELECT s.pool_id FROM pool_scopes s WHERE s.tenant = $1 AND s.membership_id = {me}"
    " UNION SELECT s.pool_id FROM pool_scopes s"
    " JOIN territories st ON st.tenant = s.tenant AND st.id = s.territory_id"
    f" JOIN territories w ON w.tenant = st.tenant AND {in_subtree_sql('w.path', of='st.path')}"
    " WHERE s.tenant = $1 AND w.id IN (" + _WORKED + ")"
    " UNION SELECT a.pool_id FROM pool_admins a WHERE a.tenant = $1 AND a.membership_id = {me}"
)
# The pools a member may claim from: $1 the tenant, $2 their membership, $3 manager or above.
POOL_IDS = POOL_IDS_TEMPLATE.format(me="$2", managers="$3")

# The pools a member administers besides owner/admin (same parameters).
ADMINISTERED_POOL_IDS = (
    "SELECT a.pool_id FROM pool_admins a WHERE a.tenant = $1 AND a.membership_id = $2"
    " UNION SELECT p.id FROM pools p JOIN territories t ON t.tenant = p.tenant AND t.id = p.territory_id"
    " JOIN territories r ON r.tenant = t.tenant"
    f" AND {in_subtree_sql('t.path', of='r.path')}"
    " JOIN territory_members tm ON tm.tenant = r.tenant AND tm.territory_id = r.id AND tm.role = 'manager'"
    " WHERE p.tenant = $1 AND tm.membership_id = $2 AND $3"
)


def claimable_pools_sql(p: Params, scope: TenantScope, column: str = "c.pool_id") -> str:
    """A condition: the pool id ``column`` is one the member may claim from (the tenant is ``$1``).
    Owner/admin claim from every pool: do not call it for them (it would narrow)."""
    sql = POOL_IDS_TEMPLATE.format(me=p(scope.membership_id), managers=p(scope.at_least("manager")))
    return f"{column} = ANY(ARRAY({sql}))"  # one InitPlan: the pool index keeps its order
