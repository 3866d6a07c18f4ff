"""The territory manager's desk in real Chromium: an import of a GBK CSV with bad rows — the columns,
the progress bar while the worker runs the job, the row report and the refused rows downloaded
(1280×800); a below-floor quote approved from the inbox, and the rep's notification (1280×800 and
390×844); a cross-territory request asked from another territory's pool and approved from the inbox
(390×844); a realignment merge with its preview, executed. ``check_page`` on every page (axe-core,
no sideways scroll) and the zh-CN crawl of every new page (``chinese=True``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import assign, customer, db_value, territory
from tests.helpers import run_jobs
from tests.integration.customers.imports.support import HEADER, csv_file, rows
from tests.integration.customers.imports.support import team as import_team
from tests.integration.customers.pool.support import quick_members, set_locale, team
from tests.integration.customers.pool.test_access_requests import two
from tests.integration.deals.support import deal, line, quote, world

pytestmark = pytest.mark.e2e


def _watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


async def _below_floor(
    client: Any, w: Any, title: str = "恒泰 ERP 项目", customer_id: str | None = None
) -> dict[str, Any]:
    d = await deal(client, w.rep, customer_id or w.customer["id"], title=title)
    r = await quote(client, w.rep, d["id"], [line(w.products["erp"], unit_price="4800.00")], formal=False)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/quotes/{r.json()['id']}/submit", headers=w.rep.headers)
    assert r.status_code == 202, r.text
    return r.json()  # type: ignore[no-any-return]


async def _gbk_with_bad_rows() -> tuple[list[list[str]], bytes]:
    data = rows(5)
    data[1][5] = "Z"  # no such grade
    data[3][6] = "火星"  # no such territory
    return data, csv_file(data, encoding="gbk")


async def _import(page: Any, app: Any, base_url: str, content: bytes, name: str = "名单.csv") -> None:
    """Choose the file, check its columns, start, let the worker run it, wait for the report."""
    await page.goto(f"{base_url}/customers/import")
    await page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    await page.wait_for_selector("#columns table")
    await page.click("#import-form button[type=submit]")
    await page.wait_for_selector("#job-area progress")
    await run_jobs(app)
    await page.wait_for_selector("#job-report", timeout=20_000)


async def test_import_a_gbk_csv_with_bad_rows(client, mailbox, app, base_url, browser):
    t = await import_team(client, mailbox, app, locale="en")
    data, content = await _gbk_with_bad_rows()
    context = await browser.new_context(viewport=VIEWPORTS["desktop"], accept_downloads=True)
    page = await context.new_page()
    errors = _watch(page)
    await sign_in(page, base_url, t.manager.email, next_path="/customers/import")
    await check_page(page)
    await page.set_input_files(
        "#file", files=[{"name": "名单.csv", "mimeType": "text/csv", "buffer": content}]
    )
    await page.wait_for_selector("#columns table")
    assert await page.eval_on_selector("#field-0", "s => s.value") == "full_name"  # 客户全称
    await check_page(page)
    await page.click("#import-form button[type=submit]")
    bar = await page.wait_for_selector("#job-area progress")
    assert bar is not None
    assert "Waiting for the worker" in await page.inner_text("#job-status")  # polling, nothing run yet
    await check_page(page)
    await run_jobs(app)  # the worker runs the job; the page's polling picks up the end
    await page.wait_for_selector("#job-report", timeout=20_000)
    report = await page.inner_text("#job-report")
    assert "3 rows imported · 2 rows refused" in report and "Row 3" in report and "Row 5" in report
    assert await page.eval_on_selector("#job-progress", "p => p.value") == 1
    await check_page(page)
    async with page.expect_download() as info:
        await page.click("a:has-text('Download the refused rows to fix')")
    download = await info.value
    body = (await download.path()).read_bytes()
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join([*HEADER, "What to fix"])
    assert data[1][0] in text and data[3][0] in text and data[0][0] not in text
    assert errors == []
    await context.close()


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_approve_a_below_floor_quote_from_the_inbox(client, mailbox, app, base_url, browser, device):
    w = await world(client, mailbox, app)
    approval = await _below_floor(client, w)
    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors = _watch(page)
    await sign_in(page, base_url, w.manager.email, next_path="/approvals")
    await check_page(page)
    item = f"#approval-{approval['id']}"
    assert "Under the floor price" in await page.inner_text(item)
    await page.click(f"{item} details summary")  # the deal's stage history
    await page.fill(f"#comment-approval-{approval['id']}", "同意，下不为例")
    await page.click(f"{item} button:has-text('Approve')")
    await page.wait_for_selector(f"#msg-approval-{approval['id']} .ok")
    assert "Approved" in await page.inner_text(f"#msg-approval-{approval['id']}")
    assert await page.locator(f"#act-approval-{approval['id']} button").count() == 0
    await check_page(page)
    r = await client.get("/api/v1/notifications", headers=w.rep.headers)
    assert "quote_approved" in [n["kind"] for n in r.json()["items"]]
    assert errors == []
    await context.close()


async def test_approve_a_cross_territory_request_from_the_inbox(client, admin_db, base_url, browser):
    d = await two(client, admin_db)
    rep_context = await browser.new_context(viewport=VIEWPORTS["phone"])
    page = await rep_context.new_page()
    errors = _watch(page)
    await sign_in(page, base_url, d.rep.email, next_path="/pool")
    await page.goto(f"{base_url}/pool?territory_id={d.far['id']}")  # a pool they do not work
    assert "无锡市" in await page.inner_text("#outside")
    await check_page(page)
    await page.click("#outside a")
    await page.wait_for_selector("#ask")
    assert await page.eval_on_selector("#ask-territory", "s => s.value") == d.far["id"]
    await check_page(page)
    await page.fill("#ask-reason", "客户在无锡新设分公司，由我对接")
    await page.click("#ask-send")
    await page.wait_for_url(f"{base_url}/cross-territory-requests/*")
    request_id = page.url.rsplit("/", 1)[1]
    assert "Waiting for a manager" in await page.inner_text(f"#access-{request_id}")
    await check_page(page)

    manager_context = await browser.new_context(viewport=VIEWPORTS["phone"])
    desk = await manager_context.new_page()
    errors += _watch(desk)
    await sign_in(desk, base_url, d.manager.email, next_path="/approvals")
    item = f"#access-{request_id}"
    text = await desk.inner_text(item)
    assert "客户在无锡新设分公司" in text and "苏州市" in text and "无锡市" in text
    await check_page(desk)
    await desk.fill(f"#comment-access-{request_id}", "同意，到期自动收回")
    await desk.click(f"{item} button:has-text('Approve')")
    await desk.wait_for_selector(f"#msg-access-{request_id} .ok")
    assert "Approved" in await desk.inner_text(f"#msg-access-{request_id}")
    assert await desk.locator(f"#act-access-{request_id} button").count() == 0
    await check_page(desk)

    r = await client.get("/api/v1/notifications", headers=d.rep.headers)
    assert "cross_territory_approved" in [n["kind"] for n in r.json()["items"]]
    await page.reload()
    assert "同意，到期自动收回" in await page.inner_text(f"#access-{request_id}")
    await page.goto(f"{base_url}/pool?territory_id={d.far['id']}")
    assert d.far_pool["full_name"] in await page.inner_text("main")  # now theirs to claim
    await check_page(page)
    await set_locale(admin_db, d.rep, "zh-CN")  # the rep's page, in Chinese
    await page.goto(f"{base_url}/cross-territory-requests")
    assert "已批准" in await page.inner_text(f"#access-{request_id}")
    await check_page(page, chinese=True)
    assert errors == []
    await rep_context.close()
    await manager_context.close()


async def test_a_realignment_merge_with_its_preview(client, admin_db, base_url, browser):
    t = await team(client, admin_db, reps=1)
    sub = await territory(client, t.owner, "吴中区", parent=t.territory["id"])
    nanjing = await territory(client, t.owner, "南京市")
    [nj] = await quick_members(client, admin_db, t.owner, 1)
    await assign(client, t.owner, nanjing["id"], nj, "rep")
    for _ in range(2):
        await customer(client, t.owner, sub["id"], owner_membership_id=t.reps[0].membership_id)
    context = await browser.new_context(viewport=VIEWPORTS["desktop"])
    page = await context.new_page()
    errors = _watch(page)
    await sign_in(page, base_url, t.owner.email, next_path="/territories")
    await check_page(page)
    await page.click(f"#node-{sub['id']} button:has-text('Members')")
    await page.wait_for_selector(f"#members-{sub['id']}")
    await check_page(page)
    await page.click("a:has-text('Realign territories')")
    await page.wait_for_url(f"{base_url}/realignments/new")
    await check_page(page)
    await page.check("#op-merge")
    assert not await page.is_visible("#new_parent_id") and await page.is_visible("#into_id")
    await page.select_option("#territory_id", sub["id"])
    await page.select_option("#into_id", nanjing["id"])
    await page.check("#rule-reassign")
    await page.fill("#reason", "撤销吴中区，并入南京市")
    await page.click("button:has-text('Preview')")
    await page.wait_for_selector("#preview table")
    preview = await page.inner_text("#preview")
    assert "南京市" in preview and "Reassign" in preview
    await check_page(page)
    await page.click("button:has-text('Execute the realignment')")
    await page.wait_for_selector("#execute-msg .ok")
    assert "2 customers changed" in await page.inner_text("#execute-msg")
    await page.goto(f"{base_url}/territories")
    assert await page.locator(f"#node-{sub['id']}").count() == 0
    await check_page(page)
    assert errors == []
    await context.close()


async def test_every_new_page_in_chinese(client, mailbox, app, admin_db, base_url, browser):
    w = await world(client, mailbox, app)
    await set_locale(admin_db, w.manager, "zh-CN")
    # data in Latin letters (the factories' random names) would count as English left over
    for t, name in ((w.province, "江苏省"), (w.other_province, "浙江省")):
        await db_value(
            admin_db, "UPDATE territories SET name = $2 WHERE id = $1::uuid RETURNING 1", t["id"], name
        )
    named = await customer(client, w.rep, w.city["id"], full_name="苏州恒泰精密机械有限公司")
    await _below_floor(client, w, title="恒泰财务软件项目", customer_id=named["id"])
    _, content = await _gbk_with_bad_rows()
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, base_url, w.manager.email, next_path="/approvals")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/territories")
    await check_page(page, chinese=True)
    await page.click(f"#node-{w.city['id']} button >> nth=0")  # its members
    await page.wait_for_selector(f"#members-{w.city['id']}")
    await page.click(f"#node-{w.city['id']} button >> nth=2")  # move: the picker
    await page.wait_for_selector(f"#parent-{w.city['id']}")
    await page.click(f"#panel-{w.city['id']} button[type=submit]")
    await page.wait_for_selector(f"#move-preview-{w.city['id']} dl")
    await check_page(page, chinese=True)
    await page.goto(f"{base_url}/realignments/new")
    await check_page(page, chinese=True)
    await page.check("#op-split")
    await page.select_option("#territory_id", w.city["id"])
    await page.select_option("#into_id", "")
    await page.fill("#new_name", "苏州工业园区")
    await page.check("#grade-A")
    await page.fill("#reason", "园区单列")
    await page.click("form.realign button[type=submit]")
    await page.wait_for_selector("#preview .card")
    await check_page(page, chinese=True)
    territory_rows = [[*r[:6], "苏州市", *r[7:]] for r in rows(2)]
    await _import(page, app, base_url, csv_file(territory_rows, encoding="gbk"))
    await check_page(page, chinese=True)
    await _import(page, app, base_url, content)  # the refused rows' report in Chinese
    await check_page(page, chinese=True)
    await context.close()
