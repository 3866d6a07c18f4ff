"""A won deal's commission split in real Chromium, as its manager, on a desktop (1280×800, en) and a
phone (390×844, zh-CN): the deal page loads the suggestion with its rule, a split not summing to 100 is
refused in place, the edited split is confirmed and shown. ``check_page`` (axe-core, no sideways scroll;
in zh-CN no English left) on each state."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import db_rows
from tests.integration.customers.pool.support import team
from tests.integration.deals.test_commission import _won_deal

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("device", "locale"), [("desktop", "en"), ("phone", "zh-CN")])
async def test_the_manager_confirms_a_won_deals_split_on_its_page(
    client: Any, admin_db: str, base_url: str, browser: Any, device: str, locale: str
) -> None:
    t = await team(client, admin_db, reps=2, locale=locale)
    a, b = t.reps
    d = await _won_deal(client, admin_db, t)
    if locale == "zh-CN":  # the data in Chinese too, so that any English left on the page is the app's
        tenant = t.owner.tenant_id
        await db_rows(
            admin_db,
            "UPDATE users u SET name = '成员' || n.k FROM (SELECT user_id, row_number() OVER (ORDER BY id) k"
            " FROM memberships WHERE tenant = $1::uuid) n WHERE n.user_id = u.id",
            tenant,
        )
        await db_rows(admin_db, "UPDATE deals SET title = '恒泰项目' WHERE tenant = $1::uuid", tenant)
        await db_rows(
            admin_db,
            "UPDATE customers SET full_name = '恒泰精密机械有限公司' WHERE tenant = $1::uuid",
            tenant,
        )
    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base_url, t.owner.email)
    await page.goto(f"{base_url}/deals/{d['id']}")
    await page.wait_for_selector("#commission-form")
    suggested = await page.inner_text("#commission")
    assert "32.50" in suggested and "67.50" in suggested  # A owned 4 days and moved once, B 6 and 3
    await check_page(page, chinese=locale == "zh-CN")
    await page.fill(f"#pct-{a.membership_id}", "30")
    await page.fill(f"#pct-{b.membership_id}", "60")
    await page.click("#commission-form button[type=submit]")
    await page.wait_for_selector("#commission-msg .error")  # 90 in all: refused where it was asked
    assert await page.locator("#commission-confirmed").count() == 0
    assert await page.input_value(f"#pct-{b.membership_id}") == "60"  # as typed, to correct
    await check_page(page, chinese=locale == "zh-CN")
    await page.fill(f"#pct-{b.membership_id}", "70")
    await page.click("#commission-form button[type=submit]")
    confirmed = page.locator("#commission-confirmed")
    await confirmed.wait_for()
    text = await confirmed.inner_text()
    assert "30.00%" in text and "70.00%" in text
    await check_page(page, chinese=locale == "zh-CN")
    assert errors == []
    await context.close()
