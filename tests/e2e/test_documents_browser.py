"""Documents and signatures in real Chromium, on a phone (390×844) and a desktop (1280×800): generate a
contract from a deal → the page shows the render's progress, then (the worker ran) the preview of its
pages → send it for signature → the envelope's page; a hostile template uploaded on the templates page
shows its findings at their place and nothing is stored. ``check_page`` on every page, and the pages
crawled in zh-CN with no English left."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import db_value
from tests.helpers import run_jobs
from tests.integration.signing.support import make_envelope, signer
from tests.integration.web.test_document_pages import DOCX, needs_pdf, sales
from tests.unit import docx_cases as cases

pytestmark = pytest.mark.e2e
UUID = r"[0-9a-f-]{36}"


async def first_image_shown(page) -> None:
    """The preview's first page image is in view and loaded (they load lazily)."""
    first = page.locator(".doc-pages img").first
    await first.scroll_into_view_if_needed()
    for _ in range(200):  # wait_for_function evaluates a string, which the page's CSP refuses
        if await first.evaluate("i => i.complete && i.naturalWidth > 0"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the preview's first page did not load")


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_generate_a_contract_send_it_and_a_hostile_template(
    client, app, admin_db, base_url, browser, device
):
    needs_pdf()
    s = await sales(client)
    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Refused" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    await sign_in(page, base_url, s.owner.email, next_path=f"/deals/{s.deal['id']}/documents/new")
    await check_page(page)
    await page.select_option("#kind", "contract")
    await page.select_option("#locale", "zh-CN")
    await page.click("#generate-form button[type=submit]")
    await page.wait_for_url(re.compile(rf"{base_url}/documents/{UUID}$"))
    doc_id = page.url.rsplit("/", 1)[1]
    await page.wait_for_selector("#doc-status[data-status=queued], #doc-status[data-status=rendering]")
    assert await page.locator("#doc-status progress").count() == 1
    await check_page(page)

    await run_jobs(app)  # the worker renders; the page polls and shows the result in place
    await page.wait_for_selector("#doc-status[data-status=ready]", timeout=30_000)
    await first_image_shown(page)
    assert await page.locator(".downloads a", has_text="Download PDF").count() == 1
    await check_page(page)

    await page.click("text=Send for signature")
    await page.wait_for_url(f"{base_url}/documents/{doc_id}/send")
    await check_page(page)
    party_a = signer("李雷")
    await page.fill("#signer_name_1", party_a["name"])
    await page.fill("#signer_email_1", party_a["email"])
    await page.click("#cc-add button")
    await page.wait_for_selector("#cc_name_1")
    await page.fill("#cc_name_1", "财务部")
    await page.fill("#cc_email_1", "finance@example.com")
    await check_page(page)
    await page.click("form button[type=submit]")
    await page.wait_for_url(re.compile(rf"{base_url}/envelopes/{UUID}$"))
    env_id = page.url.rsplit("/", 1)[1]
    assert "Out for signature" in await page.inner_text("#envelope-status")
    assert await page.locator("#trail li[data-event=sent]").count() >= 1
    await check_page(page)

    await page.goto(f"{base_url}/envelopes")
    assert await page.locator(f"a[href='/envelopes/{env_id}']").count() == 1
    await check_page(page)
    await page.goto(f"{base_url}/documents")
    assert await page.locator(f"a[href='/documents/{doc_id}']").count() == 1
    await check_page(page)

    await page.goto(f"{base_url}/settings/templates")
    hostile = cases.docx_with(["合同编号：{{ contract.number }}", "甲方：{{ party_a.__class__ }}"])
    await page.set_input_files(
        "#upload-file", files=[{"name": "合同模板.docx", "mimeType": DOCX, "buffer": hostile}]
    )
    await page.click("#upload-form button[type=submit]")
    await page.wait_for_selector("#upload-result .findings li")
    findings = await page.inner_text("#upload-result")
    assert "was not stored" in findings and "Body, paragraph 2" in findings
    await check_page(page)
    stored = "SELECT count(*) FROM document_templates WHERE tenant = $1::uuid"
    assert await db_value(admin_db, stored, s.owner.tenant_id) == 0
    assert errors == []
    await context.close()


async def test_the_documents_pages_in_chinese(client, app, admin_db, base_url, browser):
    needs_pdf()
    s = await sales(client, locale="zh-CN")
    await db_value(
        admin_db, "UPDATE users SET name = '王总' WHERE id = $1::uuid RETURNING id", s.owner.user_id
    )
    r = await client.post(
        "/api/v1/documents",
        json={
            "kind": "contract",
            "subject_type": "deal",
            "subject_id": s.deal["id"],
            "locale": "zh-CN",
            "idempotency_key": "zh-crawl",
        },
        headers=s.owner.headers,
    )
    assert r.status_code == 202, r.text
    doc_id = r.json()["id"]
    await run_jobs(app)
    env = await make_envelope(client, s.owner, doc_id, [signer("李雷")])

    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, base_url, s.owner.email, next_path="/documents")
    for path in (
        "/documents",
        f"/deals/{s.deal['id']}/documents/new",
        f"/customers/{s.customer['id']}/documents/new",
        f"/documents/{doc_id}",
        f"/documents/{doc_id}/send",
        f"/envelopes/{env['id']}",
        "/envelopes",
        "/envelopes?view=team",
        "/settings/templates",
    ):
        await page.goto(f"{base_url}{path}")
        if path == f"/documents/{doc_id}":
            await first_image_shown(page)
        await check_page(page, chinese=True)
    await page.set_input_files(
        "#upload-file", files=[{"name": "合同模板.docx", "mimeType": DOCX, "buffer": b"%PDF-1.4 not a docx"}]
    )
    await page.click("#upload-form button[type=submit]")
    await page.wait_for_selector("#upload-result .findings li")
    assert "未保存" in await page.inner_text("#upload-result")
    await check_page(page, chinese=True)
    await context.close()
