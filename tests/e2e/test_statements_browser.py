"""A rep's statements in real Chromium, on a phone (390×844) and a desktop (1280×800): ask for this
month's on "My statements", find it ready (sealed) with its download after the job ran, and download it.
The page passes ``check_page`` (axe-core, no sideways scroll); in zh-CN it shows no English."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.helpers import run_jobs
from tests.integration.customers.pool.support import pool_customer, team

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("device", "locale"), [("phone", "zh-CN"), ("desktop", "en")])
async def test_a_rep_asks_for_a_statement_and_downloads_it(
    client: Any, app: Any, admin_db: str, base_url: str, browser: Any, device: str, locale: str
) -> None:
    t = await team(client, admin_db, reps=1, locale=locale)
    rep = t.reps[0]
    c = await pool_customer(client, t.owner, t.territory["id"])
    assert (await client.post(f"/api/v1/customers/{c['id']}/claim", headers=rep.headers)).status_code == 200

    context = await browser.new_context(viewport=VIEWPORTS[device], accept_downloads=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base_url, rep.email)
    await page.goto(f"{base_url}/statements")
    await page.wait_for_selector("#no-statements")
    await check_page(page, chinese=locale == "zh-CN")
    await page.click("#ask-send")
    await page.wait_for_selector("#statements-list")  # HX-Redirect back to the list, the statement pending
    await run_jobs(app)
    await page.reload()
    link = page.locator("a[href$='/pdf']")
    await link.wait_for()
    await check_page(page, chinese=locale == "zh-CN")
    async with page.expect_download() as waiting:
        await link.click()
    download = await waiting.value
    path = await download.path()
    assert path is not None and (await asyncio.to_thread(Path(path).read_bytes)).startswith(b"%PDF-")
    assert errors == []
    await context.close()
