"""The public inquiry form in real Chromium: a visitor fills in a company's form (on a phone, in
Chinese, no English left, axe clean) and sends it after a few seconds → the thank-you; the lead is in
the territory's pool and the manager's notifications when they sign in. The embed loads inside an
<iframe> on another site; the hosted page refuses to be framed. The owner's settings pages for forms
and API keys pass axe too."""

from __future__ import annotations

import http.server
import threading
from typing import Any

import pytest

from tests.e2e.support import VIEWPORTS, check_page, sign_in
from tests.factories import assign, staff, territory
from tests.helpers import signup

pytestmark = pytest.mark.e2e


async def _company(client: Any, mailbox: Any, app: Any) -> tuple[Any, Any, dict[str, Any]]:
    owner = await signup(client, locale="zh-CN")
    manager = await staff(client, owner, mailbox, app, role="manager")
    east = await territory(client, owner, "华东区")
    await assign(client, owner, east["id"], manager, "manager")
    fields = [
        {"name": "contact_name", "required": True},
        {"name": "phone", "required": True},
        {"name": "message"},
    ]
    body = {
        "slug": "contact",
        "name": "联系我们",
        "fields": fields,
        "territory_id": east["id"],
        "thank_you": "谢谢您的咨询！",
    }
    r = await client.post("/api/v1/lead-forms", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    return owner, manager, east


async def test_a_visitor_sends_the_form_and_the_manager_sees_the_lead(
    app, client, mailbox, base_url, browser
):
    owner, manager, east = await _company(client, mailbox, app)
    context = await browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base_url}/f/{owner.tenant_slug}/contact?lang=zh-CN")
    await check_page(page, chinese=True)
    assert await page.locator("h1").inner_text() == "联系我们"
    box = await page.locator("input[name=website]").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0  # the honeypot is off screen
    await page.fill("#f-full_name", "嘉兴南湖精密仪器有限公司")
    await page.fill("#f-contact_name", "周女士")
    await page.fill("#f-phone", "0573-8222 6666")
    await page.fill("#f-message", "想了解进销存软件的报价")
    await page.wait_for_timeout(3300)  # a person takes a few seconds (the token's minimum fill time)
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=谢谢您的咨询！")
    await check_page(page, chinese=True)
    await context.close()

    desk = await browser.new_context(viewport=VIEWPORTS["desktop"])
    page = await desk.new_page()
    await sign_in(page, base_url, manager.email, next_path="/notifications")
    await page.wait_for_selector("text=嘉兴南湖精密仪器有限公司")
    await page.goto(f"{base_url}/pool?territory_id={east['id']}")
    await page.wait_for_selector("text=嘉兴南湖精密仪器有限公司")
    await desk.close()


async def test_the_embed_loads_in_an_iframe_elsewhere_and_the_hosted_page_does_not(
    app, client, mailbox, base_url, browser
):
    owner, _, _ = await _company(client, mailbox, app)
    context = await browser.new_context(viewport=VIEWPORTS["desktop"])
    page = await context.new_page()
    embed, hosted = (
        f"{base_url}/f/{owner.tenant_slug}/contact/embed",
        f"{base_url}/f/{owner.tenant_slug}/contact",
    )
    html = (
        f'<!doctype html><title>dealer</title><iframe id="good" src="{embed}" title="a"></iframe>'
        f'<iframe id="bad" src="{hosted}" title="b"></iframe>'
    ).encode()

    class Dealer(http.server.BaseHTTPRequestHandler):  # the dealer's own site, another origin
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Dealer)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        await page.goto(f"http://localhost:{site.server_address[1]}/")
        await page.wait_for_timeout(2000)
    finally:
        site.shutdown()
    frames = {f.url: f for f in page.frames}
    good = frames.get(embed)
    assert good is not None and await good.locator("form").count() == 1
    bad = frames.get(hosted)
    assert bad is None or await bad.locator("form").count() == 0  # refused: frame-ancestors 'none'
    await context.close()


async def test_the_owners_lead_settings_pages_pass_axe(app, client, mailbox, base_url, browser):
    owner, _, _ = await _company(client, mailbox, app)
    context = await browser.new_context(viewport=VIEWPORTS["phone"])
    page = await context.new_page()
    await sign_in(page, base_url, owner.email, next_path="/settings/api-keys")
    await check_page(page)  # (in Chinese, but it names scopes and the Authorization header as they are)
    await page.fill("#key-name", "官网")
    await page.check("input[value='leads:write']")
    await page.click("#api-keys form button[type=submit]")
    secret = await page.wait_for_selector("#new-secret")
    assert (await secret.inner_text()).startswith("acre_")
    await check_page(page)
    await page.goto(f"{base_url}/settings/forms")
    await check_page(page)
    await context.close()
