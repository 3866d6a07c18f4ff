"""SQL the deals domain offers other domains (they read it as text, so nothing imports a service).

- ``LATE_STAGE_OPEN_DEALS_SQL``: the customers with an open deal at demo or later (the pool's
  auto-reclaim exemption); ``{tenant}`` is the tenant's parameter placeholder.
"""

from __future__ import annotations

from app.deals.stages import LATE_STAGES

_LATE = ", ".join(f"'{s}'" for s in LATE_STAGES)
LATE_STAGE_OPEN_DEALS_SQL = (
    "SELECT DISTINCT customer_id FROM deals WHERE tenant = {tenant} AND stage IN (" + _LATE + ")"
)


def late_stage_open_deal_customer_ids_sql(tenant_param: str = "$1") -> str:
    """A query of ``customer_id`` for customers with an open deal at demo or later."""
    return LATE_STAGE_OPEN_DEALS_SQL.format(tenant=tenant_param)
