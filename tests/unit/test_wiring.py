"""``app.wiring.wire()``: every registry holds exactly its entries, once, whatever the number of calls;
importing the code registers nothing, building the app or the worker settings registers everything."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from app.customers.pool.rules import LOCKED, RECLAIM_EXEMPTIONS, ReclaimExemption, register_reclaim_exemption
from app.customers.pool.service import CLAIM_GATES
from app.customers.won import WON_HOOKS
from app.deals.aftersales.service import record_period
from app.deals.documents import deal_subject, quote_subject
from app.deals.hooks import LATE_STAGE_DEAL
from app.deals.registrations.gates import LIVE_REGISTRATION, claim_gate
from app.deals.service import start_collections
from app.documents.providers import PROVIDERS, customer_subject, register_provider, sample_subject
from app.handover.offboarding import refuse_while_owning
from app.handover.sheet import handover_subject
from app.sales.growth.referrals import reward_on_win
from app.sales.growth.return_visits import schedule_after_win
from app.signing.hooks import CONTRACT_OUT
from app.signing.jobs import SIGNED_HOOKS, register_signed_hook
from app.wiring import wire
from tenants.members import DEACTIVATION_GUARDS, register_deactivation_guard

EXPECTED = {
    "providers": {
        "sample": "app.documents.providers.sample_subject",
        "customer": "app.documents.providers.customer_subject",
        "deal": "app.deals.documents.deal_subject",
        "quote": "app.deals.documents.quote_subject",
        "handover": "app.handover.sheet.handover_subject",
    },
    "won_hooks": [
        "app.sales.growth.referrals.reward_on_win",
        "app.sales.growth.return_visits.schedule_after_win",
        "app.deals.aftersales.service.record_period",
    ],
    "deactivation_guards": ["app.handover.offboarding.refuse_while_owning"],
    "reclaim_exemptions": ["late_stage_deal", "contract_out", "vendor_registration", "locked"],
    "claim_gates": ["app.deals.registrations.gates.claim_gate"],
    "signed_hooks": {
        "deal": "app.deals.service.start_collections",
        "quote": "app.deals.service.start_collections",
    },
}

# Prints the registries as names (``EXPECTED``'s shape), before and after the entry point runs.
_SNAPSHOT = """
import json, sys
from app.customers.pool.rules import RECLAIM_EXEMPTIONS
from app.customers.pool.service import CLAIM_GATES
from app.customers.won import WON_HOOKS
from app.documents.providers import PROVIDERS
from app.signing.jobs import SIGNED_HOOKS
from tenants.members import DEACTIVATION_GUARDS

def name(f):
    return f"{f.__module__}.{f.__qualname__}"

def snapshot():
    return {
        "providers": {k: name(v) for k, v in PROVIDERS.items()},
        "won_hooks": [name(h) for h in WON_HOOKS],
        "deactivation_guards": [name(g) for g in DEACTIVATION_GUARDS],
        "reclaim_exemptions": [e.code for e in RECLAIM_EXEMPTIONS],
        "claim_gates": [name(g) for g in CLAIM_GATES],
        "signed_hooks": {k: name(v) for k, v in SIGNED_HOOKS.items()},
    }
"""


def test_wire_registers_every_entry_exactly_once() -> None:
    wire()
    wire()
    assert PROVIDERS == {
        "sample": sample_subject,
        "customer": customer_subject,
        "deal": deal_subject,
        "quote": quote_subject,
        "handover": handover_subject,
    }
    assert WON_HOOKS == [reward_on_win, schedule_after_win, record_period]
    assert DEACTIVATION_GUARDS == [refuse_while_owning]
    assert RECLAIM_EXEMPTIONS == [LATE_STAGE_DEAL, CONTRACT_OUT, LIVE_REGISTRATION, LOCKED]
    assert CLAIM_GATES == [claim_gate]
    assert SIGNED_HOOKS == {"deal": start_collections, "quote": start_collections}


def test_a_second_entry_under_a_taken_key_is_refused_and_changes_nothing() -> None:
    wire()

    async def other(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("never called")

    with pytest.raises(RuntimeError):
        register_provider("deal", other)
    with pytest.raises(RuntimeError):
        register_signed_hook("quote", other)
    with pytest.raises(RuntimeError):
        register_reclaim_exemption(ReclaimExemption("contract_out", "another reason", "SELECT NULL::uuid"))
    register_deactivation_guard(refuse_while_owning)
    assert PROVIDERS["deal"] is deal_subject
    assert SIGNED_HOOKS["quote"] is start_collections
    assert RECLAIM_EXEMPTIONS == [LATE_STAGE_DEAL, CONTRACT_OUT, LIVE_REGISTRATION, LOCKED]
    assert DEACTIVATION_GUARDS == [refuse_while_owning]


@pytest.mark.parametrize(
    "entry",
    [
        "from app.main import create_app; from app.settings import Settings;"
        " create_app(Settings(environment='test', secret_key='k' * 40))",
        "from workers.settings import worker_settings; worker_settings()",
    ],
    ids=["create_app", "worker_settings"],
)
def test_importing_registers_nothing_and_each_entry_point_wires_everything(entry: str) -> None:
    imports = entry.split(";")[0]
    script = textwrap.dedent(_SNAPSHOT) + textwrap.dedent(f"""
        {imports}
        import app.wiring, app.main, workers.settings
        before = snapshot()
        {entry}
        print(json.dumps([before, snapshot()]))
    """)
    env = {"PATH": "/usr/bin:/bin", "ACRE_ENVIRONMENT": "test", "ACRE_SECRET_KEY": "k" * 40}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout
    before, after = json.loads(out.strip().splitlines()[-1])
    assert before == {
        "providers": {},
        "won_hooks": [],
        "deactivation_guards": [],
        "reclaim_exemptions": [],
        "claim_gates": [],
        "signed_hooks": {},
    }
    assert after == EXPECTED
