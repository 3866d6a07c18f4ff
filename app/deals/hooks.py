"""What the deals domain plugs into other domains (registered by ``app.wiring``).

- ``LATE_STAGE_DEAL``: a reclaim exemption of the pool — a customer with an open deal at demo or later
  is never auto-reclaimed.
"""

from __future__ import annotations

from app.customers.pool.rules import ReclaimExemption
from app.deals.stages import LATE_STAGES
from app.i18n import N_

_LATE = ", ".join(f"'{s}'" for s in LATE_STAGES)
LATE_STAGE_DEAL = ReclaimExemption(
    "late_stage_deal",
    N_("it has an open deal in a late stage"),
    "SELECT DISTINCT customer_id FROM deals WHERE tenant = {tenant} AND stage IN (" + _LATE + ")",
)
