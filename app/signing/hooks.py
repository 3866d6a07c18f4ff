"""What e-signature plugs into other domains (registered by ``app.wiring``).

- ``CONTRACT_OUT``: a reclaim exemption of the pool — a customer with an envelope out for signature
  is never auto-reclaimed.
"""

from __future__ import annotations

from app.customers.pool.rules import ReclaimExemption
from app.i18n import N_

CONTRACT_OUT = ReclaimExemption(
    "contract_out",
    N_("a contract is out for signature"),
    "SELECT customer_id FROM envelopes"
    " WHERE tenant = {tenant} AND status = 'sent' AND customer_id IS NOT NULL",
)
