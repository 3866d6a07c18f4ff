"""An envelope names only a customer of the sender's own tenant that the sender sees."""

from __future__ import annotations

from typing import Any

from tests.factories import customer, db_value, territory
from tests.helpers import signup
from tests.integration.signing.support import ready_contract, signer


async def test_an_envelope_refuses_another_tenants_customer(client: Any, app: Any, admin_db: str) -> None:
    owner, other = await signup(client), await signup(client)
    theirs = await customer(client, other, (await territory(client, other, "上海市"))["id"])
    ours = await customer(client, owner, (await territory(client, owner, "南京市"))["id"])
    document_id = await ready_contract(client, app, owner)
    body = {"document_id": document_id, "signers": [signer()]}
    envelopes = "/api/v1/envelopes"
    r = await client.post(envelopes, json={**body, "customer_id": theirs["id"]}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id", r.text
    stored = "SELECT count(*) FROM envelopes WHERE customer_id = $1"
    assert await db_value(admin_db, stored, theirs["id"]) == 0
    r = await client.post(envelopes, json={**body, "customer_id": ours["id"]}, headers=owner.headers)
    assert r.status_code == 201 and r.json()["customer_id"] == ours["id"], r.text
    # the list narrows to one customer's envelopes
    await client.post(envelopes, json=body, headers=owner.headers)  # one for no customer
    listed = await client.get(envelopes, params={"customer_id": ours["id"]}, headers=owner.headers)
    assert [e["customer_id"] for e in listed.json()["items"]] == [ours["id"]], listed.text
    everything = await client.get(envelopes, headers=owner.headers)
    assert len(everything.json()["items"]) == 2
