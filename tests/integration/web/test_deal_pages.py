"""The deal pages over HTTP: the board's columns are the API's deals by stage, filters and list paging;
a move the matrix does not allow directly is offered as "request approval" (opened only when
confirmed), the quote gate and a forbidden cell show the service's refusal; the deal page's quote
rounds, the under-floor flag before a round is created, submit and send; milestones that do not add
up and a payment above what is outstanding are refused inline with nothing saved; another tenant's
deal is the 404 page on every address that takes an id; a rep sees only their deals, the manager
the territory's."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import assign, customer, db_value, staff
from tests.integration.deals.support import VALID, approved_quote, deal, move, world
from tests.integration.web.support import HTMX, htmx, sign_in

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def columns(html: str) -> dict[str, list[str]]:
    """The board's cards by column: stage → deal ids, in order."""
    found = re.findall(r'<ul class="cards" id="col-(\w+)"[^>]*>(.*?)</ul>', html, re.S)
    return {stage: re.findall(rf'id="deal-({UUID_RE})"', body) for stage, body in found}


async def api_ids(client: Any, who: Any, **params: Any) -> list[str]:
    r = await client.get("/api/v1/deals", params={"limit": 200, **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["items"]]


def builder_form(products: list[tuple[dict[str, Any], str, str]], **extra: str) -> dict[str, str]:
    """The quote builder's fields: (product, quantity, unit price) per line."""
    form = {"valid_until": VALID, "tax_rate": "13", "formal": "1", **extra}
    for n, (product, quantity, price) in enumerate(products):
        form |= {
            f"line-{n}-product_id": product["id"],
            f"line-{n}-quantity": quantity,
            f"line-{n}-unit_price": price,
            f"line-{n}-discount_percent": "0",
        }
    return form


async def test_the_board_shows_the_apis_deals_by_stage_with_filters_and_paging(client, mailbox, app):
    w = await world(client, mailbox, app)
    first = await deal(client, w.rep, w.customer["id"], title="一号项目", expected_close_date="2031-03-01")
    demo = await deal(client, w.rep, w.customer["id"], title="二号项目", stage="demo")
    await deal(
        client, w.rep, w.customer["id"], title="三号项目", stage="demo", expected_close_date="2031-09-01"
    )
    await sign_in(client, w.rep)
    r = await client.get("/deals")
    assert (
        r.status_code == 200 and "<h1>Deals</h1>" in r.text and 'href="/deals" aria-current="page"' in r.text
    )
    board = columns(r.text)
    assert set(board) == {
        "prospect_list", "first_visit", "exchange_research", "demo", "formal_quote",
        "objections_cleared", "negotiation", "signed", "won", "lost",
    }  # fmt: skip
    for stage, ids in board.items():
        assert ids == await api_ids(client, w.rep, stage=stage), stage
    assert first["id"] in board["prospect_list"] and demo["id"] in board["demo"] and len(board["demo"]) == 2

    only_demo = columns((await client.get("/deals", params={"stage": "demo"})).text)
    assert list(only_demo) == ["demo"]
    closing = columns(
        (await client.get("/deals", params={"close_from": "2031-01-01", "close_to": "2031-06-30"})).text
    )
    assert [i for ids in closing.values() for i in ids] == [first["id"]]
    assert await api_ids(client, w.rep, close_from="2031-01-01", close_to="2031-06-30") == [first["id"]]
    elsewhere = columns((await client.get("/deals", params={"territory_id": w.other_province["id"]})).text)
    assert not any(elsewhere.values())
    inside = columns((await client.get("/deals", params={"territory_id": w.province["id"]})).text)
    assert sum(len(ids) for ids in inside.values()) == 3  # the province's subtree holds the city
    bad = await client.get("/deals", params={"close_from": "soon"})
    assert bad.status_code == 422

    # the list: 25 a page, "more" loads the next page in place
    for n in range(24):
        await deal(client, w.rep, w.customer["id"], title=f"批量项目{n}")
    listed = await client.get("/deals", params={"view": "list"})
    assert listed.status_code == 200 and listed.text.count('<li class="item">') == 25
    more = re.search(r'hx-get="(/deals\?[^"]*cursor=[^"]+)"', listed.text)
    assert more is not None
    rest = await client.get(more.group(1).replace("&amp;", "&"), headers=HTMX)
    assert rest.status_code == 200 and "<html" not in rest.text and rest.text.count('<li class="item">') == 2
    assert "一号项目" in rest.text  # the oldest comes last


async def test_a_skip_offers_request_approval_and_refusals_show_their_rule(client, mailbox, app, admin_db):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    csrf = await sign_in(client, w.rep)
    headers = htmx(csrf)
    url = f"/deals/{d['id']}/stage"

    # prospect list → demo skips two stages: the matrix asks for approval, offered before it is opened
    r = await client.post(url, data={"to": "demo", "where": "board"}, headers=headers)
    assert r.status_code == 200 and "Request approval" in r.text and 'name="request" value="1"' in r.text
    pending = "SELECT count(*) FROM approvals WHERE deal_id = $1::uuid AND status = 'pending'"
    assert await db_value(admin_db, pending, d["id"]) == 0
    r = await client.post(url, data={"to": "demo", "where": "board", "request": "1"}, headers=headers)
    assert r.status_code == 202 and "Approval requested" in r.text
    assert await db_value(admin_db, pending, d["id"]) == 1
    assert (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()[
        "stage"
    ] == "prospect_list"

    # the quote gate: negotiation needs an approved formal quote
    r = await client.post(url, data={"to": "negotiation", "where": "board", "request": "1"}, headers=headers)
    assert r.status_code == 409 and 'data-rule="needs_quote"' in r.text
    assert "Negotiation needs an approved formal quote first" in r.text

    # a cell the tenant forbids: the service's refusal, nothing to request
    rules = {"matrix": {"prospect_list": {"first_visit": "forbidden"}}}
    put = await client.put("/api/v1/deals/stage-rules", json=rules, headers=w.owner.headers)
    assert put.status_code == 200
    r = await client.post(url, data={"to": "first_visit", "where": "board"}, headers=headers)
    assert r.status_code == 409 and 'data-rule="forbidden"' in r.text and "Request approval" not in r.text
    page = await client.get(f"/deals/{d['id']}")
    assert "First visit (not allowed)" in page.text and "Negotiation (needs an approved quote)" in page.text
    assert "Targeted demo (needs approval)" in page.text

    # an allowed move on the board: the card leaves for its new column
    await client.put("/api/v1/deals/stage-rules", json={"matrix": {}}, headers=w.owner.headers)
    r = await client.post(url, data={"to": "first_visit", "where": "board"}, headers=headers)
    assert r.status_code == 200 and r.headers["hx-retarget"] == f"#deal-{d['id']}"
    assert 'hx-swap-oob="afterbegin:#col-first_visit"' in r.text and f'id="deal-{d["id"]}"' in r.text
    # backwards needs a reason: asked for, then applied from the deal page (which reloads)
    r = await client.post(url, data={"to": "prospect_list", "where": "deal"}, headers=headers)
    assert r.status_code == 422 and 'name="reason"' in r.text
    r = await client.post(
        url, data={"to": "prospect_list", "where": "deal", "reason": "客户预算推迟"}, headers=headers
    )
    assert r.status_code == 200 and r.headers["hx-refresh"] == "true"
    history = (await client.get(f"/deals/{d['id']}")).text
    assert "客户预算推迟" in history and 'aria-current="step">Prospect list' in history


async def test_quote_rounds_the_floor_flag_submit_and_send(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], stage="formal_quote")
    erp, svc = w.products["erp"], w.products["svc"]  # ERP 6800 (floor 5000) a seat; service 1200 (floor 800)
    csrf = await sign_in(client, w.rep)
    headers = htmx(csrf)
    page = await client.get(f"/deals/{d['id']}")
    assert page.status_code == 200 and "No quote yet." in page.text and "Build round 1" in page.text

    # the preview flags a price under the floor before anything is created
    form = builder_form([(erp, "10", "6800.00"), (svc, "5", "")])
    r = await client.post(f"/deals/{d['id']}/quotes/preview", data=form, headers=headers)
    assert (
        r.status_code == 200 and "below-floor" not in r.text and "¥83,620.00" in r.text
    )  # (68000+6000)×1.13
    low = builder_form([(erp, "10", "4800.00"), (svc, "5", "")])
    r = await client.post(f"/deals/{d['id']}/quotes/preview", data=low, headers=headers)
    assert 'data-flag="below-floor"' in r.text and "below the floor price ¥5,000.00" in r.text
    assert r.text.count('class="below"') == 1
    r = await client.get(f"/deals/{d['id']}/quotes/line", params={"n": "2"}, headers=HTMX)
    assert 'name="line-2-product_id"' in r.text and "n=3" in r.text and 'hx-swap-oob="true"' in r.text

    for prices in (("6800.00", "1200.00"), ("6000.00", "1000.00"), ("4800.00", "900.00")):
        form = builder_form([(erp, "10", prices[0]), (svc, "5", prices[1])])
        r = await client.post(f"/deals/{d['id']}/quotes", data=form, headers=headers)
        assert r.status_code == 201 and r.headers["hx-refresh"] == "true", r.text
    page = (await client.get(f"/deals/{d['id']}")).text
    assert all(f"Round {n}: {name}" in page for n, name in ((1, "List price"), (2, "Discount"), (3, "Final")))
    assert "Build round" not in page and "A deal has at most three quote rounds" in page
    assert page.count('<span class="flag">below floor</span>') == 1
    r = await client.post(f"/deals/{d['id']}/quotes", data=builder_form([(erp, "1", "")]), headers=headers)
    assert r.status_code == 409 and "at most three quote rounds" in r.text and "<html" not in r.text

    quotes = (await client.get(f"/api/v1/deals/{d['id']}/quotes", headers=w.rep.headers)).json()
    final = quotes[2]
    assert final["lines"][0]["below_floor"] is True
    r = await client.post(f"/quotes/{final['id']}/send", headers=headers)
    assert r.status_code == 409 and "needs the manager&#39;s approval" in r.text  # inline, not sent
    assert (await client.post(f"/quotes/{final['id']}/submit", headers=headers)).status_code == 202
    assert "Waiting for approval" in (await client.get(f"/deals/{d['id']}")).text
    r = await client.post(f"/api/v1/quotes/{final['id']}/approve", json={}, headers=w.manager.headers)
    assert r.status_code == 200
    page = (await client.get(f"/deals/{d['id']}")).text
    assert "Approved" in page and f'hx-post="/quotes/{final["id"]}/send"' in page
    assert (await client.post(f"/quotes/{final['id']}/send", headers=headers)).status_code == 200
    sent = (await client.get(f"/api/v1/quotes/{final['id']}", headers=w.rep.headers)).json()
    assert sent["status"] == "sent"


async def test_key_information_and_decision_people_are_saved_through_the_deal_service(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"])
    r = await client.post(
        f"/api/v1/customers/{w.customer['id']}/contacts",
        json={"name": "王总", "title": "总经理"},
        headers=w.rep.headers,
    )
    assert r.status_code == 201, r.text
    contact = r.json()
    csrf = await sign_in(client, w.rep)
    form = {
        "part": "info",
        "title": "恒泰 ERP 二期",
        "amount": "88000.00",
        "budget": "年内 10 万",
        "modules": "财务, 供应链，生产",
        "competition": "用友",
    }
    r = await client.patch(f"/deals/{d['id']}", data=form, headers=htmx(csrf))
    assert r.status_code == 200 and "Saved." in r.text
    saved = (await client.get(f"/api/v1/deals/{d['id']}", headers=w.rep.headers)).json()
    assert saved["title"] == "恒泰 ERP 二期" and saved["amount"] == "88000.00"
    assert saved["key_info"]["requirements"]["modules"] == ["财务", "供应链", "生产"]
    assert saved["key_info"]["budget"] == "年内 10 万" and saved["key_info"]["competition"] == "用友"
    r = await client.patch(f"/deals/{d['id']}", data={**form, "title": ""}, headers=htmx(csrf))
    assert r.status_code == 422 and 'class="error"' in r.text

    people = {
        "part": "people",
        "people-0-contact_id": contact["id"],
        "people-0-role": "decision_maker",
        "people-0-influence": "5",
        "people-0-support": "4",
    }
    r = await client.patch(f"/deals/{d['id']}", data=people, headers=htmx(csrf))
    assert r.status_code == 200 and r.headers["hx-refresh"] == "true"
    page = (await client.get(f"/deals/{d['id']}")).text
    high = re.search(r'class="quadrant high backs".*?</div>', page, re.S)
    assert high and "王总" in high.group(0) and "influence 5/5" in high.group(0)


async def test_milestones_that_do_not_add_up_and_overpayments_are_refused_inline(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], stage="negotiation")
    await approved_quote(client, w, d["id"])  # 2 × 6800 + 13% = 15,368.00
    csrf = await sign_in(client, w.rep)
    headers = htmx(csrf)
    url = f"/deals/{d['id']}/milestones"
    wrong = {"ms-0-code": "deposit", "ms-0-amount": "5000.00", "ms-0-due_days": "7",
             "ms-1-code": "balance", "ms-1-amount": "5000.00", "ms-1-due_days": "30"}  # fmt: skip
    r = await client.put(url, data=wrong, headers=headers)
    assert r.status_code == 422 and "<html" not in r.text
    assert "The milestones add up to 10000.00, not the contract total 15368.00" in r.text
    terms = (await client.get(f"/api/v1/deals/{d['id']}/contract-terms", headers=w.rep.headers)).json()
    assert terms["milestones_custom"] is False and next(m["code"] for m in terms["milestones"]) == "deposit"
    right = {**wrong, "ms-1-amount": "10368.00"}
    r = await client.put(url, data=right, headers=headers)
    assert r.status_code == 200 and r.headers["hx-refresh"] == "true"
    terms = (await client.get(f"/api/v1/deals/{d['id']}/contract-terms", headers=w.rep.headers)).json()
    assert terms["milestones_custom"] is True and [m["amount"] for m in terms["milestones"]] == [
        "5000.00",
        "10368.00",
    ]
    r = await client.put(
        f"/deals/{d['id']}/contract-terms",
        data={"party_a_contact": "张建国", "delivery_percent": "90"},
        headers=headers,
    )
    assert r.status_code == 422 and "delivery_percent" not in r.text.split("class=")[0]

    assert (await move(client, w.rep, d["id"], "signed")).status_code == 200
    page = (await client.get(f"/deals/{d['id']}")).text
    assert "Collections have started" in page and "Deposit at signing" in page
    items = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()
    deposit = items[0]
    assert deposit["amount"] == "5000.00"
    r = await client.post(f"/collections/{deposit['id']}/paid", data={"amount": "6000.00"}, headers=headers)
    assert (
        r.status_code == 422
        and "More than the outstanding amount (5000.00)" in r.text
        and "<html" not in r.text
    )
    payments = (
        await client.get(f"/api/v1/collections/{deposit['id']}/payments", headers=w.rep.headers)
    ).json()
    assert payments == []
    r = await client.post(
        f"/collections/{deposit['id']}/paid", data={"amount": "2000.00", "note": "首笔"}, headers=headers
    )
    assert r.status_code == 200
    page = (await client.get(f"/deals/{d['id']}")).text
    assert "paid ¥2,000.00" in page and "outstanding ¥3,000.00" in page and "首笔" in page
    r = await client.put(url, data=right, headers=headers)
    assert r.status_code == 409 and "Collections have started" in r.text


async def test_another_tenants_deal_is_404_on_every_address(client, mailbox, app):
    w = await world(client, mailbox, app)
    d = await deal(client, w.rep, w.customer["id"], stage="negotiation")
    q = await approved_quote(client, w, d["id"])
    assert (await move(client, w.rep, d["id"], "signed")).status_code == 200
    item = (await client.get(f"/api/v1/deals/{d['id']}/collections", headers=w.rep.headers)).json()[0]
    other = await world(client, mailbox, app)
    csrf = await sign_in(client, other.owner)
    headers = htmx(csrf)
    page = await client.get(f"/deals/{d['id']}")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    for method, url, data in (
        ("PATCH", f"/deals/{d['id']}", {"part": "info", "title": "x"}),
        ("POST", f"/deals/{d['id']}/stage", {"to": "won"}),
        ("PUT", f"/deals/{d['id']}/contract-terms", {}),
        ("PUT", f"/deals/{d['id']}/milestones", {}),
        ("POST", f"/deals/{d['id']}/quotes", builder_form([(other.products["erp"], "1", "")])),
        ("POST", f"/deals/{d['id']}/quotes/preview", {}),
        ("GET", f"/deals/{d['id']}/quotes/line", None),
        ("POST", f"/quotes/{q['id']}/submit", {}),
        ("POST", f"/quotes/{q['id']}/send", {}),
        ("POST", f"/collections/{item['id']}/paid", {"amount": "1.00"}),
    ):
        r = await client.request(method, url, data=data, headers=headers)
        assert r.status_code == 404 and "<html" not in r.text, (method, url, r.status_code, r.text)
    assert d["id"] not in (await client.get("/deals")).text


async def test_a_rep_sees_their_deals_and_the_manager_the_territorys(client, mailbox, app):
    w = await world(client, mailbox, app)
    mine = await deal(client, w.rep, w.customer["id"], title="我的项目")
    other_rep = await staff(client, w.owner, mailbox, app, role="rep")
    await assign(client, w.owner, w.city["id"], other_rep, "rep")
    theirs_customer = await customer(client, other_rep, w.city["id"])
    theirs = await deal(client, other_rep, theirs_customer["id"], title="同事的项目")

    await sign_in(client, w.rep)
    board = (await client.get("/deals")).text
    assert "我的项目" in board and "同事的项目" not in board and 'id="owner"' not in board
    assert (await client.get(f"/deals/{theirs['id']}")).status_code == 404
    assert (await client.get(f"/deals/{mine['id']}")).status_code == 200
    assert 'href="/deals"' in board  # the navigation has Deals

    await sign_in(client, w.manager)
    board = (await client.get("/deals")).text
    assert "我的项目" in board and "同事的项目" in board and 'id="owner"' in board
    only = columns((await client.get("/deals", params={"owner": other_rep.membership_id})).text)
    assert [i for ids in only.values() for i in ids] == [theirs["id"]]
    assert (await client.get(f"/deals/{theirs['id']}")).status_code == 200

    await sign_in(client, w.other_manager)
    assert (await client.get(f"/deals/{mine['id']}")).status_code == 404
    assert "我的项目" not in (await client.get("/deals")).text


async def test_a_deal_is_opened_from_a_customers_page(client, mailbox, app):
    w = await world(client, mailbox, app)
    csrf = await sign_in(client, w.rep)
    page = (await client.get(f"/customers/{w.customer['id']}")).text
    assert f'href="/deals/new?customer_id={w.customer["id"]}"' in page
    form = await client.get("/deals/new", params={"customer_id": w.customer["id"]})
    assert form.status_code == 200 and f'value="{w.customer["id"]}" selected' in form.text
    r = await client.post("/deals", data={"customer_id": w.customer["id"], "title": ""}, headers=htmx(csrf))
    assert r.status_code == 422 and 'class="error"' in r.text
    data = {
        "customer_id": w.customer["id"],
        "title": "新项目",
        "amount": "12000",
        "expected_close_date": "2031-01-31",
    }
    r = await client.post("/deals", data=data, headers=htmx(csrf))
    assert r.status_code == 201 and re.fullmatch(rf"/deals/{UUID_RE}", r.headers["hx-redirect"])
    page = await client.get(r.headers["hx-redirect"])
    assert page.status_code == 200 and "新项目" in page.text and "¥12,000.00" in page.text
