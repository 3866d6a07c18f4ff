"""A signed contract of a deal moves the deal to signed and starts its collections (through
``app.signing.jobs.on_contract_signed`` → ``app.deals.service.start_collections``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import run_jobs
from tests.integration.documents.test_documents_api import request_document
from tests.integration.signing.support import link_for, make_envelope, sign_typed, signer


async def test_signing_a_deals_contract_moves_the_deal_to_signed(client: Any, app: Any, mailbox: Any) -> None:
    support = pytest.importorskip("tests.integration.deals.support")
    from tests.factories import customer

    w = await support.world(client, mailbox, app)
    small = await customer(client, w.rep, w.city["id"])
    d = await support.deal(client, w.rep, small["id"], amount="8000.00", stage="negotiation")
    terms = {
        "party_a_full_name": small["full_name"],
        "party_a_address": "苏州工业园区星湖街 218 号",
        "party_a_contact": "张建国",
        "party_a_phone": "0512-62883456",
    }
    r = await client.put(f"/api/v1/deals/{d['id']}/contract-terms", json=terms, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    r = await request_document(client, w.rep, subject_type="deal", subject_id=d["id"], locale="zh-CN")
    assert r.status_code == 202, r.text
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=w.rep.headers)).json()
    if not doc.get("pdf"):
        pytest.skip(f"no contract PDF for the deal: {doc.get('pdf_note') or doc.get('failure_reason')}")
    a = signer("李雷")
    env = await make_envelope(client, w.rep, doc["id"], [a])
    await run_jobs(app)
    await sign_typed(client, link_for(mailbox, a["email"]), "李雷")
    await run_jobs(app)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=w.rep.headers)).json()
    assert got["status"] == "completed"
    deal = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert deal["stage"] == "signed"
    listed = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    assert [c["code"] for c in listed] == ["full"]
