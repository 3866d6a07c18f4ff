"""Deals in real Chromium, on a phone (390×844) and a desktop (1280×800): a rep opens a deal from a
customer's page, builds three quote rounds in the builder (the third under the floor, flagged in the
preview before it is created), submits that round, moves the deal a stage on its page, then on the
board asks for approval of a skip; on the desktop a card is dragged to the next column. axe-core, no
sideways scroll on every page; the zh-CN crawl of the board, the list, a new deal and a deal with its
quotes, terms and collections leaves no English."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import customer
from tests.integration.customers.pool.support import set_locale, team
from tests.integration.deals.support import VALID, product

pytestmark = pytest.mark.e2e
DEAL_URL = re.compile(r".*/deals/[0-9a-f-]{36}$")


async def _shop(client: Any, owner: Any) -> dict[str, dict[str, Any]]:
    return {
        "erp": await product(client, owner, sku=f"1{secrets.randbelow(10**8)}", name="财务核算"),
        "svc": await product(
            client,
            owner,
            sku=f"2{secrets.randbelow(10**8)}",
            name="实施服务",
            unit="service_day",
            list_price="1200.00",
            floor_price="800.00",
        ),
    }


async def _fill_line(page: Any, n: int, product_id: str, quantity: str, price: str) -> None:
    await page.select_option(f"#line-{n}-product_id", product_id)
    await page.fill(f"#line-{n}-quantity", quantity)
    await page.fill(f"#line-{n}-unit_price", price)


async def _create_round(page: Any, n: int) -> None:
    await page.click(f"button:has-text('Create round {n}')")
    await page.wait_for_selector(f"#h-round-{n}")


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_a_deal_from_a_customer_through_three_rounds_and_a_move(
    client, admin_db, base_url, browser, device
):
    t = await team(client, admin_db, reps=1)
    rep = t.reps[0]
    shop = await _shop(client, t.owner)
    made = await customer(
        client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id, full_name="苏州青禾软件"
    )
    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base_url, rep.email, next_path=f"/customers/{made['id']}")
    await page.click("a:has-text('New deal')")
    await page.wait_for_url(f"{base_url}/deals/new?customer_id={made['id']}")
    await check_page(page)
    await page.fill("#title", "青禾 ERP 项目")
    await page.fill("#amount", "80000")
    await page.click("button:has-text('Open the deal')")
    await page.wait_for_url(DEAL_URL)
    deal_url = page.url
    await check_page(page)

    # round 1: two lines at list price; the preview totals them before anything is created
    await _fill_line(page, 0, shop["erp"]["id"], "10", "6800.00")
    await page.click("#add-line")
    await page.wait_for_selector("#line-1-product_id")
    await _fill_line(page, 1, shop["svc"]["id"], "5", "1200.00")
    await page.wait_for_selector("#quote-preview :text('¥83,620.00')")
    await _create_round(page, 1)
    # round 2 starts from round 1's lines
    assert await page.input_value("#line-0-unit_price") == "6800.00"
    await page.fill("#line-0-unit_price", "6000.00")
    await _create_round(page, 2)
    # round 3 goes under the floor (5000): flagged before it is created
    await page.fill("#line-0-unit_price", "4800.00")
    await page.wait_for_selector("#quote-preview [data-flag='below-floor']")
    await _create_round(page, 3)
    await check_page(page)
    rounds = page.locator(".rounds article")
    assert await rounds.count() == 3
    third = page.locator("article:has(#h-round-3)")
    assert "below floor" in await third.inner_text()
    await third.locator("button:has-text('Submit for approval')").click()
    await page.wait_for_selector("article:has(#h-round-3) :text('Waiting for approval')")

    # move one stage on the deal page: the stepper follows
    await page.select_option("#to-" + deal_url.rsplit("/", 1)[1], "first_visit")
    await page.click("form:has(input[value='deal']) button:has-text('Move')")
    await page.wait_for_selector(".stepper li.current:has-text('First visit')")
    await check_page(page)

    # the board: the card is in its column; a skip offers "request approval"
    deal_id = deal_url.rsplit("/", 1)[1]
    await page.goto(f"{base_url}/deals")
    await check_page(page)
    card = page.locator(f"#col-first_visit #deal-{deal_id}")
    assert await card.count() == 1
    await card.locator("select").select_option("demo")
    await card.locator("button:has-text('Move')").click()
    await page.wait_for_selector(f"#move-{deal_id} button:has-text('Request approval')")
    await check_page(page)
    await page.fill(f"#reason-{deal_id}", "客户要求尽快演示")
    await page.click(f"#move-{deal_id} button:has-text('Request approval')")
    await page.wait_for_selector(f"#move-{deal_id} :text('Approval requested')")
    if device == "desktop":  # drag the card one column on
        await card.drag_to(page.locator("section.column[data-stage='exchange_research']"))
        await page.wait_for_selector(f"#col-exchange_research #deal-{deal_id}")
    await page.goto(f"{base_url}/deals?view=list")
    await check_page(page)
    assert "青禾 ERP 项目" in await page.inner_text("#deal-list")
    assert errors == []
    await context.close()


async def test_the_deal_pages_in_chinese_are_translated(client, admin_db, base_url, browser):
    t = await team(client, admin_db, reps=1, locale="zh-CN")
    rep = t.reps[0]
    await set_locale(admin_db, rep, "zh-CN")
    shop = await _shop(client, t.owner)
    made = await customer(
        client,
        t.owner,
        t.territory["id"],
        owner_membership_id=rep.membership_id,
        full_name="常州启明软件有限公司",
        phone="0519-88886666",
        address="常州市新北区太湖东路 9 号",
    )
    r = await client.post(
        "/api/v1/deals",
        json={"customer_id": made["id"], "title": "启明财务项目", "amount": "0", "stage": "negotiation"},
        headers=rep.headers,
    )
    assert r.status_code == 201, r.text
    deal = r.json()
    r = await client.post(
        f"/api/v1/customers/{made['id']}/contacts",
        json={"name": "李经理", "title": "财务经理"},
        headers=rep.headers,
    )
    contact = r.json()
    people = [{"contact_id": contact["id"], "role": "decision_maker", "influence": 4, "support": 2}]
    body = {"decision_people": people}
    r = await client.patch(f"/api/v1/deals/{deal['id']}", json=body, headers=rep.headers)
    assert r.status_code == 200, r.text
    lines = [
        {"product_id": shop["erp"]["id"], "quantity": "3", "unit_price": "4500.00"},
        {"product_id": shop["svc"]["id"], "quantity": "4"},
    ]
    r = await client.post(
        f"/api/v1/deals/{deal['id']}/quotes", json={"lines": lines, "valid_until": VALID}, headers=rep.headers
    )
    quote = r.json()
    assert (await client.post(f"/api/v1/quotes/{quote['id']}/submit", headers=rep.headers)).status_code == 202
    r = await client.post(f"/api/v1/quotes/{quote['id']}/approve", json={}, headers=t.owner.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/deals/{deal['id']}/stage", json={"to": "signed"}, headers=rep.headers)
    assert r.status_code == 200, r.text
    item = (await client.get(f"/api/v1/deals/{deal['id']}/collections", headers=rep.headers)).json()[0]
    paid = {"amount": "1000.00"}
    r = await client.post(f"/api/v1/collections/{item['id']}/paid", json=paid, headers=rep.headers)
    assert r.status_code == 200, r.text
    other = await client.post(
        "/api/v1/deals", json={"customer_id": made["id"], "title": "启明二期"}, headers=rep.headers
    )
    assert other.status_code == 201

    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, base_url, rep.email, next_path="/deals")
    paths = ("/deals", "/deals?view=list", f"/deals/new?customer_id={made['id']}", f"/deals/{deal['id']}")
    for path in paths:
        await page.goto(f"{base_url}{path}")
        await check_page(page, chinese=True)
    assert "已收 ¥1,000.00" in await page.inner_text("main")
    await page.goto(f"{base_url}/deals/{other.json()['id']}")  # an open deal: the move menu and builder
    await check_page(page, chinese=True)
    await page.select_option("#line-0-product_id", shop["erp"]["id"])
    await page.fill("#line-0-quantity", "2")
    await page.fill("#line-0-unit_price", "100.00")
    await page.wait_for_selector("#quote-preview [data-flag='below-floor']")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/deals")
    card = page.locator(f"#deal-{other.json()['id']}")
    await card.locator("select").select_option("demo")
    await card.locator("button").click()
    await page.wait_for_selector(f"#move-{other.json()['id']} [data-action='request-approval']")
    await check_page(page, chinese=True)
    await context.close()
