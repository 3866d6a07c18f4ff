"""The signed contract is the source of truth for money: a contract records the quote, total, currency
and milestones it was rendered with; signing it (the real flow: document → envelope → signing page →
completion job) freezes exactly that; the collections, the deal's amount, the pipeline, the daily
report's orders and the target attainment then use the signed figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.documents.convert import soffice_binary
from app.settings import get_settings
from tests.factories import today
from tests.helpers import Member, mails_to, run_jobs, signup
from tests.integration.deals.support import World, deal, line, quote, world
from tests.integration.documents.test_documents_api import request_document
from tests.integration.signing.support import link_for, make_envelope, sign_typed, signer

PARTY_A = {
    "party_a_address": "苏州工业园区星湖街 218 号",
    "party_a_contact": "张建国",
    "party_a_phone": "0512-62883456",
}


@pytest.fixture(autouse=True)
def _needs_libreoffice() -> None:
    if soffice_binary(get_settings()) is None:
        pytest.skip("LibreOffice (soffice) is not installed: no contract PDF to sign")


async def _terms(client: Any, w: World, deal_id: str, **fields: Any) -> dict[str, Any]:
    body = {"party_a_full_name": w.customer["full_name"], **PARTY_A, **fields}
    r = await client.put(f"/api/v1/deals/{deal_id}/contract-terms", json=body, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _approved_round(client: Any, w: World, deal_id: str, discount: str) -> dict[str, Any]:
    """A formal round of 5 ERP seats (6,800) and 5 service days (1,200), both at ``discount`` %, 13% tax;
    submitted and approved by the territory's manager."""
    lines = [
        line(w.products["erp"], "5", discount_percent=discount),
        line(w.products["svc"], "5", discount_percent=discount),
    ]
    r = await quote(client, w.rep, deal_id, lines)
    assert r.status_code == 201, r.text
    q = r.json()
    assert (await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.rep.headers)).status_code == 202
    r = await client.post(f"/api/v1/quotes/{q['id']}/approve", json={}, headers=w.manager.headers)
    assert r.status_code == 200, r.text
    return q  # type: ignore[no-any-return]


async def _contract(client: Any, app: Any, who: Member, deal_id: str) -> dict[str, Any]:
    """A contract of the deal rendered to PDF by the documents pipeline."""
    r = await request_document(client, who, subject_type="deal", subject_id=deal_id, locale="zh-CN")
    assert r.status_code == 202, r.text
    await run_jobs(app)
    doc = (await client.get(r.json()["url"], headers=who.headers)).json()
    assert doc["status"] == "ready" and doc["pdf"], doc
    return doc  # type: ignore[no-any-return]


async def _sign(client: Any, app: Any, mailbox: Any, env: dict[str, Any], person: dict[str, str]) -> None:
    await run_jobs(app)
    r = await sign_typed(client, link_for(mailbox, person["email"]), person["name"])
    assert r.status_code in (200, 303), r.text
    await run_jobs(app)


