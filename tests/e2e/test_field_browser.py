"""The rep's field work in real Chromium, on a phone (390×844) and a desktop (1280×800): plan
tomorrow's visit with the search picker and submit it; mark today's planned visit done on Today and
find it in the customer's timeline; file the daily report prefilled from the day. Every page passes
``check_page`` (axe-core, no sideways scroll), and in zh-CN every field page shows no English."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import assign, customer
from tests.factories import today as tenant_today
from tests.helpers import Member
from tests.integration.customers.pool.support import Team, quick_members, set_locale, team
from tests.integration.deals.support import deal

pytestmark = pytest.mark.e2e


async def field_team(
    client: Any, admin_db: str, locale: str = "en"
) -> tuple[Team, Member, list[dict[str, Any]]]:
    t = await team(client, admin_db, reps=1, locale=locale)
    [manager] = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, t.territory["id"], manager, "manager")
    rep = t.reps[0]
    made = [
        await customer(client, t.owner, t.territory["id"], owner_membership_id=rep.membership_id, full_name=n)
        for n in ("苏州青禾软件有限公司", "无锡远山科技有限公司")
    ]
    return t, manager, made


async def todays_plan(client: Any, rep: Member, customer_id: str) -> dict[str, Any]:
    body = {
        "plan_date": tenant_today().isoformat(),
        "items": [{"customer_id": customer_id, "planned_time": "10:30:00", "purpose": "service"}],
    }
    r = await client.post("/api/v1/visit-plans", json=body, headers=rep.headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/visit-plans/{r.json()['id']}/submit", headers=rep.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_plan_visit_log_it_and_file_the_day(client, admin_db, base_url, browser, device):
    t, _, (qinghe, yuanshan) = await field_team(client, admin_db)
    rep = t.reps[0]
    today_plan = await todays_plan(client, rep, qinghe["id"])
    tomorrow = (tenant_today() + timedelta(days=1)).isoformat()

    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base_url, rep.email)

    # plan tomorrow: the Field entry, the search picker, time and purpose; submit
    await page.click("nav a:has-text('Field')")
    await page.wait_for_url(f"{base_url}/visit-plans")
    assert f"Plan for {tomorrow}" in await page.inner_text("#plan")
    await check_page(page)
    await page.click("button:has-text('Add to the plan')")  # no customer chosen: said beside the form
    await page.wait_for_selector("#plan-msg .error")
    assert "Choose a customer" in await page.inner_text("#plan-msg")
    await page.fill("#picker-q-plan", "远山")
    await page.wait_for_selector(f"#picker-plan input[value='{qinghe['id']}']", state="detached")
    await page.check(f"#picker-plan input[value='{yuanshan['id']}']")
    await page.fill("#planned_time", "14:30")
    await page.select_option("#purpose", "collection")
    await page.click("button:has-text('Add to the plan')")
    await page.wait_for_selector("#plan li:has-text('无锡远山科技有限公司')")
    assert "14:30" in await page.inner_text("#plan") and "Added to the plan." in await page.inner_text(
        "#plan-msg"
    )
    await check_page(page)
    await page.click("button:has-text('Submit for approval')")
    await page.wait_for_selector("#plan-status:has-text('Awaiting approval')")
    assert await page.locator("#plan-form form").count() == 0  # submitted: no more changes
    await check_page(page)

    # today's planned visit, done from Today; it shows in the customer's timeline
    item = today_plan["items"][0]["id"]
    await page.goto(f"{base_url}/")
    await check_page(page)
    await page.click(f"#plan-item-{item} summary")
    await page.fill(f"#visit-summary-{item}", "见了采购经理，约下周演示")
    await page.select_option(f"#visit-result-{item}", "appointment")
    await page.click(f"#plan-item-{item} button:has-text('Log the visit')")
    await page.wait_for_selector(f"#visit-msg-{item} .ok")
    assert "Visited" in await page.inner_text(f"#visit-actions-{item}")
    assert "1 of 1 visits done" in await page.inner_text(f"#plan-progress-{today_plan['id']}")
    await check_page(page)
    await page.click(f"#plan-item-{item} a:has-text('苏州青禾软件有限公司')")
    await page.wait_for_url(f"{base_url}/customers/{qinghe['id']}")
    assert "见了采购经理，约下周演示" in await page.inner_text("#timeline")

    # the daily report, prefilled from the day
    await page.goto(f"{base_url}/daily-reports")
    await check_page(page)
    figures = await page.inner_text("#report-today .f-figures")
    assert "Visits\n1" in figures or "Visits\t1" in figures, figures
    await page.fill("#competitor_news", "对手在苏州降价 10%")
    await page.fill("#customer_feedback", "希望加快交付")
    await page.click("button:has-text('File the report')")
    await page.wait_for_selector("#report-msg .ok")
    await page.click("#report-msg a")
    await page.wait_for_selector("h1:has-text('Report for')")
    assert "对手在苏州降价 10%" in await page.inner_text("main")
    await check_page(page)
    assert errors == []
    await context.close()


async def test_every_field_page_in_chinese_is_translated(client, admin_db, base_url, browser):
    t, manager, (qinghe, yuanshan) = await field_team(client, admin_db, locale="zh-CN")
    rep = t.reps[0]
    await set_locale(admin_db, rep, "zh-CN")
    today_plan = await todays_plan(client, rep, qinghe["id"])
    r = await client.post(
        "/api/v1/visit-plans",
        json={
            "plan_date": (tenant_today() + timedelta(days=1)).isoformat(),
            "items": [{"customer_id": yuanshan["id"], "planned_time": "09:00:00", "purpose": "development"}],
        },
        headers=rep.headers,
    )
    tomorrow_plan = r.json()
    yesterday = (tenant_today() - timedelta(days=1)).isoformat()
    report = await client.post(
        "/api/v1/daily-reports",
        json={
            "report_date": yesterday,
            "competitor_news": "对手降价",
            "incidents": [{"title": "低价窜货", "description": "外省代理商", "severity": "serious"}],
        },
        headers=rep.headers,
    )
    assert report.status_code == 201, report.text
    incident = report.json()["incidents"][0]
    r = await client.post(f"/api/v1/visit-plans/{today_plan['id']}/approve", headers=manager.headers)
    assert r.status_code == 200, r.text  # the rep gets a notification
    await deal(client, rep, qinghe["id"], stage="signed", title="青禾项目")  # won: return visits
    visits = (await client.get("/api/v1/return-visits", headers=rep.headers)).json()["items"]
    r = await client.post(
        f"/api/v1/return-visits/{visits[0]['id']}/log",
        json={"satisfaction": 5, "notes": "很满意", "new_needs": "增购十个席位"},
        headers=rep.headers,
    )
    assert r.status_code == 200, r.text

    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, base_url, rep.email)
    for path in (
        "/",
        "/tasks",
        "/visit-plans",
        f"/visit-plans/{today_plan['id']}",
        f"/visit-plans/{tomorrow_plan['id']}",
        "/daily-reports",
        f"/daily-reports?date={yesterday}",
        f"/daily-reports/{report.json()['id']}",
        "/market-incidents",
        f"/market-incidents/{incident['id']}",
        "/return-visits",
        "/return-visits?status=done",
        "/notifications",
        "/notifications?unread=1",
    ):
        await page.goto(f"{base_url}{path}")
        await check_page(page, chinese=True)
    await page.goto(f"{base_url}/visit-plans")
    await page.fill("#picker-q-plan", "没有这个客户")
    await page.wait_for_selector("#picker-plan p.meta")
    await check_page(page, chinese=True)  # the picker's empty answer
    await page.goto(f"{base_url}/notifications")
    await page.click("button:has-text('全部标为已读')")
    await page.wait_for_selector("#notifications-msg .ok")
    assert await page.locator(".topbar .bell .count").count() == 0  # the bell's count follows
    await check_page(page, chinese=True)

    await context.close()

    await set_locale(admin_db, manager, "zh-CN")  # the manager's view of the incident
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, base_url, manager.email)
    await page.goto(f"{base_url}/market-incidents/{incident['id']}")
    await check_page(page, chinese=True)
    await context.close()
