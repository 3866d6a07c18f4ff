"""A customer with an envelope out for signature is exempt from auto-reclaim (the pool's hook)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app import db
from app.customers.pool.rules import reclaim_exempt_customer_ids_sql
from tests.factories import customer as make_customer
from tests.factories import territory
from tests.helpers import signup
from tests.integration.signing.support import make_envelope, ready_contract, signer


async def test_an_envelope_out_exempts_its_customer_until_it_ends(client: Any, app: Any) -> None:
    owner = await signup(client)
    doc = await ready_contract(client, app, owner)
    customer = (await make_customer(client, owner, (await territory(client, owner, "南京市"))["id"]))["id"]
    env = await make_envelope(client, owner, doc, [signer()], customer_id=customer)
    tenant = UUID(owner.tenant_id)

    async def exempt() -> set[tuple[str, str]]:
        async with db.transaction(tenant) as tx:
            rows = await tx.fetch(reclaim_exempt_customer_ids_sql("$1"), tenant)
        return {(str(r["customer_id"]), r["code"]) for r in rows}

    assert (customer, "contract_out") in await exempt()
    r = await client.post(f"/api/v1/envelopes/{env['id']}/void", json={"reason": "x"}, headers=owner.headers)
    assert r.status_code == 200
    assert (customer, "contract_out") not in await exempt()
