"""Access, in one place: who sees and who manages what inside a tenant.

Each module states its rule in prose and owns its SQL: ``subtree`` (the one subtree condition),
``territories`` (who manages and works which territory), ``customers`` (customers and pools),
``deals`` (deals, quotes, collections, approvals), ``documents``, ``envelopes``, ``handovers``
(plans) and ``team`` (sales records and who is whose manager). Roles come from
``TenantScope.at_least`` (a job's system scope is above every role). Anything else builds its
queries on these and spells neither the subtree range nor a role special case itself (a unit test
fails when it does).

This package sits below the domains: it imports the core (``app.db``, ``app.errors``, ``app.sql``)
and ``tenants.scope`` only; SQL text naming domain tables is fine here.
"""

from tenants.access.customers import CustomerAccess, customer_access, pools_sql
from tenants.access.deals import DealAccess, deal_access
from tenants.access.documents import document_visible_sql
from tenants.access.envelopes import envelope_visible_sql
from tenants.access.handovers import plan_visible_sql, sees_plan
from tenants.access.subtree import SUBTREE_END, in_subtree_sql, territory_in_subtree_sql, territory_path
from tenants.access.team import (
    assigned_visible_sql,
    managers_of,
    manages_member,
    reach_sql,
    target_visible_sql,
    team_member_ids,
    weekly_report_territories,
)
from tenants.access.territories import (
    acts_as_manager,
    managed_territory_ids,
    manages,
    member_territory_ids,
    require_manages,
    territory_managers,
)

__all__ = [
    "SUBTREE_END",
    "CustomerAccess",
    "DealAccess",
    "acts_as_manager",
    "assigned_visible_sql",
    "customer_access",
    "deal_access",
    "document_visible_sql",
    "envelope_visible_sql",
    "in_subtree_sql",
    "managed_territory_ids",
    "managers_of",
    "manages",
    "manages_member",
    "member_territory_ids",
    "plan_visible_sql",
    "pools_sql",
    "reach_sql",
    "require_manages",
    "sees_plan",
    "target_visible_sql",
    "team_member_ids",
    "territory_in_subtree_sql",
    "territory_managers",
    "territory_path",
    "weekly_report_territories",
]
