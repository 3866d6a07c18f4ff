"""``wire()``: the one place where domains plug into each other's extension points.

Each registry is plain data owned by the module that reads it; nothing registers itself at import.
``create_app()`` and ``workers.settings.worker_settings()`` call ``wire()`` (so do the test session and
the benchmarks that call services without an app). It is idempotent: a second call registers nothing
twice. Code that reads a registry before ``wire()`` ran sees it empty — no provider (422), no hooks,
no guards, no exemptions — so every process entry point must call it.

Registries (owner: what is registered, by which domain):

- document providers (``app.documents.providers``): ``sample`` and ``customer`` (documents), ``deal``
  and ``quote`` (deals), ``handover`` (handover);
- won hooks (``app.customers.won``): the referral reward, the after-sales return visits (sales growth),
  the service period (deals);
- deactivation guards (``tenants.members``): refuse while the member owns anything (handover);
- reclaim exemptions (``app.customers.pool.rules``): an open late-stage deal (deals), a contract out
  for signature (signing), a live vendor registration (deals);
- claim gates (``app.customers.pool.service``): a live vendor registration of another team (deals);
- signed hooks (``app.signing.jobs``): ``deal`` and ``quote`` move the deal to signed and start its
  collections (deals).
"""

from __future__ import annotations

from app.customers.pool.rules import LOCKED, register_reclaim_exemption
from app.customers.pool.service import register_claim_gate
from app.customers.won import register_won_hook
from app.deals.aftersales.service import record_period
from app.deals.documents import deal_subject, quote_subject
from app.deals.hooks import LATE_STAGE_DEAL
from app.deals.registrations.gates import LIVE_REGISTRATION, claim_gate
from app.deals.service import start_collections
from app.documents.providers import customer_subject, register_provider, sample_subject
from app.handover.offboarding import refuse_while_owning
from app.handover.sheet import handover_subject
from app.sales.growth.referrals import reward_on_win
from app.sales.growth.return_visits import schedule_after_win
from app.signing.hooks import CONTRACT_OUT
from app.signing.jobs import register_signed_hook
from tenants.members import register_deactivation_guard


def wire() -> None:
    """Register every document provider, won hook, deactivation guard, reclaim exemption, claim gate
    and signed hook (in this order within each registry)."""
    register_provider("sample", sample_subject)
    register_provider("customer", customer_subject)
    register_provider("deal", deal_subject)
    register_provider("quote", quote_subject)
    register_provider("handover", handover_subject)

    register_won_hook(reward_on_win)
    register_won_hook(schedule_after_win)
    register_won_hook(record_period)

    register_deactivation_guard(refuse_while_owning)

    register_reclaim_exemption(LATE_STAGE_DEAL)
    register_reclaim_exemption(CONTRACT_OUT)
    register_reclaim_exemption(LIVE_REGISTRATION)
    register_reclaim_exemption(LOCKED)

    register_claim_gate(claim_gate)

    register_signed_hook("deal", start_collections)
    register_signed_hook("quote", start_collections)
