"""The integrations pages in real Chromium, on a desktop and a phone: an owner adds a webhook endpoint
(its secret shown once) and a territory's group robot on /settings/integrations, and makes their
calendar address on /settings/calendar (reached from the footer); axe-core finds no serious or
critical violation and nothing scrolls sideways, before and after each action."""

from __future__ import annotations

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import territory
from tests.helpers import signup

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
async def test_an_owner_sets_up_webhooks_chat_and_the_calendar(
    client, app, base_url, browser, viewport
) -> None:
    owner = await signup(client, locale="zh-CN")
    await territory(client, owner, "华东")
    context = await browser.new_context(viewport=VIEWPORTS[viewport])
    page = await context.new_page()
    await sign_in(page, base_url, owner.email)
    await page.goto(f"{base_url}/settings/integrations")
    await check_page(page)
    await page.fill("#hook-url", "https://hooks.example.com/acre")
    await page.check("input[name=event_types][value='customer.created']")
    await page.click("button:has-text('添加此端点')")
    await page.wait_for_selector("#new-secret")
    assert (await page.inner_text("#new-secret")).startswith("whsec_")
    await check_page(page)
    await page.fill("#robot-url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234")
    await page.check("input[name=kinds][value='reclaim_warning']")
    await page.click("button:has-text('添加此机器人')")
    await page.wait_for_selector("#chat-robots table")
    assert "企业微信" in await page.inner_text("#chat-robots table")
    await check_page(page)

    await page.click("footer a[href='/settings/calendar']")
    await page.wait_for_url(f"{base_url}/settings/calendar")
    await check_page(page)  # (the member's name in the footer is Latin)
    await page.click("button:has-text('生成我的日历地址')")
    await page.wait_for_selector("#feed-url")
    assert (await page.inner_text("#feed-url")).endswith(".ics")
    await check_page(page)  # (the member's name in the footer is Latin)
    await context.close()
