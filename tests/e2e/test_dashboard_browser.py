"""The team dashboard in real Chromium at a desktop (1280×800) and a phone (390×844): the charts are
drawn (ECharts' canvas in each chart), the CSP refuses nothing, each chart's table opens, the period
picker reloads the figures; axe-core, no sideways scrolling, and in zh-CN no English left, on every
team page."""

from __future__ import annotations

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import db_value
from tests.integration.customers.pool.support import set_locale
from tests.integration.web.team_support import busy_team

pytestmark = pytest.mark.e2e

CHARTS = ("funnel", "stages", "reps", "changes")  # those with data in the busy team
TEAM_PAGES = (
    "/team",
    "/team/daily-reports",
    "/team/weekly-reports",
    "/team/market-incidents",
    "/team/targets",
    "/team/collections",
    "/team/grants",
    "/team/referral-rewards",
)


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_the_dashboard_draws_its_charts(client, mailbox, app, admin_db, base_url, browser, device):
    f, due = await busy_team(client, mailbox, app, admin_db)
    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base_url, f.manager.email, next_path="/team")
    for name in CHARTS:
        await page.wait_for_selector(f"#chart-{name} canvas")
        box = await page.locator(f"#chart-{name} canvas").first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, (name, box)
    await check_page(page)
    await page.click("#chart-funnel-title ~ details summary")
    assert await page.locator("#chart-funnel-table td[data-total=calls]").inner_text() == "2"
    await check_page(page)
    await page.click(".periods a:has-text('Last month')")
    await page.wait_for_url(f"{base_url}/team?period=last_month")
    await page.wait_for_selector("#chart-funnel canvas")
    assert await page.locator("#chart-funnel-table td[data-total=calls]").text_content() == "0"
    assert f"/customers/{due['id']}" in await page.content()  # the week's reclaims do not follow the period
    for path in TEAM_PAGES:
        await page.goto(f"{base_url}{path}")
        await check_page(page)
    assert errors == [], errors  # no CSP refusal, no script error
    await context.close()


async def test_the_team_pages_in_chinese(client, mailbox, app, admin_db, base_url, browser):
    f, _ = await busy_team(client, mailbox, app, admin_db)
    await set_locale(admin_db, f.manager, "zh-CN")
    await db_value(
        admin_db, "UPDATE users SET name = '王总' WHERE id = $1::uuid RETURNING id", f.owner.user_id
    )
    for t, name in ((f.province, "江苏省"), (f.other_province, "浙江省")):  # names without latin letters
        r = await client.patch(f"/api/v1/territories/{t['id']}", json={"name": name}, headers=f.owner.headers)
        assert r.status_code == 200, r.text
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, base_url, f.manager.email, next_path="/team")
    for path in TEAM_PAGES:
        await page.goto(f"{base_url}{path}")
        await check_page(page, chinese=True)
    await page.goto(f"{base_url}/team")
    await page.wait_for_selector("#chart-funnel canvas")
    assert "团队" in await page.title()
    await context.close()
