"""Quotes: rounds and totals, floor-price and formal-quote approval before sending, rejection with a
comment reaching the requester, the manager's inbox by subtree, bad input."""

from __future__ import annotations

from uuid import UUID

from tests.factories import db_value
from tests.helpers import mails_to, run_jobs, signup
from tests.integration.deals.support import deal, line, product, quote, world


async def test_rounds_totals_never_rise_and_a_fourth_is_refused(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    erp, svc = w.products["erp"], w.products["svc"]
    r = await quote(client, w.rep, d["id"], [line(erp, "3"), line(svc, "10")], formal=False)
    assert r.status_code == 201, r.text
    q1 = r.json()
    assert (q1["round"], q1["round_name"], q1["status"], q1["needs_approval"]) == (1, "list", "draft", False)
    # 3 × 6800 + 10 × 1200 = 32,400; tax 13% = 4,212
    assert (q1["subtotal"], q1["discount"], q1["tax"], q1["total"]) == (
        "32400.00",
        "0.00",
        "4212.00",
        "36612.00",
    )
    assert q1["lines"][0]["unit_price"] == "6800.00" and q1["lines"][0]["below_floor"] is False

    r = await quote(
        client, w.rep, d["id"], [line(erp, "3", discount_percent="10"), line(svc, "12")], formal=False
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines"  # 33,960 + tax > round 1
    r = await quote(
        client, w.rep, d["id"], [line(erp, "3", discount_percent="10"), line(svc, "10")], formal=False
    )
    assert r.status_code == 201, r.text
    q2 = r.json()
    assert q2["round_name"] == "discount" and q2["discount"] == "2040.00" and q2["total"] == "34306.80"
    r = await quote(client, w.rep, d["id"], [line(erp, "3", discount_percent="15"), line(svc, "10")])
    assert r.status_code == 201 and r.json()["round_name"] == "final"
    r = await quote(client, w.rep, d["id"], [line(erp, "1")])
    assert r.status_code == 409
    listed = (await client.get(f"/api/v1/deals/{d['id']}/quotes", headers=w.rep.headers)).json()
    assert [q["round"] for q in listed] == [1, 2, 3]
    assert await db_value(admin_db, "SELECT count(*) FROM quotes WHERE deal_id = $1", UUID(d["id"])) == 3


async def test_floor_price_needs_approval_before_send(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    erp = w.products["erp"]  # list 6800, floor 5000
    r = await quote(
        client, w.rep, d["id"], [line(erp, "1", unit_price="6000.00", discount_percent="20")], formal=False
    )
    q = r.json()
    assert q["lines"][0]["below_floor"] is True and q["needs_approval"] is True  # 4800 < 5000
    r = await client.post(f"/api/v1/quotes/{q['id']}/send", headers=w.rep.headers)
    assert r.status_code == 409
    r = await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.rep.headers)
    assert r.status_code == 202 and r.json()["payload"]["reasons"] == ["below_floor"]
    assert (await client.post(f"/api/v1/quotes/{q['id']}/send", headers=w.rep.headers)).status_code == 409
    assert (
        await client.post(f"/api/v1/quotes/{q['id']}/approve", json={}, headers=w.rep.headers)
    ).status_code == 403
    r = await client.post(f"/api/v1/quotes/{q['id']}/approve", json={}, headers=w.owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = await client.post(f"/api/v1/quotes/{q['id']}/send", headers=w.rep.headers)
    assert r.status_code == 200 and r.json()["status"] == "sent" and r.json()["sent_at"]


async def test_informal_quote_above_floor_is_sent_without_approval(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    q = (await quote(client, w.rep, d["id"], [line(w.products["erp"])], formal=False)).json()
    r = await client.post(f"/api/v1/quotes/{q['id']}/send", headers=w.rep.headers)
    assert r.status_code == 200 and r.json()["status"] == "sent"


async def test_formal_quote_rejected_with_comment_notifies_the_requester(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], title="恒泰精密 ERP")
    q = (await quote(client, w.rep, d["id"], [line(w.products["erp"])])).json()
    assert q["formal"] is True and q["needs_approval"] is True
    assert (await client.post(f"/api/v1/quotes/{q['id']}/send", headers=w.rep.headers)).status_code == 409
    assert (await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.rep.headers)).status_code == 202
    assert (await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.rep.headers)).status_code == 409

    inbox = (await client.get("/api/v1/approvals", headers=w.manager.headers)).json()["items"]
    assert [(a["kind"], a["subject_id"]) for a in inbox] == [("quote", q["id"])]
    assert (await client.get("/api/v1/approvals", headers=w.other_manager.headers)).json()["items"] == []
    r = await client.post(
        f"/api/v1/quotes/{q['id']}/reject",
        json={"comment": "折扣太低，请按标准价"},
        headers=w.other_manager.headers,
    )
    assert r.status_code == 404

    mailbox.messages.clear()
    r = await client.post(
        f"/api/v1/quotes/{q['id']}/reject",
        json={"comment": "折扣太低，请按标准价"},
        headers=w.manager.headers,
    )
    assert (
        r.status_code == 200
        and r.json()["status"] == "rejected"
        and r.json()["comment"] == "折扣太低，请按标准价"
    )
    got = (await client.get(f"/api/v1/quotes/{q['id']}", headers=w.rep.headers)).json()
    assert got["status"] == "rejected"
    assert (await client.post(f"/api/v1/quotes/{q['id']}/send", headers=w.rep.headers)).status_code == 409
    await run_jobs(app)
    mails = mails_to(mailbox, w.rep.email)
    assert len(mails) == 1
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "折扣太低，请按标准价" in body and "恒泰精密 ERP" in body and "rejected" in mails[0]["Subject"]
    notes = (await client.get("/api/v1/notifications", headers=w.rep.headers)).json()["items"]
    assert notes[0]["kind"] == "quote_rejected" and "折扣太低" in notes[0]["message"]
    assert (await client.get("/api/v1/approvals", headers=w.manager.headers)).json()["items"] == []
    decided = (
        await client.get("/api/v1/approvals", params={"status": "rejected"}, headers=w.manager.headers)
    ).json()
    assert [a["id"] for a in decided["items"]] == [r.json()["id"]]


async def test_bad_quote_input_is_422_with_field(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    erp = w.products["erp"]
    retired = await product(client, w.owner, active=False)
    cases = [
        ([line(erp, "-1")], {}, "lines[0].quantity"),
        ([line(erp, "0")], {}, "lines[0].quantity"),
        ([line(erp, "1"), line(erp, "1", discount_percent="100.5")], {}, "lines[1].discount_percent"),
        ([line(erp, "1", unit_price="-3")], {}, "lines[0].unit_price"),
        ([{"product_id": d["id"], "quantity": "1"}], {}, "lines[0].product_id"),
        ([line(retired, "1")], {}, "lines[0].product_id"),
        ([line(erp, "1")], {"tax_rate": "101"}, "tax_rate"),
        ([line(erp, "1")], {"valid_until": "2020-01-01"}, "valid_until"),
    ]
    for lines, extra, name in cases:
        r = await quote(client, w.rep, d["id"], lines, **extra)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["errors"][0]["field"] == name
    r = await quote(client, w.rep, d["id"], [])
    assert r.status_code == 422
    assert (await client.get(f"/api/v1/deals/{d['id']}/quotes", headers=w.rep.headers)).json() == []


async def test_currency_mismatch_and_unknown_product_save_nothing(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])  # CNY
    usd = await product(client, w.owner, currency="USD", list_price="900.00", floor_price="700.00")
    foreign = await signup(client)
    theirs = await product(client, foreign)
    for lines, name in (
        ([line(w.products["erp"]), line(usd)], "lines[1].product_id"),  # priced in another currency
        ([line(theirs)], "lines[0].product_id"),  # another tenant's product is unknown here
    ):
        r = await quote(client, w.rep, d["id"], lines)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name, r.text
    assert await db_value(admin_db, "SELECT count(*) FROM quotes WHERE deal_id = $1", UUID(d["id"])) == 0
    assert (
        await db_value(
            admin_db,
            "SELECT count(*) FROM quote_lines l JOIN quotes q ON q.id = l.quote_id WHERE q.deal_id = $1",
            UUID(d["id"]),
        )
        == 0
    )


async def test_requester_cannot_decide_their_own_request_nor_outsiders(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.manager, w.customer["id"])  # the province's manager works this deal
    q = (await quote(client, w.manager, d["id"], [line(w.products["erp"])])).json()
    r = await client.post(f"/api/v1/quotes/{q['id']}/submit", headers=w.manager.headers)
    assert r.status_code == 202
    approval = r.json()
    r = await client.post(f"/api/v1/quotes/{q['id']}/approve", json={}, headers=w.manager.headers)
    assert r.status_code == 403  # their own request
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", json={}, headers=w.manager.headers)
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/approvals/{approval['id']}/approve", json={}, headers=w.other_manager.headers
    )
    assert r.status_code == 404  # outside their subtree
    stranger = await signup(client)
    r = await client.post(f"/api/v1/approvals/{approval['id']}/approve", json={}, headers=stranger.headers)
    assert r.status_code == 404
    got = (await client.get(f"/api/v1/quotes/{q['id']}", headers=w.manager.headers)).json()
    assert got["status"] == "pending"  # nothing was decided
    r = await client.post(f"/api/v1/quotes/{q['id']}/approve", json={}, headers=w.owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "approved"