async def _contracts(client: Any, who: Member, deal_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/deals/{deal_id}/contracts", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _plan(items: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(m["code"], m["percent"], m["amount"]) for m in items]


async def test_three_rounds_to_42940_then_signed_every_figure_is_the_signed_total(
    client: Any, mailbox: Any, app: Any
) -> None:
    w = await world(client, mailbox, app)
    month = today().replace(day=1).isoformat()
    r = await client.post(
        "/api/v1/targets",
        json={
            "metric": "amount",
            "scope_type": "rep",
            "period": "month",
            "period_start": month,
            "value": "100000",
            "membership_id": w.rep.membership_id,
        },
        headers=w.manager.headers,
    )
    assert r.status_code == 201, r.text
    target = r.json()
    d = await deal(client, w.rep, w.customer["id"], amount="50000.00", stage="negotiation")
    rounds = [await _approved_round(client, w, d["id"], pct) for pct in ("0", "2.5", "5")]
    assert [q["total"] for q in rounds] == ["45200.00", "44070.00", "42940.00"]
    await _terms(client, w, d["id"])
    doc = await _contract(client, app, w.rep, d["id"])

    # the contract records what it was rendered from: the final round, its total and milestones
    [rendered] = await _contracts(client, w.rep, d["id"])
    assert rendered["document_id"] == doc["id"] and rendered["quote_id"] == rounds[2]["id"]
    assert (rendered["total"], rendered["currency"], rendered["status"]) == ("42940.00", "CNY", "rendered")
    assert _plan(rendered["milestones"]) == [
        ("deposit", 20, "8588.00"),
        ("delivery", 60, "25764.00"),
        ("balance", 20, "8588.00"),
    ]
    # before signing the deal still says ¥50,000 (and may change); the signature overrides it
    r = await client.patch(f"/api/v1/deals/{d['id']}", json={"amount": "60000.00"}, headers=w.rep.headers)
    assert r.status_code == 200 and r.json()["amount"] == "60000.00"

    a = signer("张建国")
    env = await make_envelope(client, w.rep, doc["id"], [a])
    await _sign(client, app, mailbox, env, a)
    got = (await client.get(f"/api/v1/envelopes/{env['id']}", headers=w.rep.headers)).json()
    assert got["status"] == "completed"

    deal_now = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert (deal_now["stage"], deal_now["amount"], deal_now["currency"]) == ("signed", "42940.00", "CNY")
    [signed] = await _contracts(client, w.rep, d["id"])
    assert signed["status"] == "signed" and signed["envelope_id"] == env["id"] and signed["signed_at"]
    items = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    signed_on = datetime.now(UTC).date()  # due dates count from the (UTC) signing day
    assert [(c["code"], c["percent"], c["amount"], c["currency"], c["due_date"]) for c in items] == [
        ("deposit", 20, "8588.00", "CNY", (signed_on + timedelta(days=7)).isoformat()),
        ("delivery", 60, "25764.00", "CNY", (signed_on + timedelta(days=30)).isoformat()),
        ("balance", 20, "8588.00", "CNY", (signed_on + timedelta(days=44)).isoformat()),
    ]
    terms = (await client.get(f"/api/v1/deals/{d['id']}/contract-terms", headers=w.rep.headers)).json()
    assert terms["total"] == "42940.00" and _plan(terms["milestones"]) == _plan(signed["milestones"])

    pipeline = (await client.get("/api/v1/pipeline", headers=w.rep.headers)).json()
    assert [(s["stage"], s["count"], s["amount"]) for s in pipeline["by_stage"]] == [
        ("signed", 1, "42940.00")
    ]
    assert [(t["currency"], t["amount"]) for t in pipeline["totals"]] == [("CNY", "42940.00")]

    r = await client.post(
        "/api/v1/daily-reports", json={"report_date": today().isoformat()}, headers=w.rep.headers
    )
    assert r.status_code == 201, r.text
    fig = r.json()["figures"]
    assert fig["orders"] == 1 and fig["order_amount"] == {"CNY": "42940.00"}
    assert fig["targets"]["amount"]["month_to_date"] == "42940.00"
    assert fig["targets"]["amount"]["month_attainment"] == "42.94"
    got_target = (await client.get(f"/api/v1/targets/{target['id']}", headers=w.manager.headers)).json()
    assert (got_target["actual"], got_target["attainment"]) == ("42940.00", "42.94")

    # frozen: the amount, the terms, the milestones; no other contract for this deal
    r = await client.patch(f"/api/v1/deals/{d['id']}", json={"amount": "50000.00"}, headers=w.rep.headers)
    assert r.status_code == 409 and r.json()["type"] == "/problems/conflict", r.text
    r = await client.put(
        f"/api/v1/deals/{d['id']}/milestones",
        json={"milestones": [{"code": "full", "percent": "100", "due_days": 30}]},
        headers=w.rep.headers,
    )
    assert r.status_code == 409
    r = await request_document(client, w.rep, subject_type="deal", subject_id=d["id"], locale="zh-CN")
    assert r.status_code == 409 and "signed" in r.json()["detail"], r.text


async def test_a_contract_without_quote_freezes_the_milestones_it_was_rendered_with(
    client: Any, mailbox: Any, app: Any
) -> None:
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], amount="30000.00", stage="negotiation")
    await _terms(client, w, d["id"], delivery_percent=50)
    by_hand = [
        {"code": "deposit", "amount": "9000.00", "due_days": 10},
        {"code": "delivery", "amount": "15000.00", "due_days": 45},
        {"code": "balance", "amount": "6000.00", "due_days": 60},
    ]
    r = await client.put(
        f"/api/v1/deals/{d['id']}/milestones", json={"milestones": by_hand}, headers=w.rep.headers
    )
    assert r.status_code == 200 and r.json()["milestones_custom"] is True, r.text
    doc = await _contract(client, app, w.rep, d["id"])
    [rendered] = await _contracts(client, w.rep, d["id"])
    assert (rendered["quote_id"], rendered["total"]) == (None, "30000.00")
    assert _plan(rendered["milestones"]) == [
        ("deposit", 30, "9000.00"),
        ("delivery", 50, "15000.00"),
        ("balance", 20, "6000.00"),
    ]
    # edited after the contract went out: the signed contract still says what the customer saw
    r = await client.put(
        f"/api/v1/deals/{d['id']}/milestones", json={"milestones": []}, headers=w.rep.headers
    )
    assert r.status_code == 200 and _plan(r.json()["milestones"]) == [
        ("deposit", 20, "6000.00"),
        ("delivery", 50, "15000.00"),
        ("balance", 30, "9000.00"),
    ]

    a = signer("张建国")
    env = await make_envelope(client, w.rep, doc["id"], [a])
    await _sign(client, app, mailbox, env, a)
    items = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    signed_on = datetime.now(UTC).date()
    assert [(c["code"], c["amount"], c["due_date"]) for c in items] == [
        ("deposit", "9000.00", (signed_on + timedelta(days=10)).isoformat()),
        ("delivery", "15000.00", (signed_on + timedelta(days=45)).isoformat()),
        ("balance", "6000.00", (signed_on + timedelta(days=60)).isoformat()),
    ]
    deal_now = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert (deal_now["stage"], deal_now["amount"]) == ("signed", "30000.00")
    [signed] = await _contracts(client, w.rep, d["id"])
    assert signed["status"] == "signed" and signed["quote_id"] is None

    # leaving signed (nothing paid) releases the contract and its document; the amount may change again
    r = await client.post(
        f"/api/v1/deals/{d['id']}/stage",
        json={"to": "negotiation", "reason": "客户要求修改付款条件"},
        headers=w.rep.headers,
    )
    assert r.status_code == 200 and r.json()["stage"] == "negotiation", r.text
    assert (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json() == []
    [released] = await _contracts(client, w.rep, d["id"])
    assert released["status"] == "voided" and released["voided_at"]
    doc_now = (await client.get(f"/api/v1/documents/{doc['id']}", headers=w.rep.headers)).json()
    assert doc_now["status"] == "voided" and doc_now["pdf"]
    r = await client.patch(f"/api/v1/deals/{d['id']}", json={"amount": "32000.00"}, headers=w.rep.headers)
    assert r.status_code == 200, r.text
    # a deal's contracts are seen by who sees the deal: not another province's manager, not another tenant
    stranger = await signup(client)
    for who in (w.other_manager, stranger):
        r = await client.get(f"/api/v1/deals/{d['id']}/contracts", headers=who.headers)
        assert r.status_code == 404, r.text


async def test_a_second_contract_the_signed_one_wins_and_the_other_is_voided(
    client: Any, mailbox: Any, app: Any
) -> None:
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], amount="50000.00", stage="negotiation")
    first_round = await _approved_round(client, w, d["id"], "0")
    await _terms(client, w, d["id"])
    older = await _contract(client, app, w.rep, d["id"])  # from round 1: 45,200
    final_round = await _approved_round(client, w, d["id"], "5")
    newer = await _contract(client, app, w.rep, d["id"])  # from round 2: 42,940
    listed = await _contracts(client, w.rep, d["id"])
    assert [(c["document_id"], c["quote_id"], c["total"], c["status"]) for c in listed] == [
        (newer["id"], final_round["id"], "42940.00", "rendered"),
        (older["id"], first_round["id"], "45200.00", "rendered"),
    ]
    a, b = signer("张建国"), signer("张建国")
    env_newer = await make_envelope(client, w.rep, newer["id"], [b])
    env_older = await make_envelope(client, w.rep, older["id"], [a])

    await _sign(client, app, mailbox, env_older, a)  # the customer signs the older one

    got = {c["document_id"]: c for c in await _contracts(client, w.rep, d["id"])}
    assert (got[older["id"]]["status"], got[newer["id"]]["status"]) == ("signed", "voided")
    deal_now = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert (deal_now["stage"], deal_now["amount"]) == ("signed", "45200.00")
    items = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    assert [c["amount"] for c in items] == ["9040.00", "27120.00", "9040.00"]
    # the unsigned contract is voided, its envelope too (its signer is told), and it cannot be sent again
    voided_doc = (await client.get(f"/api/v1/documents/{newer['id']}", headers=w.rep.headers)).json()
    assert voided_doc["status"] == "voided"
    env_b = (await client.get(f"/api/v1/envelopes/{env_newer['id']}", headers=w.rep.headers)).json()
    assert env_b["status"] == "voided"
    assert any(
        "cancelled" in m["Subject"].lower() or "取消" in m["Subject"] for m in mails_to(mailbox, b["email"])
    )
    r = await client.post(
        "/api/v1/envelopes",
        headers=w.rep.headers,
        json={"document_id": newer["id"], "signers": [signer()], "title": "软件销售合同"},
    )
    assert r.status_code == 409, r.text
    r = await request_document(client, w.rep, subject_type="deal", subject_id=d["id"], locale="zh-CN")
    assert r.status_code == 409, r.text
    # a contract of one quote of the signed deal is refused too
    r = await request_document(
        client, w.rep, subject_type="quote", subject_id=final_round["id"], locale="zh-CN"
    )
    assert r.status_code == 409, r.text
