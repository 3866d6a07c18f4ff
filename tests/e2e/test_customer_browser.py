"""My customers, a new customer and a customer's page in real Chromium, on a phone (390×844) and a
desktop (1280×800): a rep enters a company someone else owns — the live 撞单 check names the owner as
the name is typed — then a new one, finds it under My customers with its pool badge, and releases it
with a reason (the confirmation refuses an empty reason). In zh-CN every one of these pages (with its
parts opened) has no English left. axe-core finds no serious or critical violation on any of them."""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import customer, db_value
from tests.integration.customers.pool.support import set_locale, team
from tests.integration.deals.support import deal

pytestmark = pytest.mark.e2e


def _watch(page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_enter_a_customer_with_the_live_check_and_release_it(
    client, admin_db, base_url, browser, device
):
    t = await team(client, admin_db, reps=2)
    first, rep = t.reps
    await customer(
        client, t.owner, t.territory["id"], full_name="苏州青禾软件有限公司",
        owner_membership_id=first.membership_id,
    )  # fmt: skip
    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors = _watch(page)
    await sign_in(page, base_url, rep.email, next_path="/customers")
    await check_page(page)

    await page.click("a:has-text('New customer')")
    await page.wait_for_url(f"{base_url}/customers/new")
    await check_page(page)
    await page.fill("#full_name", "苏州青禾软件有限责任公司")  # the same company, another legal form
    warning = await page.wait_for_selector("#duplicate-check .warn")
    assert "业务员0" in await warning.inner_text() and "苏州青禾软件有限公司" in await warning.inner_text()
    await check_page(page)
    await page.click("button:has-text('Enter the customer')")  # entering it anyway is refused inline
    refused = await page.wait_for_selector("#create-msg .error")
    assert "业务员0" in await refused.inner_text()

    await page.fill("#full_name", "苏州新禾科技有限公司")
    await page.locator("#duplicate-check .warn").wait_for(state="detached")  # no match any more
    await page.fill("#phone", "0512-6666 8888")
    await page.select_option("#grade", "B")
    await page.click("button:has-text('Enter the customer')")
    await page.wait_for_url(re.compile(rf"{re.escape(base_url)}/customers/[0-9a-f-]{{36}}$"))
    made_id = page.url.rsplit("/", 1)[-1]
    assert await page.inner_text("h1") == "苏州新禾科技有限公司"
    assert await page.locator("a[href='tel:0512-66668888']").count() == 1
    assert "Returns to the pool in 30 days" in await page.inner_text("#countdown")
    await check_page(page)

    await page.click("nav a:has-text('My customers')")
    await page.wait_for_url(f"{base_url}/customers")
    row = page.locator(f"#customer-{made_id}")
    assert "Returns to the pool in 30 days" in await row.locator(".badge").inner_text()
    await row.locator("summary:has-text('Release to the pool')").click()
    await row.locator("button:has-text('Release it')").click()  # no reason: the form does not go
    assert await row.locator("select:invalid").count() == 1
    await row.locator("select[name=reason]").select_option("no_budget")
    await row.locator("textarea").fill("明年再跟")
    await check_page(page)
    await row.locator("button:has-text('Release it')").click()
    await page.wait_for_selector(f"#customer-{made_id} .ok")
    assert "back in the pool" in await page.inner_text(f"#customer-{made_id}")
    owner = await db_value(admin_db, "SELECT owner_membership_id FROM customers WHERE id = $1::uuid", made_id)
    assert owner is None
    await check_page(page)
    assert errors == []
    await context.close()


async def test_the_customer_pages_in_chinese_are_translated(client, admin_db, base_url, browser):
    t = await team(client, admin_db, reps=2, locale="zh-CN")
    first, rep = t.reps
    await set_locale(admin_db, rep, "zh-CN")
    await db_value(
        admin_db, "UPDATE users SET name = '王总' WHERE id = $1::uuid RETURNING id", t.owner.user_id
    )
    await customer(
        client,
        t.owner,
        t.territory["id"],
        full_name="常州启明软件有限公司",
        owner_membership_id=first.membership_id,
    )
    made = await customer(
        client, t.owner, t.territory["id"], full_name="泰州云帆软件有限公司", grade="C",
        phone="0523 8888 6666", address="泰州市海陵区", industry="制造",
        source="referral",
        owner_membership_id=rep.membership_id, next_followup_at="2031-05-06T09:00:00+08:00",
    )  # fmt: skip
    friend = await customer(
        client,
        t.owner,
        t.territory["id"],
        full_name="泰州老友有限公司",
        owner_membership_id=rep.membership_id,
    )
    await deal(client, rep, made["id"], title="云帆进销存项目")
    r = await client.post(
        f"/api/v1/customers/{made['id']}/contacts",
        json={
            "name": "周经理",
            "title": "总经理",
            "phone": "139 0000 1111",
            "decision_role": "decision_maker",
        },
        headers=rep.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.put(
        f"/api/v1/customers/{made['id']}/referral",
        json={"referrer_customer_id": friend["id"]},
        headers=rep.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/api/v1/customers/{made['id']}",
        json={"grade": "B", "grade_reason": "需求已确认"},
        headers=rep.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/customers/{made['id']}/followups", json={"kind": "visit", "summary": "上门拜访"},
        headers=rep.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text

    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    errors = _watch(page)
    await sign_in(page, base_url, rep.email, next_path="/customers")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/customers?grade=A")  # the empty state
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/customers")
    await page.locator(f"#customer-{made['id']} summary").click()
    await check_page(page, chinese=True)

    await page.goto(f"{base_url}/customers/new")
    await check_page(page, chinese=True)
    await page.fill("#full_name", "常州启明软件有限公司")
    await page.wait_for_selector("#duplicate-check .warn")
    await check_page(page, chinese=True)
    await page.fill("#tax_id", "123")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#create-msg .error")
    await check_page(page, chinese=True)

    await page.goto(f"{base_url}/customers/{made['id']}")
    for summary in await page.locator("main summary").all():  # every part opened
        await summary.click()
    await page.fill("#referrer_q", "老友")
    await page.wait_for_selector("#referrer-options input[type=radio]")
    await check_page(page, chinese=True)
    await page.click("button:has-text('修改等级')")  # no reason: the form does not go
    assert await page.locator("#grade-reason:invalid").count() == 1
    await page.select_option("#new-grade", "A")
    await page.fill("#grade-reason", "已启动选型")
    await page.click("button:has-text('修改等级')")
    await page.wait_for_selector("#grade-msg .ok")
    assert await page.inner_text("#grade-badge") == "A"
    await check_page(page, chinese=True)
    assert errors == []
    await context.close()
