"""The territory manager's handover in real Chromium at 1280×800: tick 20 customers in the team table,
hand them over (wizard → preview → execute), find them under the receiver, undo; a preview gone stale
meanwhile shows the fresh one and executes on the second try. axe-core finds no serious or critical
violation on any of these pages (and on duplicate claims and offboarding), nothing scrolls sideways,
and in zh-CN no visible string is left in English. On a phone and a desktop, the page shows who has
signed the handover sheet."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.documents.soffice import soffice_binary
from app.settings import get_settings
from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import assign, customer, db_value
from tests.helpers import run_jobs
from tests.integration.customers.pool.support import quick_members, set_locale, team
from tests.integration.handover.support import owners
from tests.integration.signing.support import link_for, sign_typed

pytestmark = pytest.mark.e2e
PLAN = re.compile(r"/handovers/[0-9a-f-]{36}(\?|$)")


async def _desk(client: Any, admin_db: str, n: int, locale: str = "en") -> Any:
    t = await team(client, admin_db, reps=2, locale=locale)
    a, b = t.reps
    (manager,) = await quick_members(client, admin_db, t.owner, 1, role="manager")
    await assign(client, t.owner, t.territory["id"], manager, "manager")
    made = [
        await customer(
            client,
            t.owner,
            t.territory["id"],
            grade="ABCD"[i % 4],
            owner_membership_id=a.membership_id,
            full_name=f"苏州第{i + 1}{'一二三四五六七八九十'[i % 10]}软件有限公司",
        )
        for i in range(n)
    ]
    return t, a, b, manager, made


async def _accept(dialog: Any) -> None:
    await dialog.accept()


async def test_hand_over_twenty_customers_and_undo(client, admin_db, base_url, browser):
    t, a, b, manager, made = await _desk(client, admin_db, 24)
    context = await browser.new_context(viewport=VIEWPORTS["desktop"])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("dialog", _accept)
    await sign_in(page, base_url, manager.email)
    await page.click("nav a:has-text('Team customers')")
    await page.wait_for_url(f"{base_url}/customers?view=team")
    await check_page(page)
    await page.wait_for_selector("#matching:has-text('24 customers match')")
    boxes = page.locator("input[name=customer_id]")
    assert await boxes.count() == 24
    chosen = []
    for i in range(20):
        await boxes.nth(i).check()
        chosen.append(await boxes.nth(i).get_attribute("value"))
    assert "20 selected" in await page.inner_text("#bulk [aria-live]")

    await page.click("button:has-text('Hand over')")
    await page.wait_for_url(f"{base_url}/handovers/new?**")
    await check_page(page)
    assert "20 customers selected in the table" in await page.inner_text("#selection-summary")
    await page.check("input[name=mode][value=single]")
    await page.check(f"input[name=targets][value='{b.membership_id}']")
    await page.fill("#reason", "业务员调岗")
    await page.click("button:has-text('Preview')")
    await page.wait_for_url(PLAN)
    plan_url = page.url
    await check_page(page)
    assert "20 customers (0 to the pool)" in await page.inner_text("#totals")
    assert (await page.inner_text(f"#receiver-{b.membership_id} .n-customers")).strip() == "20"

    await page.click("#execute")
    await page.wait_for_selector("#undo")
    await check_page(page)
    assert set((await owners(admin_db, chosen)).values()) == {b.membership_id}
    await page.goto(f"{base_url}/customers?view=team&owner={b.membership_id}")
    await page.wait_for_selector("#matching:has-text('20 customers match')")
    assert await page.locator("input[name=customer_id]").count() == 20

    await page.goto(f"{base_url}/handovers")
    await check_page(page)
    await page.goto(plan_url)
    await page.click("#undo")
    await page.wait_for_selector("#undone")
    await check_page(page)
    assert set((await owners(admin_db, chosen)).values()) == {a.membership_id}

    # a stale preview: a customer changes between the preview and the execution
    await page.goto(f"{base_url}/customers?view=team&owner={a.membership_id}")
    await page.wait_for_selector("#select-all")
    await page.check("#select-all")
    assert "All 24 matching selected" in await page.inner_text("#bulk [aria-live]")
    await page.click("button:has-text('Hand over')")
    await page.wait_for_url(f"{base_url}/handovers/new?**")
    assert "All 24 customers matching" in await page.inner_text("#selection-summary")
    await page.check(f"input[name=targets][value='{b.membership_id}']")
    await page.fill("#reason", "区域调整")
    await page.click("button:has-text('Preview')")
    await page.wait_for_url(PLAN)
    r = await client.patch(
        f"/api/v1/customers/{made[0]['id']}", json={"industry": "制造业"}, headers=t.owner.headers
    )
    assert r.status_code == 200, r.text
    await page.click("#execute")
    stale = await page.wait_for_selector(".stale")
    assert "fresh preview" in await stale.inner_text() and made[0]["full_name"] in await stale.inner_text()
    await check_page(page)
    assert set((await owners(admin_db, [c["id"] for c in made])).values()) == {a.membership_id}
    await page.click("#execute")
    await page.wait_for_selector("#undo")
    assert set((await owners(admin_db, [c["id"] for c in made])).values()) != {a.membership_id}
    assert errors == []
    await context.close()


async def test_the_manager_pages_in_chinese(client, admin_db, base_url, browser):
    t, _a, b, manager, made = await _desk(client, admin_db, 3, locale="zh-CN")
    await set_locale(admin_db, manager, "zh-CN")
    r = await client.post(
        "/api/v1/customers",
        json={"full_name": made[0]["full_name"], "territory_id": t.territory["id"], "phone": "0512-66668888"},
        headers=b.headers,
    )
    assert r.status_code == 409, r.text  # a duplicate claim for the manager
    context = await browser.new_context(viewport=VIEWPORTS["desktop"], locale="zh-CN")
    page = await context.new_page()
    page.on("dialog", _accept)
    await sign_in(page, base_url, manager.email)
    for path in ("/customers?view=team", "/handovers", "/customer-conflicts"):
        await page.goto(f"{base_url}{path}")
        await check_page(page, chinese=True)
    assert await page.locator(".conflict").count() == 1
    await page.goto(f"{base_url}/customers?view=team")
    await page.check("#select-page")
    await page.click("#bulk button[type=submit]")
    await page.wait_for_url(f"{base_url}/handovers/new?**")
    await check_page(page, chinese=True)
    await page.check("input[name=mode][value=capacity]")
    await page.check(f"input[name=targets][value='{b.membership_id}']")
    await page.fill("#reason", "业务员调岗")
    await page.click("#wizard-msg >> xpath=preceding-sibling::button")
    await page.wait_for_url(PLAN)
    await check_page(page, chinese=True)
    await page.click("#execute")
    await page.wait_for_selector("#undo")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/handovers")
    await check_page(page, chinese=True)

    await db_value(
        admin_db, "UPDATE users SET name = '王总' WHERE id = $1::uuid RETURNING id", t.owner.user_id
    )
    await context.clear_cookies()
    await sign_in(page, base_url, t.owner.email)  # the owner offboards a rep
    await page.goto(f"{base_url}/members/{b.membership_id}/offboard")
    await check_page(page, chinese=True)
    await page.click("#deactivate")
    await page.wait_for_url(re.compile(rf"/handovers/[0-9a-f-]{{36}}\?offboard={b.membership_id}$"))
    await check_page(page, chinese=True)
    await page.click("#execute")
    await page.wait_for_selector("#complete-deactivation")
    await check_page(page, chinese=True)
    await page.click("#complete-deactivation")
    await page.wait_for_selector("#offboarded")
    await check_page(page, chinese=True)
    await context.close()


async def test_the_handover_page_shows_who_has_signed_the_sheet(
    client, admin_db, app, mailbox, base_url, browser
):
    """The receivers sign the sheet (交接单) from their email link; the manager's handover page, on a
    phone and on a desktop, shows who has signed and who not yet."""
    if soffice_binary(get_settings()) is None:
        pytest.skip("LibreOffice (soffice) is not installed: no sheet PDF to sign")
    t, a, b, manager, _made = await _desk(client, admin_db, 4)
    (receiver,) = await quick_members(client, admin_db, t.owner, 1)
    await assign(client, t.owner, t.territory["id"], receiver, "rep")
    r = await client.post(
        "/api/v1/handovers",
        json={
            "reason": "业务员调岗",
            "selection": {"owner_ids": [a.membership_id]},
            "targets": [{"membership_id": b.membership_id}, {"membership_id": receiver.membership_id}],
            "mode": "round_robin",
        },
        headers=manager.headers,
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    r = await client.post(f"/api/v1/handovers/{plan_id}/execute", headers=manager.headers)
    assert r.status_code == 200, r.text
    await run_jobs(app)
    r = await sign_typed(client, link_for(mailbox, b.email), "王芳")
    assert r.status_code == 200, r.text
    await run_jobs(app)

    for name, viewport in VIEWPORTS.items():
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, base_url, manager.email)
        await page.goto(f"{base_url}/handovers/{plan_id}")
        await page.wait_for_selector("#sheet-signers")
        await check_page(page)
        signed = page.locator(f"#sheet-signers tr.signed[data-email='{b.email}']")
        unsigned = page.locator(f"#sheet-signers tr.unsigned[data-email='{receiver.email}']")
        assert await signed.count() == 1, name
        assert "Signed" in await signed.inner_text()
        assert "Not signed yet" in await unsigned.inner_text(), name
        await context.close()
