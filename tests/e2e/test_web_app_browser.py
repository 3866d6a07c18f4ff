"""The web app in real Chromium, on a phone (390×844) and a desktop (1280×800): sign in → pool →
claim (the counter moves) → the customer under My customers → log a follow-up → it shows in the
timeline; a refused claim shows its rule in place. On every page axe-core (vendored, evaluated from
the committed file) finds no serious or critical violation, nothing scrolls sideways, and in zh-CN no
visible string is left in English (a string missing from the catalog shows as its English id)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.support import VIEWPORTS, check_page
from tests.factories import customer, db_value
from tests.factories import today as tenant_today
from tests.helpers import PASSWORD, last_link, run_jobs, signup
from tests.integration.customers.pool.support import age, pool_customer, put_rules, set_locale, team

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_a_reps_day_in_the_browser(client, admin_db, base_url, browser, device):
    t = await team(client, admin_db, reps=2)
    rep, other = t.reps
    await put_rules(client, t.owner, daily_claim_cap=5)
    made = await pool_customer(
        client, t.owner, t.territory["id"], full_name="苏州青禾软件有限公司", grade="A"
    )
    taken = await pool_customer(client, t.owner, t.territory["id"], full_name="无锡远山科技有限公司")

    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    # CSP refusals and script errors; an answer's status (the refused claim's 409) is not one
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status == 404 else None)
    await page.goto(f"{base_url}/pool")
    assert page.url.startswith(f"{base_url}/login?next=")  # no session: the login, then back
    await check_page(page)
    await page.fill("#email", rep.email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/pool")
    await check_page(page)
    assert "0 of 100 owned · 0 of 5 claimed today" in await page.inner_text("#claim-counter")
    r = await client.post(f"/api/v1/customers/{taken['id']}/claim", headers=other.headers)
    assert r.status_code == 200  # someone else claims it while it still shows in our pool

    await page.click(f"#claim-{made['id']} button:has-text('Claim')")
    await page.wait_for_selector(f"#claim-{made['id']} .ok")
    assert "1 of 100 owned · 1 of 5 claimed today" in await page.inner_text("#claim-counter")
    await page.click(f"#claim-{taken['id']} button:has-text('Claim')")
    refused = await page.wait_for_selector(f"#claim-{taken['id']} .error")
    assert "Owned by" in await refused.inner_text()
    await page.click(f"#claim-{taken['id']} button:has-text('Why?')")
    await page.wait_for_selector(f"#why-{taken['id']} .card")
    await check_page(page)

    await page.click("nav a:has-text('My customers')")
    await page.wait_for_url(f"{base_url}/customers")
    await check_page(page)
    await page.click("a:has-text('苏州青禾软件有限公司')")
    await page.wait_for_url(f"{base_url}/customers/{made['id']}")
    await check_page(page)
    await page.select_option("#kind", "visit")
    await page.select_option("#result", "appointment")
    await page.fill("#summary", "上门拜访，约了下周演示")
    await page.click("button:has-text('Log it')")
    await page.wait_for_selector("#timeline li:has-text('上门拜访，约了下周演示')")
    assert "Logged." in await page.inner_text("#followup-msg")
    await page.goto(f"{base_url}/")
    await check_page(page)
    assert errors == []  # the CSP let our scripts run and refused nothing they need
    assert failed == []  # every asset the pages name is served
    await context.close()


async def test_every_page_in_chinese_is_translated(client, admin_db, base_url, browser):
    t = await team(client, admin_db, reps=1, locale="zh-CN")
    rep = t.reps[0]
    await set_locale(admin_db, rep, "zh-CN")
    made = await pool_customer(client, t.owner, t.territory["id"], full_name="常州启明软件有限公司")
    await pool_customer(client, t.owner, t.territory["id"], full_name="南通海星科技有限公司")
    mine = await customer(  # Today shows its task and its reclaim warning
        client,
        t.owner,
        t.territory["id"],
        owner_membership_id=rep.membership_id,
        full_name="泰州云帆软件有限公司",
    )
    await age(admin_db, mine["id"], 28)
    tomorrow = (tenant_today() + timedelta(days=1)).isoformat()
    r = await client.post(
        "/api/v1/tasks",
        json={"customer_id": mine["id"], "kind": "visit", "due_on": tomorrow, "note": "带上报价单"},
        headers=rep.headers,
    )
    assert r.status_code == 201, r.text
    task_id = r.json()["id"]
    await db_value(  # overdue, so Today lists it too
        admin_db, "UPDATE sales_tasks SET due_on = due_on - 3 WHERE id = $1::uuid RETURNING id", task_id
    )
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base_url}/login?lang=zh-CN")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/forgot-password")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/login")
    await page.fill("#email", rep.email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/")
    for path in ("/", "/tasks", "/pool", "/customers"):
        await page.goto(f"{base_url}{path}")
        await check_page(page, chinese=True)
    await page.goto(f"{base_url}/")
    assert await page.locator(f"#task-{task_id}, #reclaim-{mine['id']}").count() == 2
    await page.goto(f"{base_url}/pool")
    await page.click(f"#claim-{made['id']} button")
    await page.wait_for_selector(f"#claim-{made['id']} .ok")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/customers/{made['id']}")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/customers/00000000-0000-4000-8000-000000000000")
    await check_page(page, chinese=True)  # the 404 page
    await context.close()


async def test_the_mailed_pages_in_chinese_are_translated(client, app, mailbox, base_url, browser):
    """The pages a mail opens before anyone signs in: choosing a new password and accepting an
    invitation, in zh-CN, pass axe and show no English; the language chosen on one is remembered."""
    owner = await signup(client)
    r = await client.post("/api/v1/auth/password-reset", json={"email": owner.email})
    assert r.status_code == 202
    r = await client.post(
        "/api/v1/invitations",
        json={"email": "xin-tongshi@example.com", "role": "rep"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    await run_jobs(app)
    reset = last_link(mailbox, r"http://testserver\.local(/reset-password/\S+)", to=owner.email)
    invite = last_link(mailbox, r"http://testserver\.local(/invite/\S+)", to="xin-tongshi@example.com")
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base_url}/login?lang=zh-CN")  # chosen once, remembered by the next pages
    for path in (reset, invite, "/forgot-password"):
        await page.goto(f"{base_url}{path}")
        assert await page.get_attribute("html", "lang") == "zh-CN", path
        await check_page(page, chinese=True)
    await context.close()
