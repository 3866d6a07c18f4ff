"""The owner's setup in real Chromium at 1280×800: sign a new company up on /signup → the onboarding
checklist → invite a rep on /members (the mail read from the mail capture) → the rep accepts on the
invite page → the rep signs in; the owner saves the pool rules and a wrong value shows inline. On
every setup page axe-core finds no serious or critical violation and nothing scrolls sideways; a
company signed up in Chinese sees every setup page (on a phone) with no English left."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import db_value
from tests.helpers import PASSWORD, last_link, run_jobs

pytestmark = pytest.mark.e2e

SETUP_PAGES = (
    "/onboarding",
    "/members",
    "/billing",
    "/settings",
    "/settings/company",
    "/settings/pool-rules",
    "/settings/cadences",
    "/settings/stages",
    "/settings/price-list",
    "/settings/referral-rewards",
    "/settings/ledger",
)


def _watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


async def _sign_up(page: Any, base_url: str, *, company: str, name: str, email: str, locale: str) -> str:
    slug = f"e2e-{secrets.token_hex(4)}"
    await page.fill("#company_name", company)
    await page.fill("#slug", slug)
    await page.select_option("#locale", locale)
    await page.select_option("#time_zone", "Asia/Shanghai")
    await page.select_option("#currency", "CNY")
    await page.fill("#name", name)
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/onboarding")
    return slug


async def test_sign_up_invite_a_rep_who_joins_and_signs_in(app, admin_db, mailbox, base_url, browser):
    context = await browser.new_context(viewport=VIEWPORTS["desktop"])
    page = await context.new_page()
    errors = _watch(page)
    await page.goto(f"{base_url}/login")
    await page.click("a:has-text('Sign up')")
    await page.wait_for_url(f"{base_url}/signup")
    await check_page(page)

    owner_email = f"owner-{secrets.token_hex(4)}@example.com"
    await page.fill("#company_name", "青禾软件有限公司")
    await page.fill("#slug", "admin")  # reserved: refused beside the field, nothing made
    await page.fill("#name", "王总")
    await page.fill("#email", owner_email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#slug-error")
    await check_page(page)
    assert await db_value(admin_db, "SELECT count(*) FROM users WHERE email = $1", owner_email) == 0

    slug = await _sign_up(
        page, base_url, company="青禾软件有限公司", name="王总", email=owner_email, locale="en"
    )
    await check_page(page)
    assert "0 of 6 steps done" in await page.inner_text("main")
    assert await page.get_attribute("#step-team", "data-done") == "no"

    await page.click("nav a:has-text('Members')")
    await page.wait_for_url(f"{base_url}/members")
    await check_page(page)
    rep_email = f"rep-{secrets.token_hex(4)}@example.com"
    await page.fill("#invite-email", rep_email)
    await page.select_option("#invite-role", "rep")
    await page.click("button:has-text('Send the invitation')")
    await page.wait_for_selector("#invite-msg .ok")
    assert rep_email in await page.inner_text("#invitations")
    await check_page(page)

    await run_jobs(app)  # the worker delivers the invitation mail to the capture
    token = last_link(mailbox, to=rep_email)
    rep_context = await browser.new_context(viewport=VIEWPORTS["desktop"])
    rep_page = await rep_context.new_page()
    rep_errors = _watch(rep_page)
    await rep_page.goto(f"{base_url}/invite/{token}")
    await check_page(rep_page)
    await rep_page.fill("#name", "李业务")
    await rep_page.fill("#password", PASSWORD)
    await rep_page.click("button[type=submit]")
    await rep_page.wait_for_selector("p.ok")
    assert "青禾软件有限公司" in await rep_page.inner_text("h1")
    await check_page(rep_page)
    await rep_context.clear_cookies()
    await sign_in(rep_page, base_url, rep_email)
    await check_page(rep_page)
    assert "李业务" in await rep_page.inner_text("footer")
    assert await rep_page.locator("nav a[href='/settings']").count() == 0  # a rep has no settings
    await rep_context.close()

    await page.goto(f"{base_url}/onboarding")
    assert await page.get_attribute("#step-team", "data-done") == "yes"
    await page.goto(f"{base_url}/members")
    assert "李业务" in await page.inner_text("#member-list")

    await page.goto(f"{base_url}/settings/pool-rules")
    await page.fill("#B_no_followup_days", "2")  # not more than the warning days: refused inline
    await page.click("button:has-text('Save')")
    await page.wait_for_selector("#rules-msg .error")
    assert "warning days" in await page.inner_text("#rules-msg")
    await check_page(page)
    await page.fill("#B_no_followup_days", "25")
    await page.click("button:has-text('Save')")
    await page.wait_for_selector("#rules-msg .ok")
    days = await db_value(
        admin_db,
        "SELECT (r.rules->'grades'->'B'->>'no_followup_days')::int FROM pool_rules r"
        " JOIN tenants t ON t.id = r.tenant WHERE t.slug = $1",
        slug,
    )
    assert days == 25

    for path in SETUP_PAGES:
        await page.goto(f"{base_url}{path}")
        await check_page(page)
    await page.goto(f"{base_url}/settings/ledger")
    await page.click("button:has-text('Verify now')")
    await page.wait_for_selector("#verify-result .ok")
    await check_page(page)
    assert errors == [] and rep_errors == []
    await context.close()


async def test_every_setup_page_in_chinese_is_translated(app, base_url, browser):
    """On a phone (390 wide), so the one-column layout is checked too: nothing scrolls sideways."""
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base_url}/signup?lang=zh-CN")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/login?lang=zh-CN")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/signup?lang=zh-CN")
    email = f"boss-{secrets.token_hex(4)}@example.com"
    await _sign_up(page, base_url, company="常州启明软件有限公司", name="陈总", email=email, locale="zh-CN")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/members")
    await page.fill("#invite-email", f"rep-{secrets.token_hex(4)}@example.com")
    await page.click("form:has(#invite-email) button[type=submit]")
    await page.wait_for_selector("#invite-msg .ok")
    for path in SETUP_PAGES:
        await page.goto(f"{base_url}{path}")
        await check_page(page, chinese=True)
    await context.close()
